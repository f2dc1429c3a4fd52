//! The process itself: no core dumps, and temp files removed when a signal ends it.

use tokio::signal::unix::{signal, SignalKind};

/// Turns off core dumps: RLIMIT_CORE 0 (soft and hard) and not dumpable (which also keeps
/// other processes of the same user from reading this one's memory through ptrace or
/// /proc/PID/mem). A core file would hold data keys and plaintext.
pub(crate) fn no_core_dumps() -> Result<(), String> {
    use rustix::process::{set_dumpable_behavior, setrlimit, DumpableBehavior, Resource, Rlimit};
    setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )
    .map_err(|e| format!("cannot turn off core dumps (RLIMIT_CORE): {e}"))?;
    set_dumpable_behavior(DumpableBehavior::NotDumpable)
        .map_err(|e| format!("cannot turn off core dumps (PR_SET_DUMPABLE): {e}"))
}

/// Installs handlers for SIGINT, SIGTERM, SIGHUP and SIGQUIT that remove every live temp
/// file and exit with 128 + the signal's number (130, 143, 129, 131), as a shell reports a
/// process killed by it. (SIGQUIT would dump core, which is off anyway.) Call inside the
/// runtime.
pub(crate) fn remove_temp_files_on_signals() -> Result<(), String> {
    for (kind, code) in [
        (SignalKind::interrupt(), 130),
        (SignalKind::terminate(), 143),
        (SignalKind::hangup(), 129),
        (SignalKind::quit(), 131),
    ] {
        let mut s = signal(kind).map_err(|e| format!("cannot handle signals: {e}"))?;
        tokio::spawn(async move {
            if s.recv().await.is_some() {
                crate::temp::remove_all_and_exit(code);
            }
        });
    }
    Ok(())
}
