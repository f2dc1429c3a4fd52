//! Command-line syntax.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::examples;

/// Encrypt and decrypt data with the keys named in Boundary-style `kms` stanzas.
///
/// Exit codes: 0 ok, 1 the operation failed (wrong key, tampered or truncated data, KMS
/// error), 2 usage or configuration error.
#[derive(Debug, Parser)]
#[command(
    name = "kms",
    version,
    about,
    long_about = None,
    max_term_width = 100,
    after_help = examples::KMS
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print a fresh random key, base64, for an aead stanza's `key` (256 bits by default).
    #[command(after_help = examples::KEYGEN)]
    Keygen(KeygenArgs),
    /// Encrypt a file or stdin into the kms stream format.
    #[command(after_help = examples::ENCRYPT)]
    Encrypt(EncryptArgs),
    /// Decrypt a kms stream file or a go-kms-wrapping BlobInfo value.
    #[command(after_help = examples::DECRYPT)]
    Decrypt(DecryptArgs),
    /// Show what a ciphertext says (format, backend, key ids, sizes) without any key.
    #[command(after_help = examples::INSPECT)]
    Inspect(InspectArgs),
    /// Validate a config; online (default) also verifies each key with its backend.
    #[command(after_help = examples::CHECK)]
    Check(CheckArgs),
    /// Put files under the current key of a purpose, in place and atomically.
    #[command(after_help = examples::REWRAP)]
    Rewrap(RewrapArgs),
    /// Remove the temp files (.NAME.kms-tmp-XXXXXX) a killed kms left behind, under each PATH.
    #[command(after_help = examples::CLEAN)]
    Clean(CleanArgs),
    /// Protect values inside config files with {{encrypt(..)}} / {{decrypt(..)}} markers.
    #[command(subcommand, after_help = examples::CONFIG)]
    Config(ConfigCommand),
    /// Print a shell completion script: `kms completions bash > /etc/bash_completion.d/kms`.
    #[command(after_help = examples::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Write man pages for kms and each subcommand into DIR (used by `cargo xtask man`).
    #[command(hide = true)]
    Man(ManArgs),
}

impl Command {
    /// Whether the run reports through one JSON object on stdout, failures included.
    pub(crate) fn json(&self) -> bool {
        match self {
            Command::Encrypt(a) => a.json,
            Command::Decrypt(a) => a.json,
            Command::Inspect(a) => a.json,
            Command::Check(a) => a.json,
            Command::Rewrap(a) => a.json,
            _ => false,
        }
    }
}

#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// The directory to write `kms.1` and `kms-SUBCOMMAND.1` into (created when missing).
    #[arg(value_name = "DIR")]
    pub(crate) dir: PathBuf,
}

/// `kms --version`: the version, the backends compiled in and the AES-GCM provider.
pub(crate) fn long_version() -> String {
    let backends: Vec<String> = kms::backends()
        .iter()
        .map(|f| f.schema().kind.to_string())
        .collect();
    format!(
        "{} (backends: {}; AES-GCM: {})",
        env!("CARGO_PKG_VERSION"),
        backends.join(", "),
        kms::core::cipher::PROVIDER
    )
}

/// The command line, with [`long_version`].
pub(crate) fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().version(long_version())
}

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The key size: AES-128, -192 or -256, all of which Boundary's aead stanza accepts.
    #[arg(long, default_value = "256", value_parser = ["128", "192", "256"])]
    pub(crate) bits: String,
}

#[derive(Debug, Args)]
pub(crate) struct ConfigArg {
    /// The HCL (or .json) file with the kms stanzas.
    #[arg(
        short = 'c',
        long = "config",
        env = "KMS_CONFIG",
        value_name = "CONFIG"
    )]
    pub(crate) config: PathBuf,
    /// A file whose config-purpose stanza decrypts {{decrypt(..)}} values inside CONFIG
    /// before it is used (Boundary's -config-kms).
    #[arg(long = "config-kms", value_name = "FILE")]
    pub(crate) config_kms: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct OutputArgs {
    /// Write here instead of stdout; an existing file is replaced atomically (through a
    /// symbolic link: its target is replaced and the link kept); a device or FIFO is written
    /// into. Refused when it is the input, a directory or a socket.
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub(crate) output: Option<PathBuf>,
    /// fsync the output file and its directory before reporting success.
    #[arg(long)]
    pub(crate) sync: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub(crate) quiet: bool,
}

#[derive(Debug, Args)]
pub(crate) struct EncryptArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArg,
    /// The purpose whose key encrypts.
    #[arg(long, default_value = "root", value_parser = parse_purpose)]
    pub(crate) purpose: kms::Purpose,
    /// Also wrap the data key under the key of this purpose (repeatable): any one of the keys
    /// then decrypts, e.g. `--also recovery` for a second key in another region.
    #[arg(long, value_name = "PURPOSE", value_parser = parse_purpose)]
    pub(crate) also: Vec<kms::Purpose>,
    /// Additional authenticated data; the same text is needed to decrypt.
    #[arg(long, value_name = "TEXT")]
    pub(crate) aad: Option<String>,
    /// Write a go-kms-wrapping BlobInfo value (what Boundary holds, e.g. in {{decrypt(..)}})
    /// instead of a stream: base64url text without padding, as `boundary config encrypt`.
    /// The input is read whole; a value is at most 16 MiB (the BlobInfo cap); larger data
    /// belongs in a stream.
    #[arg(long, conflicts_with = "also")]
    pub(crate) value: bool,
    /// With --value: write the binary protobuf instead of base64url text.
    #[arg(long, requires = "value")]
    pub(crate) binary: bool,
    /// Print one JSON object on stdout: the output path, the sizes and the keys used
    /// (docs/CLI.md). Needs -o, except with --value, whose value is then in the object.
    #[arg(long)]
    pub(crate) json: bool,
    #[command(flatten)]
    pub(crate) out: OutputArgs,
    /// Input file, or - for stdin (the default).
    #[arg(value_name = "INPUT")]
    pub(crate) input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct DecryptArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArg,
    /// The purpose, for data that does not record one (a bare BlobInfo). Default: root.
    #[arg(long, value_parser = parse_purpose)]
    pub(crate) purpose: Option<kms::Purpose>,
    /// The additional authenticated data given at encryption.
    #[arg(long, value_name = "TEXT")]
    pub(crate) aad: Option<String>,
    /// Print one JSON object on stdout: the output path, the sizes and the key ids the input
    /// records (docs/CLI.md). Needs -o: plaintext never goes into the JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Decrypt only the plaintext from this byte offset (default 0): a stream in a seekable
    /// input, of which only the segments that cover the range (and the final one) are read
    /// and authenticated.
    #[arg(long, value_name = "BYTES")]
    pub(crate) offset: Option<u64>,
    /// Decrypt only this many plaintext bytes (default: to the end). The range must lie
    /// within the plaintext.
    #[arg(long, value_name = "BYTES")]
    pub(crate) length: Option<u64>,
    #[command(flatten)]
    pub(crate) out: OutputArgs,
    /// Input file, or - for stdin (the default).
    #[arg(value_name = "INPUT")]
    pub(crate) input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct InspectArgs {
    /// Print one JSON object (docs/CLI.md).
    #[arg(long)]
    pub(crate) json: bool,
    /// Input file, or - for stdin (the default).
    #[arg(value_name = "INPUT")]
    pub(crate) input: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArg,
    /// Only parse and validate; contact no backend.
    #[arg(long)]
    pub(crate) offline: bool,
    /// Refuse a config with warnings (exit 2): settings Boundary accepts but ignores, or
    /// reads differently than written.
    #[arg(long)]
    pub(crate) strict: bool,
    /// Print one JSON object on stdout: each wrapper with its resolved settings and their
    /// sources (secrets redacted), the online result, the warnings (docs/CLI.md).
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RewrapArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArg,
    /// The purpose whose current key the files move to.
    #[arg(long, default_value = "root", value_parser = parse_purpose)]
    pub(crate) purpose: kms::Purpose,
    /// Also wrap under the key of this purpose (repeatable), as `kms encrypt --also`; a stream
    /// file is current when its entries are exactly these keys.
    #[arg(long, value_name = "PURPOSE", value_parser = parse_purpose)]
    pub(crate) also: Vec<kms::Purpose>,
    /// Walk directories.
    #[arg(short = 'r', long)]
    pub(crate) recursive: bool,
    /// Authenticate every file, current ones too: unwrap its data key (one decrypt call per
    /// file, also when the target re-wraps server-side) and open every segment.
    #[arg(long)]
    pub(crate) verify: bool,
    /// No progress bar.
    #[arg(short, long)]
    pub(crate) quiet: bool,
    /// Files rewrapped at once (each with at most one KMS call in flight).
    #[arg(short = 'j', long, value_name = "N", default_value_t = crate::commands::DEFAULT_REWRAP_JOBS,
          value_parser = clap::builder::TypedValueParser::map(
              clap::value_parser!(u16).range(1..=1024), usize::from))]
    pub(crate) jobs: usize,
    /// Take only shard I of N (1 <= I <= N): the paths whose SHA-256 of the path relative to
    /// its root, first 8 bytes big-endian, is I-1 modulo N; N machines with 1/N .. N/N cover
    /// every file exactly once (docs/SCALE.md).
    #[arg(long, value_name = "I/N", default_value = "1/1", hide_default_value = true,
          value_parser = crate::commands::parse_shard)]
    pub(crate) shard: crate::commands::Shard,
    /// Print one JSON object (every path with its outcome, and a summary) instead of text.
    #[arg(long)]
    pub(crate) json: bool,
    /// Files (and with -r, directories) to rewrap.
    #[arg(value_name = "PATH", required = true)]
    pub(crate) paths: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct CleanArgs {
    /// List what would be removed; remove nothing.
    #[arg(short = 'n', long)]
    pub(crate) dry_run: bool,
    /// Directories to search (recursively, not following symbolic links), or temp files.
    /// Run it when no kms is working there: a running kms's temp file would be removed too
    /// (that kms then fails, and its target is left as it was).
    #[arg(value_name = "PATH", required = true)]
    pub(crate) paths: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ConfigCommand {
    /// Turn each {{encrypt(VALUE)}} in FILE into {{decrypt(BLOB)}} with the config-purpose key.
    #[command(after_help = examples::CONFIG_ENCRYPT)]
    Encrypt(ConfigValueArgs),
    /// Turn each {{decrypt(BLOB)}} in FILE back into {{encrypt(VALUE)}} (or VALUE with --strip).
    #[command(after_help = examples::CONFIG_DECRYPT)]
    Decrypt(ConfigValueArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ConfigValueArgs {
    /// The file with the config-purpose kms stanza.
    #[arg(
        short = 'c',
        long = "config",
        env = "KMS_CONFIG",
        value_name = "KMS_CONFIG"
    )]
    pub(crate) config: PathBuf,
    /// Write here instead of stdout.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "OUT",
        conflicts_with = "overwrite"
    )]
    pub(crate) output: Option<PathBuf>,
    /// Replace FILE in place (atomically).
    #[arg(long)]
    pub(crate) overwrite: bool,
    /// Leave bare values instead of markers.
    #[arg(long)]
    pub(crate) strip: bool,
    /// The file whose marked values are processed.
    #[arg(value_name = "FILE")]
    pub(crate) file: PathBuf,
}

fn parse_purpose(s: &str) -> Result<kms::Purpose, String> {
    s.parse()
        .map_err(|e: kms::core::ParsePurposeError| e.to_string())
}
