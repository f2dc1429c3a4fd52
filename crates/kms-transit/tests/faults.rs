//! The transit backend behind kms-testsupport's fault proxy, in front of a real OpenBao:
//! refused connections, delays past the attempt timeout, resets mid-response, 5xx, and
//! concurrency. Every failure maps to a semantic error, transient ones are retried within
//! the bounds, and nothing hangs. (No assertion is on time: the bounds are proved by the
//! number of attempts the proxy saw.)
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use kms_core::{Backend, Error, SecretString, WrapContext};
use kms_testsupport::openbao::OpenBao;
use kms_testsupport::{Fault, Proxy};
use kms_transit::{Timeouts, Transit, TransitOptions};

const DECRYPT: &str = "transit/decrypt/k1";
const ENCRYPT: &str = "transit/encrypt/k1";

async fn through_proxy(bao: &OpenBao) -> (Proxy, Transit) {
    let proxy = Proxy::start(bao.address());
    let mut o = TransitOptions::new(
        proxy.endpoint.clone(),
        Some(SecretString::new(bao.root_token().to_owned())),
        "transit/",
        "k1",
    );
    o.timeouts = Timeouts {
        connect: Duration::from_secs(2),
        attempt: Duration::from_millis(1500),
        operation: Duration::from_secs(20),
        attempts: 3,
    };
    let t = Transit::connect(o).await.unwrap();
    (proxy, t)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_are_retried_within_bounds() {
    let Some(bao) = OpenBao::start() else { return };
    let (proxy, t) = through_proxy(&bao).await;
    let ctx = WrapContext::pairs([("purpose", "root")]);
    let w = t.wrap(b"data key", &ctx).await.unwrap();

    // Two 500s, then the real answer: the third attempt opens it.
    proxy.reset_counts();
    proxy.fail_next(Fault::Status500, 2);
    let k = t.unwrap(&w.bytes, &w.key_id, &ctx).await.unwrap();
    assert_eq!(k.expose_secret(), b"data key");
    assert_eq!(proxy.count(DECRYPT), 3, "{:?}", proxy.counts());

    // Three 500s: unavailable after exactly three attempts.
    proxy.reset_counts();
    proxy.fail_next(Fault::Status500, 3);
    let e = t.unwrap(&w.bytes, &w.key_id, &ctx).await.unwrap_err();
    assert!(matches!(e.root(), Error::Unavailable(_)), "{e}");
    assert!(e.to_string().contains("500"), "{e}");
    assert_eq!(proxy.count(DECRYPT), 3, "{:?}", proxy.counts());

    // A reset mid-response is retried.
    proxy.reset_counts();
    proxy.fail_next(Fault::ResetMidResponse, 1);
    t.unwrap(&w.bytes, &w.key_id, &ctx).await.unwrap();
    assert_eq!(proxy.count(DECRYPT), 2, "{:?}", proxy.counts());

    // A 502 page from a load balancer: unavailable, retried.
    proxy.reset_counts();
    proxy.fail_next(Fault::BadGatewayHtml, 1);
    t.wrap(b"x", &ctx).await.unwrap();
    assert_eq!(proxy.count(ENCRYPT), 2, "{:?}", proxy.counts());

    // A delay past the attempt timeout: the attempt is abandoned and retried.
    proxy.reset_counts();
    proxy.fail_next(Fault::Delay(Duration::from_secs(4)), 1);
    t.unwrap(&w.bytes, &w.key_id, &ctx).await.unwrap();
    assert_eq!(proxy.count(DECRYPT), 2, "{:?}", proxy.counts());

    // Refused for good: unavailable, naming the address.
    proxy.set_fault(Fault::Refuse);
    let e = t.unwrap(&w.bytes, &w.key_id, &ctx).await.unwrap_err();
    assert!(
        e.is_retryable() && e.to_string().contains(&proxy.endpoint),
        "{e}"
    );
    assert!(proxy.refused() >= 1);
    proxy.set_fault(Fault::None);

    // A decryption failure is not retried: one call.
    proxy.reset_counts();
    let mut bad = w.bytes.clone();
    let n = bad.len();
    bad[n - 4] = if bad[n - 4] == b'A' { b'B' } else { b'A' };
    let e = t.unwrap(&bad, &w.key_id, &ctx).await.unwrap_err();
    assert!(e.is_decrypt_failed(), "{e}");
    assert_eq!(proxy.count(DECRYPT), 1, "{:?}", proxy.counts());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_with_faults_all_resolve() {
    let Some(bao) = OpenBao::start() else { return };
    let (proxy, t) = through_proxy(&bao).await;
    let t = Arc::new(t);
    // A few faults among many concurrent first attempts: each call meets at most one, and
    // every call still succeeds through its retry.
    for fault in [Fault::Status500, Fault::ResetMidResponse] {
        proxy.reset_counts();
        proxy.fail_next(fault, 4);
        let mut tasks = Vec::new();
        for i in 0..16u8 {
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                let ctx = WrapContext::pairs([("file", i.to_string())]);
                let w = t.wrap(&[i; 32], &ctx).await?;
                let k = t.unwrap(&w.bytes, &w.key_id, &ctx).await?;
                assert_eq!(k.expose_secret(), &[i; 32]);
                Ok::<_, Error>(())
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(proxy.injected(), 4, "{fault:?}");
        assert_eq!(
            proxy.count(ENCRYPT) + proxy.count(DECRYPT),
            32 + 4,
            "{fault:?}: {:?}",
            proxy.counts()
        );
    }
}
