//! Every `kms` example in the documentation runs as written: README.md, docs/*.md and each
//! crate's README.md.
//!
//! The format of a tested example, in Markdown:
//! - A fenced block whose info string is `console` is run in order with the others of the same
//!   document, in one scratch directory per document, by `sh` with this build's `kms` first on
//!   PATH. Each `$ ` line is a command (a line ending in `\` continues it); the lines after it,
//!   up to the next `$ `, are its expected stdout and stderr together, compared with snapbox
//!   (`[..]` matches within a line, `...` on its own line matches any lines). A last line
//!   `? N` expects exit code N (otherwise 0).
//! - `console aws` runs against moto (the integration suite): AWS settings point at it, and
//!   every `alias/NAME` the document's files name is created first.
//! - A fenced block with `file=NAME` in its info string (`hcl file=kms.hcl`) is written into
//!   the scratch directory before the console blocks that follow it run.
//! - A shell block (`sh`, `bash`, `shell` or no language) that runs `kms` is an untested
//!   example, and fails this test: make it a `console` block.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use snapbox::IntoData;

#[derive(Debug)]
enum Block {
    File {
        name: String,
        content: String,
    },
    Console {
        line: usize,
        aws: bool,
        steps: Vec<Step>,
    },
}

#[derive(Debug)]
struct Step {
    line: usize,
    command: String,
    expected: String,
    status: i32,
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The documents whose examples are tested, relative to the repository root.
fn documents() -> Vec<PathBuf> {
    let root = repo();
    let mut docs = vec![PathBuf::from("README.md"), PathBuf::from("SECURITY.md")];
    for dir in ["docs", "crates"] {
        let mut found: Vec<PathBuf> = fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .flat_map(|p| {
                if p.is_dir() {
                    vec![p.join("README.md")]
                } else {
                    vec![p]
                }
            })
            .filter(|p| p.extension().is_some_and(|e| e == "md") && p.is_file())
            .map(|p| p.strip_prefix(&root).unwrap().to_path_buf())
            .collect();
        found.sort();
        docs.extend(found);
    }
    docs
}

/// The blocks of a document, or the untested shell examples it has (as `path:line` messages).
fn parse(path: &Path, text: &str) -> Result<Vec<Block>, Vec<String>> {
    let mut blocks = Vec::new();
    let mut untested = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let Some(info) = lines[i].strip_prefix("```") else {
            i += 1;
            continue;
        };
        let open = i + 1;
        let words: Vec<&str> = info.split_whitespace().collect();
        let mut body = Vec::new();
        i += 1;
        while i < lines.len() && !lines[i].starts_with("```") {
            body.push(lines[i]);
            i += 1;
        }
        i += 1;
        let lang = words.first().copied().unwrap_or("");
        if let Some(name) = words.iter().find_map(|w| w.strip_prefix("file=")) {
            let mut content = body.join("\n");
            content.push('\n');
            blocks.push(Block::File {
                name: name.to_owned(),
                content,
            });
        } else if lang == "console" {
            blocks.push(Block::Console {
                line: open,
                aws: words.contains(&"aws"),
                steps: steps(open, &body),
            });
        } else if ["", "sh", "bash", "shell"].contains(&lang) && body.iter().any(|l| runs_kms(l)) {
            untested.push(format!(
                "{}:{open}: a shell block runs `kms` but is not tested: make it a ```console block",
                path.display()
            ));
        }
    }
    if untested.is_empty() {
        Ok(blocks)
    } else {
        Err(untested)
    }
}

/// Whether a shell line runs a `kms` subcommand (and is not, say, a stanza in a Rust string).
fn runs_kms(line: &str) -> bool {
    const SUBCOMMANDS: &[&str] = &[
        "keygen",
        "encrypt",
        "decrypt",
        "inspect",
        "check",
        "rewrap",
        "config",
        "clean",
        "completions",
        "man",
        "--version",
        "--help",
    ];
    let mut words = line
        .trim_start()
        .trim_start_matches("$ ")
        .split_whitespace();
    words.next() == Some("kms") && words.next().is_some_and(|w| SUBCOMMANDS.contains(&w))
}

fn steps(open: usize, body: &[&str]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut continued = false;
    for (n, l) in body.iter().enumerate() {
        let line = open + 1 + n;
        if continued {
            let step = steps.last_mut().unwrap();
            step.command.push('\n');
            step.command.push_str(l);
            continued = l.ends_with('\\');
        } else if let Some(cmd) = l.strip_prefix("$ ") {
            steps.push(Step {
                line,
                command: cmd.to_owned(),
                expected: String::new(),
                status: 0,
            });
            continued = l.ends_with('\\');
        } else if let (Some(step), Some(code)) = (steps.last_mut(), l.strip_prefix("? ")) {
            step.status = code.trim().parse().unwrap_or_else(|_| {
                panic!("line {line}: `? {code}` is not an exit code");
            });
        } else {
            let step = steps
                .last_mut()
                .unwrap_or_else(|| panic!("line {line}: output before the first `$ ` command"));
            step.expected.push_str(l);
            step.expected.push('\n');
        }
    }
    steps
}

/// Where the examples run: a scratch directory, and moto when a block needs it.
struct Sandbox {
    dir: tempfile::TempDir,
    moto: Option<(kms_testsupport::Moto, tokio::runtime::Runtime)>,
}

impl Sandbox {
    fn command(&self, script: &str, aws: bool) -> Command {
        let bin = Path::new(support::kms_bin()).parent().unwrap().to_owned();
        let mut c = Command::new("sh");
        c.arg("-c")
            .arg(format!("{{\n{script}\n}} 2>&1"))
            .current_dir(self.dir.path())
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
            )
            .env("HOME", self.dir.path())
            .env("LANG", "C.UTF-8")
            .env("NO_COLOR", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/nonexistent/kms-test/config")
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/kms-test/credentials",
            );
        if let (true, Some((moto, _))) = (aws, &self.moto) {
            c.env("AWSKMS_ENDPOINT", &moto.endpoint)
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing");
        }
        c
    }

    /// Starts moto (once) and creates a key behind every alias in `files`.
    fn with_moto(&mut self, files: &[(String, String)]) {
        if self.moto.is_none() {
            let rt = tokio::runtime::Runtime::new().unwrap();
            self.moto = Some((kms_testsupport::Moto::start(), rt));
        }
        let (moto, rt) = self.moto.as_ref().unwrap();
        let aliases: BTreeSet<&str> = files
            .iter()
            .flat_map(|(_, content)| content.split('"'))
            .filter(|s| s.starts_with("alias/"))
            .collect();
        rt.block_on(async {
            for alias in aliases {
                let key = moto.create_key().await;
                moto.set_alias(alias, &key).await;
            }
        });
    }
}

fn run_document(path: &Path, blocks: &[Block]) -> Vec<String> {
    let mut failures = Vec::new();
    let aws_needed = blocks
        .iter()
        .any(|b| matches!(b, Block::Console { aws: true, .. }));
    if aws_needed && !kms_testsupport::integration_enabled() {
        eprintln!("{}: aws examples skipped", path.display());
    }
    let mut sandbox = Sandbox {
        dir: tempfile::tempdir().unwrap(),
        moto: None,
    };
    let mut files: Vec<(String, String)> = Vec::new();
    for block in blocks {
        match block {
            Block::File { name, content } => {
                fs::write(sandbox.dir.path().join(name), content).unwrap();
                files.push((name.clone(), content.clone()));
            }
            Block::Console { line, aws, steps } => {
                if *aws {
                    if !kms_testsupport::integration_enabled() {
                        continue;
                    }
                    sandbox.with_moto(&files);
                }
                for step in steps {
                    let out = support::output(sandbox.command(&step.command, *aws));
                    // A missing final newline (a value printed bare) is not worth a line of its own.
                    let mut actual = String::from_utf8_lossy(&out.stdout).into_owned();
                    if !actual.is_empty() && !actual.ends_with('\n') {
                        actual.push('\n');
                    }
                    let status = out.status.code().unwrap_or(-1);
                    let place = format!("{}:{} (block at line {line})", path.display(), step.line);
                    if status != step.status {
                        failures.push(format!(
                            "{place}: `{}` exited {status}, the example says {}; output:\n{actual}",
                            step.command, step.status
                        ));
                        continue;
                    }
                    let assert = snapbox::Assert::new().normalize_paths(false);
                    if let Err(e) = assert.try_eq(
                        Some(&place),
                        actual.into_data(),
                        step.expected.clone().into_data(),
                    ) {
                        failures.push(format!("{place}: `{}`:\n{e}", step.command));
                    }
                }
            }
        }
    }
    failures
}

#[test]
fn every_documented_example_runs_as_written() {
    let mut failures = Vec::new();
    let mut commands = 0;
    for doc in documents() {
        let text = fs::read_to_string(repo().join(&doc)).unwrap();
        match parse(&doc, &text) {
            Err(untested) => failures.extend(untested),
            Ok(blocks) => {
                commands += blocks
                    .iter()
                    .map(|b| match b {
                        Block::Console { steps, .. } => steps.len(),
                        Block::File { .. } => 0,
                    })
                    .sum::<usize>();
                failures.extend(run_document(&doc, &blocks));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} documented example(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // The README's examples alone are more than a handful: an empty harness proves nothing.
    assert!(commands >= 10, "only {commands} documented commands found");
}

#[test]
fn the_harness_fails_on_a_drifted_example() {
    let doc = "```hcl file=k.hcl\nkms \"aead\" {\n  purpose = \"root\"\n  key = \"KEY\"\n}\n```\n\
               ```console\n$ kms keygen --bits 128 | wc -c\n25\n$ kms check -c k.hcl --offline\nnot what it prints\n```\n"
        .replace("KEY", support::KEY_A);
    let blocks = parse(Path::new("drift.md"), &doc).unwrap();
    let failures = run_document(Path::new("drift.md"), &blocks);
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(failures[0].starts_with("drift.md:10"), "{}", failures[0]);

    let status = "```console\n$ kms decrypt -c missing.hcl x\n```\n";
    let blocks = parse(Path::new("status.md"), status).unwrap();
    let failures = run_document(Path::new("status.md"), &blocks);
    assert_eq!(failures.len(), 1, "{failures:#?}");
    assert!(
        failures[0].contains("exited 2, the example says 0"),
        "{}",
        failures[0]
    );

    let untested = "```sh\nkms encrypt -c kms.hcl secret.txt\n```\n";
    let err = parse(Path::new("u.md"), untested).unwrap_err();
    assert!(
        err[0].contains("u.md:1: a shell block runs `kms`"),
        "{err:?}"
    );
}
