//! Wycheproof AES-GCM vectors through the AES-GCM seam, for both providers. Only 256-bit keys
//! with 96-bit nonces and 128-bit tags are kept: aws-lc-rs rejects other nonce sizes by design.
#![allow(clippy::unwrap_used, missing_docs)]

use kms_core::cipher::{aws_lc, rustcrypto};
use kms_core::Key256;
use wycheproof::aead::{TestName, TestSet};
use wycheproof::TestResult;

trait Provider {
    fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16];
    fn open<'a>(&self, nonce: &[u8; 12], aad: &[u8], buf: &'a mut [u8]) -> Option<&'a mut [u8]>;
}

impl Provider for aws_lc::AesGcm {
    fn seal(&self, n: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        self.seal_detached(n, aad, buf).unwrap()
    }
    fn open<'a>(&self, n: &[u8; 12], aad: &[u8], buf: &'a mut [u8]) -> Option<&'a mut [u8]> {
        self.open_in_place(n, aad, buf).ok()
    }
}

impl Provider for rustcrypto::AesGcm {
    fn seal(&self, n: &[u8; 12], aad: &[u8], buf: &mut [u8]) -> [u8; 16] {
        self.seal_detached(n, aad, buf).unwrap()
    }
    fn open<'a>(&self, n: &[u8; 12], aad: &[u8], buf: &'a mut [u8]) -> Option<&'a mut [u8]> {
        self.open_in_place(n, aad, buf).ok()
    }
}

fn run(name: &str, make: impl Fn(&Key256) -> Box<dyn Provider>) {
    let set = TestSet::load(TestName::AesGcm).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for group in set.test_groups {
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for t in group.tests {
            let key = Key256::from_slice(&t.key).unwrap();
            let p = make(&key);
            let nonce: [u8; 12] = t.nonce.as_ref().try_into().unwrap();
            let mut sealed = t.ct.to_vec();
            sealed.extend_from_slice(&t.tag);
            let opened = p.open(&nonce, &t.aad, &mut sealed).map(|pt| pt.to_vec());
            match t.result {
                TestResult::Valid | TestResult::Acceptable => {
                    assert_eq!(
                        opened.as_deref(),
                        Some(&t.pt[..]),
                        "{name}: tcId {} must open",
                        t.tc_id
                    );
                    let mut buf = t.pt.to_vec();
                    let tag = p.seal(&nonce, &t.aad, &mut buf);
                    assert_eq!(
                        (&buf[..], &tag[..]),
                        (&t.ct[..], &t.tag[..]),
                        "{name}: tcId {} seal",
                        t.tc_id
                    );
                    valid += 1;
                }
                TestResult::Invalid => {
                    assert!(
                        opened.is_none(),
                        "{name}: tcId {} must be rejected",
                        t.tc_id
                    );
                    invalid += 1;
                }
            }
        }
    }
    assert!(
        valid > 20 && invalid > 10,
        "{name}: too few vectors ran ({valid} valid, {invalid} invalid)"
    );
}

#[test]
fn wycheproof_aes256gcm_aws_lc() {
    run("aws-lc-rs", |k| Box::new(aws_lc::AesGcm::new(k)));
}

#[test]
fn wycheproof_aes256gcm_rustcrypto() {
    run("rustcrypto", |k| Box::new(rustcrypto::AesGcm::new(k)));
}
