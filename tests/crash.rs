//! Crash safety of the `kms` binary: `kill -9` of `encrypt`, `decrypt` and `rewrap` at random
//! moments in the middle of a large file, many times, with the aead backend (no AWS).
//!
//! Every kill counted here is proven to have landed mid-operation:
//! - pipe kills feed the input through stdin in chunks and never close it, so the process
//!   cannot have finished; it has consumed all but at most one pipe buffer of what was
//!   written, its temp file exists, and the temp file is still there after the kill (so the
//!   rename never happened);
//! - file kills wait until the temp file appears in the target's directory, sleep a random
//!   part of the measured time an uninterrupted run spends after that point, and kill; a kill
//!   counts only when the process died of SIGKILL *and* its temp file is left behind (killed
//!   before the rename). Kills that missed (the process had finished) are retried.
//!
//! After every kill: the target is absent, byte-identical to its previous version, or a
//! complete new version that decrypts to the original; the input is byte-identical; the temp
//! file left behind matches `.NAME.kms-tmp-XXXXXX` and holds only what it should.
//!
//! Set `KMS_CRASH_SEED=N` to replay a run (each test prints its seed).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::collections::BTreeSet;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use support::{aead_config, kms, run_ok, wait_bounded, HANG};

const KEY_OLD: &str = support::KEY_A;
const KEY_NEW: &str = support::KEY_B;
/// The temp-file marker of crates/kms-cli/src/io.rs (`.NAME.kms-tmp-XXXXXX`).
const TEMP_MARKER: &str = ".kms-tmp-";
/// Proven mid-operation kills per command and method.
const PIPE_KILLS: usize = 10;
const FILE_KILLS: usize = 10;
const REWRAP_KILLS: usize = 20;
/// Attempts allowed per proven file kill before the test gives up.
const MAX_ATTEMPTS_PER_KILL: usize = 6;
/// The large file for file kills, and the input fed through a pipe.
const LARGE: usize = 32 << 20;
const PIPED: usize = 12 << 20;
const CHUNK: usize = 256 << 10;

// ---------------------------------------------------------------------------------------
// Helpers

/// xorshift64*: reproducible randomness without a dependency.
struct Rng(u64);

impl Rng {
    fn new(label: &str) -> Rng {
        let seed = std::env::var("KMS_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("{label}: seed {seed} (set KMS_CRASH_SEED={seed} to replay)");
        let mut h = seed ^ 0x9E37_79B9_7F4A_7C15;
        for b in label.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        Rng(h | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
}

/// `len` pseudo-random bytes (incompressible, distinct per seed).
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut r = Rng(seed | 1);
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        v.extend_from_slice(&r.next().to_le_bytes());
    }
    v.truncate(len);
    v
}

/// Temp files for `target_name` in `dir`.
fn temps(dir: &Path, target_name: &str) -> BTreeSet<String> {
    let prefix = format!(".{target_name}{TEMP_MARKER}");
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix))
        .collect()
}

/// Every file in `dir` whose name carries the temp marker, for any target.
fn all_temps(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(TEMP_MARKER))
        .collect()
}

/// The documented name: `.NAME.kms-tmp-XXXXXX`, six random alphanumerics.
fn assert_temp_name(name: &str, target_name: &str) {
    let prefix = format!(".{target_name}{TEMP_MARKER}");
    let rest = name
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("temp {name:?} does not start with {prefix:?}"));
    assert!(
        rest.len() == 6 && rest.bytes().all(|b| b.is_ascii_alphanumeric()),
        "temp {name:?} does not end in six random alphanumerics"
    );
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// How a killed (or not) run ended.
#[derive(Debug, PartialEq, Eq)]
enum Landed {
    /// Died of SIGKILL with its temp file left behind: killed before the rename.
    BeforeRename(String),
    /// Died of SIGKILL after its temp file was renamed (e.g. during the directory fsync).
    AfterRename,
    /// Exited by itself (successfully) before the kill arrived.
    Missed,
}

/// What the new temp files after a run say about it.
fn classify(status: ExitStatus, left: BTreeSet<String>, what: &str) -> Landed {
    assert!(
        left.len() <= 1,
        "{what}: one run left several temp files: {left:?}"
    );
    match status.signal() {
        Some(9) => match left.into_iter().next() {
            Some(t) => Landed::BeforeRename(t),
            None => Landed::AfterRename,
        },
        Some(s) => panic!("{what}: died of signal {s}, not SIGKILL"),
        None => {
            assert!(status.success(), "{what}: exited {status:?} unkilled");
            assert!(
                left.is_empty(),
                "{what}: a successful run left a temp file: {left:?}"
            );
            Landed::Missed
        }
    }
}

/// Spawns `cmd`, waits for a new temp file for `target_name` in `dir`, sleeps `delay` and
/// kills it (`delay = None`: never kills; returns the time from the temp file's appearance to
/// the exit). The command's stderr goes to `err_log`.
fn run_and_kill_after_temp(
    cmd: &mut Command,
    dir: &Path,
    target_name: &str,
    known: &BTreeSet<String>,
    delay: Option<Duration>,
    err_log: &Path,
    what: &str,
) -> (Landed, Duration) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(File::create(err_log).unwrap())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut seen_at = None;
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if seen_at.is_none() && temps(dir, target_name).difference(known).next().is_some() {
            seen_at = Some(Instant::now());
            if let Some(d) = delay {
                std::thread::sleep(d);
                // Kills the process, or nothing if it has exited but is not yet reaped.
                child.kill().unwrap();
                break;
            }
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {HANG:?}");
        }
        std::thread::yield_now();
    }
    let status = wait_bounded(&mut child, what);
    let after = seen_at.map_or(Duration::ZERO, |t| t.elapsed());
    let left: BTreeSet<String> = temps(dir, target_name).difference(known).cloned().collect();
    if status.signal().is_none() && !status.success() {
        panic!(
            "{what}: failed by itself: {}",
            fs::read_to_string(err_log).unwrap_or_default()
        );
    }
    (classify(status, left, what), after)
}

#[allow(clippy::too_many_arguments)]
/// Spawns `cmd` reading stdin, writes the first `upto` bytes of `input` in chunks with short
/// pauses, never closes stdin, waits for the temp file and kills the process. Returns the temp
/// file left behind, which proves the kill came before the rename.
fn pipe_and_kill(
    cmd: &mut Command,
    input: &[u8],
    upto: usize,
    dir: &Path,
    target_name: &str,
    known: &BTreeSet<String>,
    err_log: &Path,
    what: &str,
) -> String {
    assert!(upto > CHUNK && upto <= input.len());
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(File::create(err_log).unwrap())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for chunk in input[..upto].chunks(CHUNK) {
        if let Err(e) = stdin.write_all(chunk) {
            let _ = child.kill();
            let status = child.wait().unwrap();
            panic!(
                "{what}: the process stopped reading ({e}; {status:?}): {}",
                fs::read_to_string(err_log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    // At least `upto - pipe buffer` bytes were consumed: the process is past opening its
    // output; it cannot finish without EOF, which it never gets.
    let start = Instant::now();
    while temps(dir, target_name).difference(known).next().is_none() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "{what}: exited without EOF on stdin: {}",
            fs::read_to_string(err_log).unwrap_or_default()
        );
        assert!(start.elapsed() < HANG, "{what}: no temp file appeared");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "{what}: exited without EOF on stdin"
    );
    child.kill().unwrap();
    let status = wait_bounded(&mut child, what);
    drop(stdin);
    let left: BTreeSet<String> = temps(dir, target_name).difference(known).cloned().collect();
    match classify(status, left, what) {
        Landed::BeforeRename(t) => t,
        other => panic!("{what}: a pipe kill must land before the rename, got {other:?}"),
    }
}

struct Setup {
    scratch: support::Scratch,
    rng: Rng,
}

impl std::ops::Deref for Setup {
    type Target = support::Scratch;
    fn deref(&self) -> &support::Scratch {
        &self.scratch
    }
}

impl Setup {
    fn new(label: &str) -> Setup {
        let s = Setup {
            scratch: support::Scratch::new(),
            rng: Rng::new(label),
        };
        s.write("old.hcl", aead_config(&[("root", KEY_OLD, "old")]));
        s.write("new.hcl", aead_config(&[("root", KEY_NEW, "new")]));
        s.write(
            "both.hcl",
            aead_config(&[("root", KEY_NEW, "new"), ("previous-root", KEY_OLD, "old")]),
        );
        s
    }
    fn read(&self, name: &str) -> Option<Vec<u8>> {
        match fs::read(self.path(name)) {
            Ok(b) => Some(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => panic!("{name}: {e}"),
        }
    }
    /// Decrypts `name` with `cfg` (to stdout) and returns the plaintext.
    fn decrypt(&self, cfg: &str, name: &str) -> Vec<u8> {
        run_ok(
            kms().args(["decrypt", "-c", &self.p(cfg), &self.p(name)]),
            &format!("decrypt {name} with {cfg}"),
        )
    }
    /// A random delay up to 90% of `window`.
    fn delay(&mut self, window: Duration) -> Duration {
        Duration::from_micros(self.rng.below(window.as_micros() as u64 * 9 / 10))
    }
}

/// Counts of one command's kills, for the summary line.
#[derive(Default)]
struct Tally {
    before_rename: usize,
    after_rename: usize,
    missed: usize,
    largest_temp: u64,
}

impl Tally {
    fn attempts(&self) -> usize {
        self.before_rename + self.after_rename + self.missed
    }
}

// ---------------------------------------------------------------------------------------
// encrypt

/// Checks a ciphertext target after a kill: absent (when it was), byte-identical to its
/// previous version, or a complete new file that decrypts to `plain`.
fn check_encrypt_target(s: &Setup, target: &str, prev: Option<&[u8]>, plain: &[u8], what: &str) {
    match (s.read(target), prev) {
        (None, None) => {}
        (None, Some(_)) => panic!("{what}: the previous {target} vanished"),
        (Some(now), Some(p)) if now == p => {}
        (Some(_), _) => assert!(
            s.decrypt("old.hcl", target) == plain,
            "{what}: {target} is neither the previous version nor a complete new one"
        ),
    }
}

/// A partial ciphertext left in a temp file: private, and starting with the stream header.
fn check_encrypt_temp(s: &Setup, temp: &str, target: &str, magic: &[u8], tally: &mut Tally) {
    assert_temp_name(temp, target);
    let p = s.path(temp);
    assert_eq!(mode(&p), 0o600, "{temp}: temp files are private");
    let bytes = fs::read(&p).unwrap();
    tally.largest_temp = tally.largest_temp.max(bytes.len() as u64);
    if bytes.len() >= magic.len() {
        assert_eq!(&bytes[..magic.len()], magic, "{temp}: not a kms stream");
    }
}

#[test]
fn kill_9_during_encrypt_never_leaves_a_partial_target() {
    let mut s = Setup::new("encrypt");
    let cfg = s.p("old.hcl");
    let plain = data(LARGE, 1);
    let input = s.write("plain.bin", &plain);
    // A previous version of the target (another plaintext), and the stream magic.
    let small = s.write("small.bin", data(100_000, 2));
    run_ok(
        kms().args(["encrypt", "-c", &cfg, "-o", &s.p("prev.kms"), &small]),
        "encrypt prev",
    );
    let prev = s.read("prev.kms").unwrap();
    let magic = prev[..8].to_vec();
    let err_log = s.path("kms.err");
    let mut known = BTreeSet::new();
    let mut tally = Tally::default();
    let target = "out.kms";

    // Pipe kills: `kms encrypt -o out.kms -` fed slowly, never given EOF.
    let piped = &plain[..PIPED];
    for i in 0..PIPE_KILLS {
        let with_prev = i % 2 == 0;
        if with_prev {
            s.write(target, &prev);
        } else {
            let _ = fs::remove_file(s.path(target));
        }
        let upto = CHUNK + 1 + s.rng.below((PIPED - CHUNK - 1) as u64) as usize;
        let what = format!("encrypt pipe kill {i} after {upto} bytes");
        let temp = pipe_and_kill(
            kms().args(["encrypt", "-c", &cfg, "-o", &s.p(target), "-"]),
            piped,
            upto,
            s.dir.path(),
            target,
            &known,
            &err_log,
            &what,
        );
        tally.before_rename += 1;
        // Killed before the rename: the target is exactly what it was.
        assert_eq!(
            s.read(target).as_deref(),
            with_prev.then_some(&prev[..]),
            "{what}: the target changed"
        );
        check_encrypt_temp(&s, &temp, target, &magic, &mut tally);
        known.insert(temp);
    }

    // File kills: `kms encrypt -o out.kms plain.bin`, killed a random time after its temp
    // file appears. An uninterrupted run measures how long that phase lasts.
    let _ = fs::remove_file(s.path(target));
    let (landed, baseline) = run_and_kill_after_temp(
        kms().args(["encrypt", "-c", &cfg, "-o", &s.p(target), &input]),
        s.dir.path(),
        target,
        &known,
        None,
        &err_log,
        "encrypt baseline",
    );
    assert_eq!(landed, Landed::Missed);
    assert_eq!(s.decrypt("old.hcl", target), plain);
    eprintln!("encrypt: {baseline:?} from temp file to exit, uninterrupted");
    // The kill delay adapts: halved after a miss, grown again after a hit.
    let mut window = baseline;
    let mut proven = 0;
    let mut i = 0;
    while proven < FILE_KILLS {
        i += 1;
        assert!(
            i <= FILE_KILLS * MAX_ATTEMPTS_PER_KILL,
            "encrypt: only {proven} of {i} file kills landed mid-operation"
        );
        let with_prev = i % 2 == 0;
        if with_prev {
            s.write(target, &prev);
        } else {
            let _ = fs::remove_file(s.path(target));
        }
        let delay = s.delay(window);
        let mut cmd = kms();
        cmd.args(["encrypt", "-c", &cfg, "-o", &s.p(target), &input]);
        if s.rng.below(2) == 0 {
            cmd.arg("--sync");
        }
        let what = format!("encrypt file kill {i} after {delay:?}");
        let (landed, _) = run_and_kill_after_temp(
            &mut cmd,
            s.dir.path(),
            target,
            &known,
            Some(delay),
            &err_log,
            &what,
        );
        assert!(
            s.read("plain.bin").unwrap() == plain,
            "{what}: the input was damaged"
        );
        let prev_opt = with_prev.then_some(&prev[..]);
        check_encrypt_target(&s, target, prev_opt, &plain, &what);
        match landed {
            Landed::BeforeRename(temp) => {
                proven += 1;
                tally.before_rename += 1;
                window = (window * 5 / 4).min(baseline);
                assert_eq!(
                    s.read(target).as_deref(),
                    prev_opt,
                    "{what}: killed before the rename, yet the target changed"
                );
                check_encrypt_temp(&s, &temp, target, &magic, &mut tally);
                known.insert(temp);
            }
            Landed::AfterRename => {
                tally.after_rename += 1;
                window /= 2;
            }
            Landed::Missed => {
                tally.missed += 1;
                window /= 2;
            }
        }
    }
    assert!(
        tally.largest_temp > 0,
        "no kill caught partial ciphertext on disk"
    );
    eprintln!(
        "encrypt: {} kills, {} landed before the rename ({PIPE_KILLS} by pipe), {} after it, {} missed; largest partial temp file {} bytes",
        tally.attempts(),
        tally.before_rename,
        tally.after_rename,
        tally.missed,
        tally.largest_temp
    );
    stale_temps_stay_until_deleted(&s, target, &known, || {
        run_ok(
            kms().args(["encrypt", "-c", &cfg, "-o", &s.p(target), &input]),
            "encrypt after the kills",
        );
        assert_eq!(s.decrypt("old.hcl", target), plain);
    });
}

// ---------------------------------------------------------------------------------------
// decrypt

fn check_decrypt_temp(s: &Setup, temp: &str, target: &str, plain: &[u8], tally: &mut Tally) {
    assert_temp_name(temp, target);
    let p = s.path(temp);
    assert_eq!(
        mode(&p),
        0o600,
        "{temp}: a temp file of partial plaintext is private"
    );
    let bytes = fs::read(&p).unwrap();
    tally.largest_temp = tally.largest_temp.max(bytes.len() as u64);
    assert!(
        bytes.len() <= plain.len() && bytes[..] == plain[..bytes.len()],
        "{temp}: holds {} bytes that are not a prefix of the plaintext",
        bytes.len()
    );
}

#[test]
fn kill_9_during_decrypt_never_leaves_a_partial_target() {
    let mut s = Setup::new("decrypt");
    let cfg = s.p("old.hcl");
    let plain = data(LARGE, 3);
    let input = s.write("plain.bin", &plain);
    run_ok(
        kms().args(["encrypt", "-c", &cfg, "-o", &s.p("in.kms"), &input]),
        "encrypt the input",
    );
    fs::remove_file(s.path("plain.bin")).unwrap();
    let ct = s.read("in.kms").unwrap();
    let ct_in = s.p("in.kms");
    // The ciphertext of the piped prefix only.
    let piped_plain = plain[..PIPED].to_vec();
    let small = s.write("piped.bin", &piped_plain);
    run_ok(
        kms().args(["encrypt", "-c", &cfg, "-o", &s.p("piped.kms"), &small]),
        "encrypt the piped input",
    );
    fs::remove_file(s.path("piped.bin")).unwrap();
    let piped_ct = s.read("piped.kms").unwrap();
    let prev = b"the previous version of the output, complete".to_vec();
    let err_log = s.path("kms.err");
    let mut known = BTreeSet::new();
    let mut tally = Tally::default();
    let target = "out.bin";

    for i in 0..PIPE_KILLS {
        let with_prev = i % 2 == 0;
        if with_prev {
            s.write(target, &prev);
        } else {
            let _ = fs::remove_file(s.path(target));
        }
        let upto = CHUNK + 1 + s.rng.below((piped_ct.len() - CHUNK - 1) as u64) as usize;
        let what = format!("decrypt pipe kill {i} after {upto} bytes");
        let temp = pipe_and_kill(
            kms().args(["decrypt", "-c", &cfg, "-o", &s.p(target), "-"]),
            &piped_ct,
            upto,
            s.dir.path(),
            target,
            &known,
            &err_log,
            &what,
        );
        tally.before_rename += 1;
        assert_eq!(
            s.read(target).as_deref(),
            with_prev.then_some(&prev[..]),
            "{what}: the target changed"
        );
        check_decrypt_temp(&s, &temp, target, &piped_plain, &mut tally);
        known.insert(temp);
    }

    let _ = fs::remove_file(s.path(target));
    let (landed, baseline) = run_and_kill_after_temp(
        kms().args(["decrypt", "-c", &cfg, "-o", &s.p(target), &ct_in]),
        s.dir.path(),
        target,
        &known,
        None,
        &err_log,
        "decrypt baseline",
    );
    assert_eq!(landed, Landed::Missed);
    assert!(s.read(target).unwrap() == plain, "decrypt baseline output");
    assert_eq!(mode(&s.path(target)), 0o600);
    eprintln!("decrypt: {baseline:?} from temp file to exit, uninterrupted");
    // The kill delay adapts: halved after a miss, grown again after a hit.
    let mut window = baseline;
    let mut proven = 0;
    let mut i = 0;
    while proven < FILE_KILLS {
        i += 1;
        assert!(
            i <= FILE_KILLS * MAX_ATTEMPTS_PER_KILL,
            "decrypt: only {proven} of {i} file kills landed mid-operation"
        );
        let with_prev = i % 2 == 0;
        if with_prev {
            s.write(target, &prev);
        } else {
            let _ = fs::remove_file(s.path(target));
        }
        let delay = s.delay(window);
        let mut cmd = kms();
        cmd.args(["decrypt", "-c", &cfg, "-o", &s.p(target), &ct_in]);
        if s.rng.below(2) == 0 {
            cmd.arg("--sync");
        }
        let what = format!("decrypt file kill {i} after {delay:?}");
        let (landed, _) = run_and_kill_after_temp(
            &mut cmd,
            s.dir.path(),
            target,
            &known,
            Some(delay),
            &err_log,
            &what,
        );
        assert!(
            s.read("in.kms").unwrap() == ct,
            "{what}: the input was damaged"
        );
        let prev_opt = with_prev.then_some(&prev[..]);
        match s.read(target) {
            None => assert!(!with_prev, "{what}: the previous output vanished"),
            Some(now) => assert!(
                Some(&now[..]) == prev_opt || now == plain,
                "{what}: the target is neither the previous version nor the whole plaintext ({} bytes)",
                now.len()
            ),
        }
        match landed {
            Landed::BeforeRename(temp) => {
                proven += 1;
                tally.before_rename += 1;
                window = (window * 5 / 4).min(baseline);
                assert_eq!(
                    s.read(target).as_deref(),
                    prev_opt,
                    "{what}: killed before the rename, yet the target changed"
                );
                check_decrypt_temp(&s, &temp, target, &plain, &mut tally);
                known.insert(temp);
            }
            Landed::AfterRename => {
                tally.after_rename += 1;
                window /= 2;
            }
            Landed::Missed => {
                tally.missed += 1;
                window /= 2;
            }
        }
    }
    assert!(
        tally.largest_temp > 0,
        "no kill caught partial plaintext on disk"
    );
    eprintln!(
        "decrypt: {} kills, {} landed before the rename ({PIPE_KILLS} by pipe), {} after it, {} missed; largest partial temp file {} bytes",
        tally.attempts(),
        tally.before_rename,
        tally.after_rename,
        tally.missed,
        tally.largest_temp
    );
    stale_temps_stay_until_deleted(&s, target, &known, || {
        run_ok(
            kms().args(["decrypt", "-c", &cfg, "-o", &s.p(target), &ct_in]),
            "decrypt after the kills",
        );
        assert!(s.read(target).unwrap() == plain);
    });
}

// ---------------------------------------------------------------------------------------
// rewrap

#[test]
fn kill_9_during_rewrap_leaves_the_old_file_or_the_complete_new_one() {
    let mut s = Setup::new("rewrap");
    let plain = data(LARGE, 4);
    let input = s.write("plain.bin", &plain);
    let target = "data.kms";
    run_ok(
        kms().args(["encrypt", "-c", &s.p("old.hcl"), "-o", &s.p(target), &input]),
        "encrypt under the old key",
    );
    fs::remove_file(s.path("plain.bin")).unwrap();
    let pristine = s.read(target).unwrap();
    let both = s.p("both.hcl");
    let err_log = s.path("kms.err");
    let restore = |s: &Setup| {
        if s.read(target).as_deref() != Some(&pristine[..]) {
            s.write(target, &pristine);
        }
        fs::set_permissions(s.path(target), fs::Permissions::from_mode(0o640)).unwrap();
    };
    let header_len = |s: &Setup, name: &str| -> usize {
        let out = run_ok(
            kms().args(["inspect", "--json", &s.p(name)]),
            "inspect --json",
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        v["header_bytes"].as_u64().unwrap() as usize
    };
    let old_header = header_len(&s, target);
    let body = pristine[old_header..].to_vec();

    // An uninterrupted rewrap: the new file is a new header and the same body.
    restore(&s);
    let known = BTreeSet::new();
    let (landed, baseline) = run_and_kill_after_temp(
        kms().args(["rewrap", "-c", &both, &s.p(target)]),
        s.dir.path(),
        target,
        &known,
        None,
        &err_log,
        "rewrap baseline",
    );
    assert_eq!(landed, Landed::Missed);
    let new_header = header_len(&s, target);
    let rewrapped = s.read(target).unwrap();
    assert_eq!(rewrapped.len(), new_header + body.len());
    assert!(
        rewrapped[new_header..] == body[..],
        "rewrap changed the body"
    );
    assert_eq!(mode(&s.path(target)), 0o640, "rewrap keeps the mode");
    assert!(s.decrypt("new.hcl", target) == plain);
    eprintln!("rewrap: {baseline:?} from temp file to exit, uninterrupted");
    // The kill delay adapts: halved after a miss, grown again after a hit.
    let mut window = baseline;

    let mut known = known;
    let mut tally = Tally::default();
    let mut i = 0;
    while tally.before_rename < REWRAP_KILLS {
        i += 1;
        assert!(
            i <= REWRAP_KILLS * MAX_ATTEMPTS_PER_KILL,
            "rewrap: only {} of {i} kills landed mid-operation",
            tally.before_rename
        );
        restore(&s);
        let delay = s.delay(window);
        let what = format!("rewrap kill {i} after {delay:?}");
        let (landed, _) = run_and_kill_after_temp(
            kms().args(["rewrap", "-c", &both, &s.p(target)]),
            s.dir.path(),
            target,
            &known,
            Some(delay),
            &err_log,
            &what,
        );
        let now = s.read(target).expect("the rewrapped file vanished");
        if now != pristine {
            // Then it must be complete, under the new key, with the same plaintext.
            assert!(
                s.decrypt("new.hcl", target) == plain,
                "{what}: neither the old file nor a complete new one"
            );
            assert_eq!(now.len(), new_header + body.len(), "{what}");
            assert_eq!(mode(&s.path(target)), 0o640, "{what}: mode changed");
        }
        match landed {
            Landed::BeforeRename(temp) => {
                tally.before_rename += 1;
                window = (window * 5 / 4).min(baseline);
                assert!(
                    now == pristine,
                    "{what}: killed before the rename, yet the file changed"
                );
                assert_temp_name(&temp, target);
                let t = fs::read(s.path(&temp)).unwrap();
                tally.largest_temp = tally.largest_temp.max(t.len() as u64);
                // A prefix of the new file: some header bytes, then the body copied verbatim.
                assert!(t.len() <= new_header + body.len(), "{what}: temp too long");
                if t.len() > new_header {
                    assert!(
                        t[new_header..] == body[..t.len() - new_header],
                        "{what}: the temp file's body is not the original body"
                    );
                }
                let m = mode(&s.path(&temp));
                assert!(
                    m == 0o600 || m == 0o640,
                    "{what}: temp mode {m:o} is neither 0600 nor the file's 0640"
                );
                known.insert(temp);
            }
            Landed::AfterRename => {
                tally.after_rename += 1;
                window /= 2;
            }
            Landed::Missed => {
                tally.missed += 1;
                window /= 2;
            }
        }
    }
    assert!(
        tally.largest_temp > new_header as u64,
        "no kill caught a partial body copy on disk"
    );
    eprintln!(
        "rewrap: {} kills, {} landed before the rename, {} after it, {} missed; largest partial temp file {} bytes",
        tally.attempts(),
        tally.before_rename,
        tally.after_rename,
        tally.missed,
        tally.largest_temp
    );
    // `rewrap -r` does not rewrap the stale temp files, but reports each of them as left
    // (one of an interrupted rewrap is a kms file under the old key), so it exits 1.
    restore(&s);
    let o = kms()
        .args(["rewrap", "-c", &both, "-r", &s.p("")])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "rewrap -r after the kills");
    let out = String::from_utf8(o.stdout).unwrap();
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(
        !out.contains(TEMP_MARKER),
        "rewrap -r touched temp files: {out}"
    );
    for temp in &known {
        assert!(
            err.lines()
                .any(|l| l.contains(temp.as_str()) && l.contains("interrupted kms run")),
            "{temp} not reported: {err}"
        );
    }
    assert!(out.contains("old -> new"), "{out}");
    assert!(s.decrypt("new.hcl", target) == plain);
    stale_temps_stay_until_deleted(&s, target, &known, || {
        restore(&s);
        run_ok(
            kms().args(["rewrap", "-c", &both, &s.p(target)]),
            "rewrap after the kills",
        );
        assert!(s.decrypt("new.hcl", target) == plain);
    });
}

/// SECURITY.md: "A crash can leave a temp file named `.NAME.kms-tmp-XXXXXX`; it holds
/// ciphertext (encrypt, rewrap) or partial plaintext (decrypt) and may be deleted." kms does
/// not clean them up itself: a later successful run on the same target leaves them, and
/// deleting them by hand leaves the directory clean.
fn stale_temps_stay_until_deleted(
    s: &Setup,
    target: &str,
    known: &BTreeSet<String>,
    next_run: impl FnOnce(),
) {
    assert!(!known.is_empty(), "no kill left a temp file");
    assert_eq!(
        &temps(s.dir.path(), target),
        known,
        "exactly the killed runs' temp files are left"
    );
    next_run();
    let after = temps(s.dir.path(), target);
    assert_eq!(
        &after, known,
        "the next run changed the stale temp files (SECURITY.md says they stay until deleted)"
    );
    eprintln!(
        "{target}: {} stale temp files left by kills; the next successful run leaves them in place",
        after.len()
    );
    for t in known {
        fs::remove_file(s.path(t)).unwrap();
    }
    assert!(all_temps(s.dir.path()).is_empty());
    assert!(s.read(target).is_some());
}
