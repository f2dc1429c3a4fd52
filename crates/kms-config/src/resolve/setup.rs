//! Boundary's `SetupKMSes` for the blocks that have a purpose, with `GetWrapperFromHcl`'s
//! rule of one config block: each purpose is known, each type compiled in, each wrapper's
//! settings valid; one block per purpose except config (one block, listed any number of
//! times) and downstream-worker-auth (a pool of keys with distinct key ids); previous-root
//! beside a root with another key id.

use std::collections::HashMap;
use std::sync::Arc;

use kms_core::Purpose;

use super::{
    build_stanza, factory_of, purposes, read_attrs, shown, unknown_type, Ctx, Parsed, PURPOSE,
};
use crate::raw::RawBlock;
use crate::WrapperConfig;

/// go-kms-wrapping's multi-wrapper reserves this key id (`multi.BaseEncryptor`).
const BASE_ENCRYPTOR: &str = "__base__";

#[derive(Default)]
pub(super) struct Setup {
    wrappers: Vec<WrapperConfig>,
    /// Purposes of which Boundary allows one, with the block that took each.
    taken: Vec<(Purpose, String)>,
    config_block: Option<String>,
    /// The downstream-worker-auth pool: key ids, with the first block of each (a map, so that
    /// a config of many blocks is checked in linear time).
    pool: HashMap<String, String>,
    /// Every purpose named by a block, usable or not.
    named: Vec<Purpose>,
    /// Key ids of usable wrappers, by wrapper index.
    ids: Vec<String>,
}

fn place(b: &RawBlock) -> String {
    match b.line {
        Some(l) => format!("{} \"{}\" block at line {l}", b.block, b.kind),
        None => format!("{} \"{}\" block", b.block, b.kind),
    }
}

impl Setup {
    pub(super) fn block(&mut self, cx: &mut Ctx<'_>, b: &RawBlock, parsed: &Parsed<'_>) {
        let mut ps = Vec::new();
        let mut usable = true;
        for text in &parsed.purposes {
            match purposes::purpose(text) {
                Ok(p) => ps.push(p),
                Err(m) => {
                    usable = false;
                    cx.err(b, Some(PURPOSE), m);
                }
            }
        }
        self.named.extend(&ps);
        let Some(&factory) = factory_of(cx.opts, &b.kind) else {
            unknown_type(cx, b);
            return;
        };
        let schema = factory.schema();
        let vals = read_attrs(cx, b, parsed, schema);
        let before = cx.errors.len();
        let stanza = build_stanza(cx, b, &vals, schema);
        for p in factory.check(&stanza) {
            if p.warning {
                cx.warn(b, p.attribute, p.message);
            } else {
                cx.err(b, p.attribute, p.message);
            }
        }
        usable &= cx.errors.len() == before && !vals.values().any(Option::is_none);
        let here = place(b);
        let id = factory
            .key_identity(&stanza)
            .map(|k| k.id)
            .unwrap_or_default();
        if ps.contains(&Purpose::Config) {
            match &self.config_block {
                Some(other) => cx.err(
                    b,
                    Some(PURPOSE),
                    format!("config is already the purpose of the {other}; Boundary allows only one kms block marked for config"),
                ),
                None => self.config_block = Some(here.clone()),
            }
        }
        for p in &ps {
            match p {
                Purpose::Config => {}
                Purpose::DownstreamWorkerAuth => {
                    if !usable {
                        continue;
                    }
                    if self.pool.is_empty() && id == BASE_ENCRYPTOR {
                        cx.err(b, Some(PURPOSE), format!("key id {} is reserved by Boundary's wrapper pool", shown(&id)));
                    } else if let Some(other) = self.pool.get(&id) {
                        cx.err(
                            b,
                            Some(PURPOSE),
                            format!(
                                "downstream-worker-auth key id {} is already in the pool from the {other}; Boundary refuses it (\"Wrapper already added\"): give each key its own key id",
                                shown(&id)
                            ),
                        );
                    }
                    self.pool.entry(id.clone()).or_insert_with(|| here.clone());
                }
                _ => match self.taken.iter().find(|(q, _)| q == p) {
                    Some((_, other)) if *other == here => cx.err(
                        b,
                        Some(PURPOSE),
                        format!("purpose \"{p}\" is listed twice; Boundary allows it once"),
                    ),
                    Some((_, other)) => cx.err(
                        b,
                        Some(PURPOSE),
                        format!("purpose \"{p}\" is already used by the {other}; only downstream-worker-auth may repeat"),
                    ),
                    None => self.taken.push((*p, here.clone())),
                },
            }
        }
        if usable {
            let stanza = Arc::new(stanza);
            for p in ps {
                self.ids.push(id.clone());
                self.wrappers.push(WrapperConfig {
                    purpose: p,
                    kind: schema.kind.clone(),
                    line: b.line.unwrap_or(0),
                    stanza: Arc::clone(&stanza),
                    factory,
                });
            }
        }
    }

    /// previous-root needs a root, with another key id.
    pub(super) fn finish(self, cx: &mut Ctx<'_>) -> Vec<WrapperConfig> {
        let of = |p: Purpose| {
            self.wrappers
                .iter()
                .zip(&self.ids)
                .find(|(w, _)| w.purpose == p)
        };
        if let Some((prev, prev_id)) = of(Purpose::PreviousRoot) {
            let line = (prev.line > 0).then_some(prev.line);
            let block = Some(format!("kms \"{}\"", prev.kind));
            let push = |cx: &mut Ctx<'_>, key: &str, m: String, warning: bool| {
                let p = cx.problem(usize::MAX, line, block.clone(), Some(key), m);
                if warning {
                    cx.warnings.push(p);
                } else {
                    cx.errors.push(p);
                }
            };
            if prev_id == BASE_ENCRYPTOR {
                push(
                    cx,
                    "key_id",
                    format!(
                        "key id {} is reserved by Boundary's wrapper pool",
                        shown(prev_id)
                    ),
                    false,
                );
            }
            match of(Purpose::Root) {
                None if !self.named.contains(&Purpose::Root) => push(
                    cx,
                    PURPOSE,
                    "previous-root without a root block: Boundary refuses it (previous-root keys only decrypt; root encrypts new data)".into(),
                    false,
                ),
                None => {}
                Some((root, root_id)) => {
                    if root_id == BASE_ENCRYPTOR {
                        push(cx, "key_id", format!("root's key id {} is reserved by Boundary's wrapper pool", shown(root_id)), false);
                    } else if root_id == prev_id {
                        let m = format!(
                            "root (line {}) and previous-root have the same key id {}; Boundary refuses it: give previous-root the old key's id",
                            root.line,
                            shown(root_id)
                        );
                        push(cx, "key_id", m, false);
                    } else if root.kind == prev.kind {
                        if let Some(attr) = prev.factory.same_key_material(&prev.stanza, &root.stanza) {
                            let m = format!("root (line {}) and previous-root hold the same key (value hidden) under different key ids; Boundary accepts it, but previous-root should be the old key", root.line);
                            push(cx, attr, m, true);
                        }
                    }
                }
            }
        }
        self.wrappers
    }
}
