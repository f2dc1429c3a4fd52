//! Fault injection and concurrency for the awskms backend: moto's KMS server behind the
//! fault-injecting proxy of kms-testsupport.
//!
//! Each fault mode checks that (a) the backend retries, boundedly, then fails with a retryable
//! error naming the endpoint and showing no credential; (b) encryption and decryption produce
//! nothing on failure; (c) a fault that clears before the attempts run out is absorbed by a
//! retry and the result round-trips.
//!
//! The SDK's standard retry mode draws retries from a retry quota (500 tokens, a retry costs 5
//! or 10) shared by every client of the process with the same region. Each test here uses its
//! own region (its own quota), so that one test's failures cannot stop another's retries.
//! Skipped only with KMS_SKIP_INTEGRATION=1; CI sets KMS_REQUIRE_INTEGRATION=1.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kms_aws::{AwsKms, AwsKmsOptions};
use kms_core::{Backend, Error, Purpose, WrapContext};
use kms_envelope::stream::{open_header, seal_header, Header};
use kms_envelope::value::{decrypt_value, encrypt_value, Mechanism};
use kms_testsupport::{integration_enabled, Fault, Moto, Proxy, ACCESS_KEY, SECRET_KEY};

/// Attempts per operation in these tests (the SDK's standard mode, as the default).
const MAX_ATTEMPTS: u32 = 3;
/// A hang bound, never a speed expectation.
const HANG: Duration = Duration::from_secs(30);
const PLAINTEXT: &[u8] = b"the fault tests' plaintext, 43 bytes long..";
const AAD: &[u8] = b"faults-aad";
const SEGMENT: u32 = 1024;

fn opts(endpoint: &str, key: &str, region: &str) -> AwsKmsOptions {
    let mut o = AwsKmsOptions::default();
    o.kms_key_id = Some(key.to_owned());
    o.endpoint = Some(endpoint.to_owned());
    o.region = Some(region.to_owned());
    o.access_key = Some(ACCESS_KEY.to_owned());
    o.secret_key = Some(SECRET_KEY.to_owned().into());
    o.max_attempts = MAX_ATTEMPTS;
    o.connect_timeout = Duration::from_secs(2);
    o.attempt_timeout = Duration::from_secs(10);
    o.operation_timeout = Duration::from_secs(25);
    o
}

fn ctx() -> WrapContext {
    WrapContext::pairs([("kms_purpose", "root"), ("kms_file_id", "faults")])
}

/// Fails the test instead of hanging.
async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> T {
    let start = Instant::now();
    let out = tokio::time::timeout(HANG, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} hung for more than {HANG:?}"));
    assert!(start.elapsed() < HANG, "{what} took {:?}", start.elapsed());
    out
}

/// moto, the proxy in front of it, and a key in `region`.
struct Fixture {
    _moto: Moto,
    proxy: Proxy,
    arn: String,
    region: &'static str,
    /// Per-mode options (timeouts), for every client the test connects.
    tune: fn(&mut AwsKmsOptions),
}

async fn fixture(region: &'static str, tune: fn(&mut AwsKmsOptions)) -> Fixture {
    let moto = Moto::start();
    // moto keeps keys per region: create this test's key in its own region.
    let arn = kms_testsupport::client_in(&moto.endpoint, region)
        .await
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    assert!(arn.contains(region), "{arn}");
    let proxy = Proxy::start(&moto.endpoint);
    Fixture {
        _moto: moto,
        proxy,
        arn,
        region,
        tune,
    }
}

impl Fixture {
    fn opts(&self) -> AwsKmsOptions {
        let mut o = opts(&self.proxy.endpoint, &self.arn, self.region);
        (self.tune)(&mut o);
        o
    }

    /// Client attempts the proxy saw for `op` since the last reset: requests of that
    /// operation plus connections refused on accept (which carry no readable request; the
    /// callers run one operation at a time).
    fn attempts(&self, op: &str) -> usize {
        self.proxy.count(op) + self.proxy.refused()
    }
}

/// What each fault mode must fail with.
#[derive(Clone, Copy, Debug)]
enum Expect {
    Unavailable,
    Throttled,
}

/// The error is of the expected kind, retryable, names the endpoint and shows no credential.
fn check_error(err: &Error, expect: Expect, endpoint: &str, what: &str) {
    let shown = err.to_string();
    let debug = format!("{err:?}");
    let kind_ok = match expect {
        Expect::Unavailable => matches!(err, Error::Unavailable(_)),
        Expect::Throttled => matches!(err, Error::Throttled(_)),
    };
    assert!(kind_ok, "{what}: expected {expect:?}, got {debug}");
    assert!(err.is_retryable(), "{what}: not retryable: {debug}");
    assert!(
        shown.contains(endpoint),
        "{what}: the error does not name the endpoint {endpoint}: {shown}"
    );
    for text in [&shown, &debug] {
        assert!(
            !text.contains(SECRET_KEY),
            "{what}: the secret key leaks: {text}"
        );
    }
}

/// The retry counts of a failed operation: more than one attempt, at most `MAX_ATTEMPTS`.
fn check_bounded_retries(attempts: usize, op: &str, mode: &str) {
    assert!(
        (2..=MAX_ATTEMPTS as usize).contains(&attempts),
        "{mode}: {op} made {attempts} attempts; expected a retry, at most {MAX_ATTEMPTS}"
    );
}

/// Seals PLAINTEXT as a whole stream (header, then body), as the CLI does: the output is
/// produced only once the header is sealed.
async fn seal_stream(kms: &dyn Backend, plaintext: &[u8], aad: &[u8]) -> kms_core::Result<Vec<u8>> {
    let (header, key) = seal_header(&[kms], Purpose::Root, aad, SEGMENT).await?;
    let mut out = header.encode();
    key.encrypt_body(&mut &plaintext[..], &mut out, &mut |_| {})?;
    Ok(out)
}

/// Opens a stream sealed by `seal_stream`.
async fn open_stream(kms: &dyn Backend, sealed: &[u8], aad: &[u8]) -> kms_core::Result<Vec<u8>> {
    let (header, used) = Header::parse(sealed)?;
    let key = open_header(&header, &[kms], aad).await?;
    let mut out = Vec::new();
    key.decrypt_body(&mut &sealed[used..], &mut out, &mut |_| {})?;
    Ok(out)
}

/// The three checks for one fault mode. `kms` is connected through the proxy (no fault yet).
async fn check_fault_mode(fx: &Fixture, kms: &AwsKms, fault: Fault, expect: Expect) {
    let proxy = &fx.proxy;
    let endpoint = proxy.endpoint.as_str();
    let mode = format!("{fault:?}");

    // Data written while KMS is healthy, to decrypt under the fault.
    let blob = bounded("encrypt_value", encrypt_value(kms, PLAINTEXT, AAD, None))
        .await
        .unwrap();
    let sealed = bounded("seal", seal_stream(kms, PLAINTEXT, AAD))
        .await
        .unwrap();
    let wrapped = bounded("wrap", kms.wrap(&[7; 32], &ctx())).await.unwrap();

    // (a) Bounded retries, then a clear error, for each KMS operation the backend uses.
    proxy.set_fault(fault);
    proxy.reset_counts();
    let err = bounded("wrap", kms.wrap(&[7; 32], &ctx()))
        .await
        .unwrap_err();
    check_error(&err, expect, endpoint, &format!("{mode}: Encrypt"));
    check_bounded_retries(fx.attempts("Encrypt"), "Encrypt", &mode);

    proxy.reset_counts();
    let err = bounded(
        "unwrap",
        kms.unwrap(&wrapped.bytes, &wrapped.key_id, &ctx()),
    )
    .await
    .unwrap_err();
    check_error(&err, expect, endpoint, &format!("{mode}: Decrypt"));
    check_bounded_retries(fx.attempts("Decrypt"), "Decrypt", &mode);

    proxy.reset_counts();
    let err = bounded("connect", AwsKms::connect(fx.opts()))
        .await
        .unwrap_err();
    check_error(&err, expect, endpoint, &format!("{mode}: DescribeKey"));
    check_bounded_retries(fx.attempts("DescribeKey"), "DescribeKey", &mode);

    // (b) Nothing is produced on failure: no value, no stream, no plaintext. Decryption fails
    // with the backend's error, not as a wrong key (DecryptFailed) or a wrong wrapper.
    let wrappers: [&dyn Backend; 1] = [kms];
    let (enc_env, enc_direct, seal, dec_value, dec_stream) =
        bounded("encryption and decryption under the fault", async {
            tokio::join!(
                encrypt_value(kms, PLAINTEXT, AAD, Some(Mechanism::Envelope)),
                encrypt_value(kms, PLAINTEXT, AAD, Some(Mechanism::Direct)),
                seal_stream(kms, PLAINTEXT, AAD),
                decrypt_value(&wrappers, &blob, AAD, kms_core::Purpose::Root),
                open_stream(kms, &sealed, AAD),
            )
        })
        .await;
    for (what, res) in [
        ("encrypt_value (envelope)", enc_env.map(|_| ())),
        ("encrypt_value (direct)", enc_direct.map(|_| ())),
        ("seal_header", seal.map(|_| ())),
        ("decrypt_value", dec_value.map(|_| ())),
        ("open_header", dec_stream.map(|_| ())),
    ] {
        let err = res.expect_err(&format!("{mode}: {what} produced output under the fault"));
        check_error(&err, expect, endpoint, &format!("{mode}: {what}"));
    }
    proxy.set_fault(Fault::None);

    // (c) A fault that clears within the attempts: the retry succeeds and round-trips.
    for n in 1..MAX_ATTEMPTS as usize {
        let what = format!("{mode} x{n}");

        proxy.reset_counts();
        proxy.fail_next(fault, n);
        let again = bounded("connect", AwsKms::connect(fx.opts()))
            .await
            .unwrap_or_else(|e| panic!("{what}: connect was not retried to success: {e}"));
        assert_eq!(again.key_id().as_str(), fx.arn, "{what}");
        assert_eq!(fx.attempts("DescribeKey"), n + 1, "{what}: DescribeKey");

        proxy.reset_counts();
        proxy.fail_next(fault, n);
        let blob2 = bounded("encrypt_value", encrypt_value(kms, PLAINTEXT, AAD, None))
            .await
            .unwrap_or_else(|e| panic!("{what}: encrypt_value was not retried to success: {e}"));
        assert_eq!(fx.attempts("Encrypt"), n + 1, "{what}: Encrypt");

        proxy.reset_counts();
        proxy.fail_next(fault, n);
        let plain = bounded(
            "decrypt_value",
            decrypt_value(&[kms], &blob2, AAD, kms_core::Purpose::Root),
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: decrypt_value was not retried to success: {e}"));
        assert_eq!(plain.expose_secret(), PLAINTEXT, "{what}");
        assert_eq!(fx.attempts("Decrypt"), n + 1, "{what}: Decrypt");

        proxy.reset_counts();
        proxy.fail_next(fault, n);
        let sealed2 = bounded("seal", seal_stream(kms, PLAINTEXT, AAD))
            .await
            .unwrap_or_else(|e| panic!("{what}: seal_header was not retried to success: {e}"));
        assert_eq!(fx.attempts("Encrypt"), n + 1, "{what}: Encrypt (stream)");

        proxy.reset_counts();
        proxy.fail_next(fault, n);
        let opened = bounded("open", open_stream(kms, &sealed2, AAD))
            .await
            .unwrap_or_else(|e| panic!("{what}: open_header was not retried to success: {e}"));
        assert_eq!(opened, PLAINTEXT, "{what}");
        assert_eq!(fx.attempts("Decrypt"), n + 1, "{what}: Decrypt (stream)");

        // Data written before the fault opens as well, and nothing is left pending.
        proxy.set_fault(Fault::None);
        let plain = bounded(
            "decrypt_value",
            decrypt_value(&[kms], &blob, AAD, kms_core::Purpose::Root),
        )
        .await
        .unwrap();
        assert_eq!(plain.expose_secret(), PLAINTEXT, "{what}");
    }
}

async fn run_mode(
    region: &'static str,
    fault: Fault,
    expect: Expect,
    tune: fn(&mut AwsKmsOptions),
) {
    let fx = fixture(region, tune).await;
    let kms = bounded("connect", AwsKms::connect(fx.opts()))
        .await
        .unwrap();
    assert_eq!(kms.key_id().as_str(), fx.arn);
    check_fault_mode(&fx, &kms, fault, expect).await;
}

#[tokio::test]
async fn refused_connections() {
    if !integration_enabled() {
        return;
    }
    run_mode("us-east-2", Fault::Refuse, Expect::Unavailable, |_| {}).await;
}

#[tokio::test]
async fn delay_past_the_timeouts() {
    if !integration_enabled() {
        return;
    }
    // Each attempt times out after 400 ms; the delay (10 s) is past the whole operation's
    // timeout (8 s), which still leaves room for three attempts and their backoff (< 3 s).
    run_mode(
        "us-west-1",
        Fault::Delay(Duration::from_secs(10)),
        Expect::Unavailable,
        |o| {
            o.attempt_timeout = Duration::from_millis(400);
            o.operation_timeout = Duration::from_secs(8);
        },
    )
    .await;
}

#[tokio::test]
async fn connection_reset_mid_response() {
    if !integration_enabled() {
        return;
    }
    run_mode(
        "us-west-2",
        Fault::ResetMidResponse,
        Expect::Unavailable,
        |_| {},
    )
    .await;
}

#[tokio::test]
async fn http_500_internal_error() {
    if !integration_enabled() {
        return;
    }
    run_mode("eu-west-1", Fault::Status500, Expect::Unavailable, |_| {}).await;
}

#[tokio::test]
async fn bad_gateway_html_page() {
    if !integration_enabled() {
        return;
    }
    run_mode(
        "ap-south-1",
        Fault::BadGatewayHtml,
        Expect::Unavailable,
        |_| {},
    )
    .await;
}

#[tokio::test]
async fn throttling_exception() {
    if !integration_enabled() {
        return;
    }
    run_mode("eu-central-1", Fault::Throttle, Expect::Throttled, |_| {}).await;
}

// ---------------------------------------------------------------------------------------------
// Concurrency

const TASKS: usize = 32;
const ITERATIONS: usize = 4;

fn assert_send_sync<T: Send + Sync>() {}
const _: fn() = || {
    assert_send_sync::<AwsKms>();
    assert_send_sync::<Arc<AwsKms>>();
};

/// A value distinct per phase, task and iteration, of varying length (1 to 3000 bytes, so
/// that direct KMS encryption also takes it).
fn plaintext_for(phase: usize, task: usize, iter: usize) -> Vec<u8> {
    let tag = format!("<phase {phase} task {task} iter {iter}>");
    let len = tag.len() + (task * 97 + iter * 389) % 2900;
    tag.bytes().cycle().take(len).collect()
}

#[derive(Debug)]
enum Outcome {
    /// Round-tripped: the value and stream outputs, for the cross-checks.
    Ok {
        plaintext: Vec<u8>,
        aad: Vec<u8>,
        blob: Box<kms_core::BlobInfo>,
        sealed: Vec<u8>,
    },
    /// An operation failed (allowed only where faults are injected).
    Failed { step: &'static str, err: Error },
    /// An operation succeeded with a wrong result: always a bug.
    Wrong { step: &'static str, detail: String },
}

async fn one_round(kms: &AwsKms, phase: usize, task: usize, iter: usize) -> Outcome {
    let plaintext = plaintext_for(phase, task, iter);
    let aad = format!("aad {phase}/{task}/{iter}").into_bytes();
    let mechanism = if (task + iter) % 2 == 0 {
        Mechanism::Envelope
    } else {
        Mechanism::Direct
    };
    let blob = match encrypt_value(kms, &plaintext, &aad, Some(mechanism)).await {
        Ok(b) => b,
        Err(err) => {
            return Outcome::Failed {
                step: "encrypt_value",
                err,
            }
        }
    };
    match decrypt_value(&[kms], &blob, &aad, kms_core::Purpose::Root).await {
        Ok(p) if p.expose_secret() == plaintext.as_slice() => {}
        Ok(p) => {
            return Outcome::Wrong {
                step: "decrypt_value",
                detail: format!(
                    "task {task} iter {iter} got {:?}",
                    String::from_utf8_lossy(&p.expose_secret()[..p.len().min(40)])
                ),
            }
        }
        Err(err) => {
            return Outcome::Failed {
                step: "decrypt_value",
                err,
            }
        }
    }
    let sealed = match seal_stream(kms, &plaintext, &aad).await {
        Ok(s) => s,
        Err(err) => {
            return Outcome::Failed {
                step: "seal_header",
                err,
            }
        }
    };
    match open_stream(kms, &sealed, &aad).await {
        Ok(p) if p == plaintext => {}
        Ok(p) => {
            return Outcome::Wrong {
                step: "open_header",
                detail: format!(
                    "task {task} iter {iter} got {:?}",
                    String::from_utf8_lossy(&p[..p.len().min(40)])
                ),
            }
        }
        Err(err) => {
            return Outcome::Failed {
                step: "open_header",
                err,
            }
        }
    }
    Outcome::Ok {
        plaintext,
        aad,
        blob: Box::new(blob),
        sealed,
    }
}

/// TASKS tokio tasks × ITERATIONS rounds over one shared backend.
async fn workload(kms: &Arc<AwsKms>, phase: usize) -> Vec<Outcome> {
    let handles: Vec<_> = (0..TASKS)
        .map(|task| {
            let kms = Arc::clone(kms);
            tokio::spawn(async move {
                let mut out = Vec::with_capacity(ITERATIONS);
                for iter in 0..ITERATIONS {
                    out.push(one_round(&kms, phase, task, iter).await);
                }
                out
            })
        })
        .collect();
    let mut outcomes = Vec::with_capacity(TASKS * ITERATIONS);
    for h in handles {
        outcomes.extend(h.await.expect("a task panicked"));
    }
    outcomes
}

/// No wrong results; distinct outputs; returns (successes, failures).
fn tally(outcomes: &[Outcome], endpoint: &str, phase: &str) -> (usize, Vec<String>) {
    let mut ok = 0;
    let mut failures = Vec::new();
    let mut wrapped_keys = HashSet::new();
    let mut ciphertexts = HashSet::new();
    for o in outcomes {
        match o {
            Outcome::Ok { blob, sealed, .. } => {
                ok += 1;
                // Fresh data keys and IVs everywhere: no output is reused across tasks.
                assert!(
                    ciphertexts.insert(blob.ciphertext.clone()),
                    "{phase}: a value ciphertext repeats"
                );
                assert!(
                    ciphertexts.insert(sealed.clone()),
                    "{phase}: a stream repeats"
                );
                if !blob.wrapped_key().is_empty() {
                    assert!(
                        wrapped_keys.insert(blob.wrapped_key().to_vec()),
                        "{phase}: a wrapped data key repeats"
                    );
                }
            }
            Outcome::Wrong { step, detail } => {
                panic!("{phase}: {step} returned a wrong result: {detail}")
            }
            Outcome::Failed { step, err } => {
                // Only the injected kinds of failure, each one clear.
                let expect = if matches!(err, Error::Throttled(_)) {
                    Expect::Throttled
                } else {
                    Expect::Unavailable
                };
                check_error(err, expect, endpoint, &format!("{phase}: {step}"));
                failures.push(format!("{step}: {err}"));
            }
        }
    }
    (ok, failures)
}

/// Every recorded output decrypts to its own input, and not under another round's AAD.
async fn cross_check(kms: &Arc<AwsKms>, outcomes: Vec<Outcome>, phase: &str) {
    let oks: Vec<_> = outcomes
        .into_iter()
        .filter_map(|o| match o {
            Outcome::Ok {
                plaintext,
                aad,
                blob,
                sealed,
            } => Some((plaintext, aad, blob, sealed)),
            _ => None,
        })
        .collect();
    let oks = Arc::new(oks);
    let mut handles = Vec::new();
    for chunk in 0..TASKS {
        let (kms, oks) = (Arc::clone(kms), Arc::clone(&oks));
        handles.push(tokio::spawn(async move {
            for i in (chunk..oks.len()).step_by(TASKS) {
                let (plaintext, aad, blob, sealed) = &oks[i];
                let p = decrypt_value(&[&*kms], blob, aad, kms_core::Purpose::Root)
                    .await
                    .unwrap();
                assert_eq!(p.expose_secret(), plaintext.as_slice(), "value {i}");
                assert_eq!(
                    &open_stream(&*kms, sealed, aad).await.unwrap(),
                    plaintext,
                    "stream {i}"
                );
                // Another round's AAD does not open it.
                let other = &oks[(i + 1) % oks.len()].1;
                if other != aad {
                    assert!(
                        matches!(
                            decrypt_value(&[&*kms], blob, other, kms_core::Purpose::Root).await,
                            Err(Error::DecryptFailed)
                        ),
                        "value {i} opened under another AAD"
                    );
                }
            }
        }));
    }
    for h in handles {
        h.await
            .unwrap_or_else(|e| panic!("{phase}: cross-check failed: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shared_backend_under_concurrency_and_intermittent_faults() {
    if !integration_enabled() {
        return;
    }
    let fx = fixture("ap-southeast-2", |_| {}).await;
    let endpoint = fx.proxy.endpoint.clone();
    let kms = Arc::new(
        bounded("connect", AwsKms::connect(fx.opts()))
            .await
            .unwrap(),
    );
    let rounds = TASKS * ITERATIONS;

    // Phase 1: no faults. Every round succeeds, with exactly one KMS call per wrap and unwrap
    // (no retries), and every output decrypts to its own input.
    fx.proxy.reset_counts();
    let outcomes = bounded("the fault-free workload", workload(&kms, 1)).await;
    let (ok, failures) = tally(&outcomes, &endpoint, "no faults");
    assert!(
        failures.is_empty(),
        "failures without faults: {failures:#?}"
    );
    assert_eq!(ok, rounds);
    assert_eq!(
        fx.proxy.count("Encrypt"),
        2 * rounds,
        "{:?}",
        fx.proxy.counts()
    );
    assert_eq!(
        fx.proxy.count("Decrypt"),
        2 * rounds,
        "{:?}",
        fx.proxy.counts()
    );
    assert_eq!(fx.proxy.injected(), 0);
    bounded("the cross-check", cross_check(&kms, outcomes, "no faults")).await;

    // Phase 2: every 7th request fails (500, throttling, reset, closed connection, in turn).
    // Only those injected failures may surface, and every success must be correct.
    fx.proxy.reset_counts();
    fx.proxy.fail_every(
        7,
        &[
            Fault::Status500,
            Fault::Throttle,
            Fault::ResetMidResponse,
            Fault::Refuse,
        ],
    );
    let outcomes = bounded("the faulty workload", workload(&kms, 2)).await;
    fx.proxy.set_fault(Fault::None);
    let injected = fx.proxy.injected();
    let (ok, failures) = tally(&outcomes, &endpoint, "intermittent faults");
    eprintln!(
        "intermittent faults: {rounds} rounds, {ok} ok, {} failed, {injected} faults injected, requests {:?}, failures {failures:#?}",
        failures.len(),
        fx.proxy.counts()
    );
    assert!(
        injected >= rounds / 7,
        "too few faults injected: {injected}"
    );
    assert_eq!(ok + failures.len(), rounds);
    // Every attempt of an operation can land on an injected fault (about (1/7)^3 per
    // operation, so a round or two of 128 may fail; `tally` checked that each failure is of an
    // injected kind). Without retries every fault would fail its round: retries must absorb
    // most of them.
    assert!(
        failures.len() * 4 <= injected,
        "{} failures for {injected} injected faults: retries did not absorb them: {failures:#?}",
        failures.len()
    );
    assert!(ok > 0, "nothing succeeded: {failures:#?}");
    bounded(
        "the cross-check",
        cross_check(&kms, outcomes, "intermittent faults"),
    )
    .await;
}
