//! Corpus agreement: on every config of the corpus, `kms check -c FILE --offline` (the whole
//! binary) and Boundary's own reading (`hclv1`, built from HashiCorp's code) agree on the
//! verdict and on the set of (purpose, type, key id) wrappers.
//!
//! The corpus: `shared/oracle/corpus/boundary/` (snippets from Boundary's repository and docs,
//! beside an ancestor of this checkout) and `crates/kms/tests/hclv1_probes/` (our probes of
//! HCL v1 and stanza edge cases, each `.hcl` starting with `# probe: what it probes`).
//! Both run in hclcompare.py's fixed environment; configs of Boundary's other kms plugins are
//! skipped as hclcompare.py skips them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};

use kms_testsupport::oracle::{check_verdict, compare, Oracle, Outcome};

/// Configs on which kms and Boundary disagree today, with how: the temporary list of what is
/// left to fix (issue 10). The test fails when one of them starts agreeing, so that a fix
/// removes its line, and when a line names no corpus file.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "probes/seal_list_value.hcl",
        "seal blocks are kms blocks to Boundary (a list for key_id is refused); kms ignores seal",
    ),
    (
        "probes/disabled_unknown_type.hcl",
        "Boundary ignores disabled (no plugin for the type); kms drops the block",
    ),
    (
        "probes/seal_awskms_access_key_env_unset.hcl",
        "seal blocks are kms blocks to Boundary (unset env:// in access_key); kms ignores seal",
    ),
    (
        "probes/disabled_number_out_of_range.hcl",
        "Boundary ignores disabled and refuses an integer beyond int64; kms drops the disabled block",
    ),
    (
        "probes/hsm_previous_root_same_key_id.hcl",
        "hsm blocks are kms blocks to Boundary (previous-root with the root's key id); kms ignores hsm",
    ),
    (
        "probes/json_dup_member_bool_then_string.json",
        "HCL v1 refuses duplicate JSON members of different types; kms takes the last",
    ),
    (
        "probes/json_dup_member_number_then_string.json",
        "HCL v1 decodes a duplicate JSON member with the first one's type; kms takes the last",
    ),
    (
        "probes/json_kms_capitalized_null.json",
        "JSON: \"KMS\" is kms to HCL v1 (and null in its list is refused); kms ignores it",
    ),
    (
        "probes/json_nested_list_drops_kms.json",
        "JSON: a list in a list makes HCL v1 drop the whole kms list; kms refuses the item",
    ),
    (
        "probes/seal_purpose_object.hcl",
        "seal blocks are kms blocks to Boundary (an object purpose is refused); kms ignores seal",
    ),
    (
        "boundary/release_linux_package_etc_boundary_d_boundary_hcl.hcl",
        "no usable kms block: Boundary starts with no wrapper from this file; kms says \"no enabled kms stanza\"",
    ),
    (
        "boundary/release_linux_package_etc_boundary_d_worker_hcl.hcl",
        "no usable kms block: Boundary starts with no wrapper from this file",
    ),
    (
        "boundary/website_content_docs_deploy_self_managed_initialize_mdx_L97.hcl",
        "no usable kms block: Boundary starts with no wrapper from this file",
    ),
    (
        "probes/aead_empty_key.hcl",
        "aead with key = \"\": go-kms-wrapping's aead SetConfig accepts it; kms requires a key",
    ),
    (
        "probes/aead_key_env_literal.hcl",
        "aead key is literal (no env://): Boundary fails base64; kms resolves it",
    ),
    (
        "probes/aead_key_file_literal.hcl",
        "aead key is literal (no file://): Boundary fails base64; kms reads the file",
    ),
    (
        "probes/aead_key_leading_space.hcl",
        "Go's base64 refuses a leading space; kms accepts",
    ),
    (
        "probes/aead_key_newline_inside.hcl",
        "Go's base64 skips \\n inside the key; kms refuses",
    ),
    (
        "probes/aead_key_unpadded.hcl",
        "Go's StdEncoding requires padding; kms accepts unpadded keys",
    ),
    (
        "probes/aead_type_upper.hcl",
        "aead_type is case-sensitive in Go; kms accepts AES-GCM",
    ),
    (
        "probes/aead_type_without_key.hcl",
        "without a key the aead wrapper never reads aead_type; kms refuses",
    ),
    (
        "probes/aead_without_key.hcl",
        "aead without key: go-kms-wrapping's aead SetConfig accepts it; kms requires a key",
    ),
    (
        "probes/awskms_empty_kms_key_id.hcl",
        "kms_key_id = \"\" is \"key id not found\" for the awskms wrapper; kms falls back to key_id",
    ),
    (
        "probes/awskms_endpoint_env_literal.hcl",
        "endpoint env:// is literal in awskms; kms resolves it (and the variable is unset)",
    ),
    (
        "probes/awskms_kms_key_id_env_literal.hcl",
        "kms_key_id env:// is literal in awskms; kms resolves it",
    ),
    (
        "probes/awskms_kms_key_id_file_literal.hcl",
        "kms_key_id file:// is literal in awskms; kms reads the file",
    ),
    (
        "probes/awskms_region_env_literal.hcl",
        "region env:// is literal in awskms; kms resolves it (and the variable is unset)",
    ),
    (
        "probes/awskms_session_token_alone.hcl",
        "session_token without access_key/secret_key: Boundary accepts; kms refuses",
    ),
    (
        "probes/block_without_label.hcl",
        "kms { } without a label is skipped by configutil; kms refuses it",
    ),
    (
        "probes/block_without_purpose_bad_key.hcl",
        "a block without purpose is never set up by Boundary; kms checks its key",
    ),
    (
        "probes/block_without_purpose_unknown_type.hcl",
        "a block without purpose is never set up by Boundary; kms refuses its type",
    ),
    (
        "probes/bool_key_id.hcl",
        "configutil turns a bool into \"1\"/\"0\" for a string setting; kms refuses it",
    ),
    (
        "probes/disabled_root.hcl",
        "Boundary ignores disabled; kms drops the root block and then lacks a root",
    ),
    (
        "probes/empty_file.hcl",
        "no kms block: Boundary accepts the file; kms says \"no enabled kms stanza\"",
    ),
    (
        "probes/extra_label.hcl",
        "configutil reads the first label and ignores the others; kms refuses a second label",
    ),
    (
        "probes/hsm_only.hcl",
        "hsm blocks are kms blocks to Boundary; kms ignores them",
    ),
    (
        "probes/json_bool_value.json",
        "configutil turns a bool into \"1\"/\"0\" for a string setting; kms refuses it",
    ),
    (
        "probes/json_dup_purpose_string_then_list.json",
        "HCL v1 refuses a list for the string purpose after a duplicate member; kms takes the last",
    ),
    (
        "probes/json_extra_label.json",
        "JSON: an object under the type is a second label for Boundary; kms calls it an unknown attribute",
    ),
    (
        "probes/json_kms_capitalized.json",
        "JSON: \"Kms\" is kms to HCL v1; kms ignores it",
    ),
    (
        "probes/json_list_trailing_comma.json",
        "HCL v1's JSON list parser skips commas; kms reads JSON strictly",
    ),
    (
        "probes/json_missing_comma.json",
        "HCL v1's JSON parser ends an object at any token that is not a comma; kms is strict",
    ),
    (
        "probes/json_seal_list_bodies.json",
        "a seal type holding a list of bodies is refused by Boundary; kms ignores seal",
    ),
    (
        "probes/json_trailing.json",
        "HCL v1's JSON parser ignores text after the top-level object; kms reads JSON strictly",
    ),
    (
        "probes/json_trailing_comma.json",
        "HCL v1's JSON parser ends an object at any token that is not a comma; kms is strict",
    ),
    (
        "probes/no_kms_blocks.hcl",
        "no kms block: Boundary accepts the file; kms says \"no enabled kms stanza\"",
    ),
    (
        "probes/previous_root_other_plugin_root.hcl",
        "root of another plugin type: Boundary cannot check previous-root offline and accepts; kms refuses",
    ),
    (
        "probes/purpose_capitalized_key.hcl",
        "Purpose is not purpose: Boundary skips the block; kms refuses it",
    ),
    (
        "probes/purpose_config_twice.hcl",
        "config twice in one block is allowed by Boundary; kms says listed twice",
    ),
    (
        "probes/purpose_double_comma.hcl",
        "\"root,,\": empty items are \"KMS block missing 'purpose'\"; kms drops them",
    ),
    (
        "probes/purpose_empty_list.hcl",
        "purpose = []: Boundary skips the block; kms refuses it",
    ),
    (
        "probes/purpose_empty_string.hcl",
        "purpose = \"\": Boundary skips the block; kms refuses it",
    ),
    (
        "probes/purpose_list_empty_item.hcl",
        "an empty list item is \"KMS block missing 'purpose'\"; kms drops it",
    ),
    (
        "probes/purpose_list_item_comma.hcl",
        "configutil does not split list items on commas; kms does",
    ),
    (
        "probes/purpose_trailing_comma.hcl",
        "\"root,\" is \"KMS block missing 'purpose'\"; kms drops the empty item",
    ),
    (
        "probes/purposes_plural.hcl",
        "purposes is not purpose: Boundary skips the block; kms refuses it",
    ),
    (
        "probes/root_previous_root_same_key.hcl",
        "Boundary compares root/previous-root by key id only; kms by key",
    ),
    (
        "probes/seal_awskms_access_key_only.hcl",
        "seal blocks are kms blocks to Boundary (access_key without secret_key refused); kms ignores seal",
    ),
    (
        "probes/seal_duplicate_purpose.hcl",
        "seal blocks are kms blocks to Boundary (duplicate purpose); kms ignores seal",
    ),
    (
        "probes/seal_only.hcl",
        "seal blocks are kms blocks to Boundary; kms ignores them",
    ),
    (
        "probes/seal_shamir.hcl",
        "seal shamir with a purpose is refused by Boundary; kms ignores seal",
    ),
    (
        "probes/unknown_attribute.hcl",
        "Boundary ignores unknown attributes; kms refuses them",
    ),
    (
        "probes/unknown_attribute_case.hcl",
        "Boundary ignores KEY_ID (not key_id); kms refuses it",
    ),
];

fn kms_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kms"))
}

/// `shared/oracle/corpus/boundary` beside an ancestor of this checkout.
fn boundary_corpus() -> Option<PathBuf> {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/oracle/corpus/boundary"))
        .find(|p| p.is_dir())
}

fn probes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../kms/tests/hclv1_probes")
}

fn configs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hcl" || e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn probes_say_what_they_probe() {
    let files = configs(&probes_dir());
    assert!(
        files.len() >= 100,
        "{} probes, want at least 100",
        files.len()
    );
    for f in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "hcl"))
    {
        let text = std::fs::read_to_string(f).unwrap();
        // A `.hcl` file whose text starts with `{` is JSON to HCL v1: it cannot hold a comment.
        if text.trim_start().starts_with('{') {
            continue;
        }
        assert!(
            text.starts_with("# probe: "),
            "{}: the first line says what it probes (# probe: ...)",
            f.display()
        );
    }
}

#[test]
fn kms_check_agrees_with_boundary_on_the_corpus() {
    let Some(oracle) = Oracle::find() else {
        return;
    };
    let corpus = boundary_corpus();
    assert!(
        corpus.is_some() || std::env::var("KMS_REQUIRE_INTEGRATION").map_or(true, |v| v != "1"),
        "shared/oracle/corpus/boundary not found beside an ancestor of {}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    if let Some(dir) = &corpus {
        let found = configs(dir);
        assert!(
            found.len() >= 80,
            "{}: {} files",
            dir.display(),
            found.len()
        );
        files.extend(found.into_iter().map(|p| {
            (
                format!("boundary/{}", p.file_name().unwrap().to_string_lossy()),
                p,
            )
        }));
    } else {
        eprintln!("NOTE: shared/oracle/corpus/boundary not found; probes only");
    }
    files.extend(configs(&probes_dir()).into_iter().map(|p| {
        (
            format!("probes/{}", p.file_name().unwrap().to_string_lossy()),
            p,
        )
    }));

    let mut failures = Vec::new();
    let (mut agree, mut skipped, mut known_seen) = (0, 0, Vec::new());
    for (name, path) in &files {
        let boundary = oracle.read(path);
        let out = oracle.kms_check_output(kms_bin(), path);
        let kms = check_verdict(&out);
        let outcome = compare(&boundary, &kms, &String::from_utf8_lossy(&out.stderr));
        let known = KNOWN_DIFFERENCES.iter().find(|(n, _)| n == name);
        match (outcome, known) {
            (Outcome::Agree, None) => agree += 1,
            (Outcome::OutsideScope(types), None) => {
                skipped += 1;
                eprintln!("SKIP {name}: type(s) {types:?} outside kms's scope");
            }
            (Outcome::Disagree(_), Some(_)) => known_seen.push(name.clone()),
            (Outcome::Disagree(how), None) => failures.push(format!(
                "{name}: {how}\n  Boundary: {boundary}\n  kms:      {}",
                kms.to_string().replace('\n', "\n            ")
            )),
            (_, Some((_, why))) => failures.push(format!(
                "{name}: now agrees with Boundary; remove it from KNOWN_DIFFERENCES ({why})"
            )),
        }
    }
    for (name, _) in KNOWN_DIFFERENCES {
        assert!(
            files.iter().any(|(n, _)| n == name),
            "KNOWN_DIFFERENCES names {name}, which is not in the corpus"
        );
    }
    eprintln!(
        "oracle corpus: {} files: {agree} agree, {skipped} outside scope, {} known differences, \
         {} new failures",
        files.len(),
        known_seen.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
