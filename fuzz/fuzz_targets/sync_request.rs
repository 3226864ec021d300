//! Untrusted bytes through the path a phone's request takes: the JSON sync request, each
//! push's change bytes through bounded decoding and the admission gate, and the hub's
//! answer — over the in-memory store, with the same code the server runs. Bytes that are
//! not a request go straight to the gate as one push's changes, where automerge parses
//! them. Nothing may panic, abort or run away.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use shared::core::memory::{MemoryStore, block_on};
use shared::core::{Hub, Limits, Scope, Writer, admit};
use shared::doc::{Author, HouseholdDoc};
use shared::rules::RuleBook;
use shared::sync::SyncRequest;
use shared::user::Role;
use std::sync::{Arc, OnceLock};

const NOW_MS: i64 = 1_790_000_000_000;

fn writer() -> Writer {
    Writer {
        user_id: "u-officer".into(),
        device_id: "phone".into(),
        role: Role::CommuneOfficer,
        now_ms: NOW_MS,
        decision: false, door: shared::doc::Door::Console, 
    }
}

/// A valid household, as the server holds it.
fn household() -> &'static HouseholdDoc {
    static DOC: OnceLock<HouseholdDoc> = OnceLock::new();
    DOC.get_or_init(|| {
        let author = Author {
            user_id: "server".into(),
            device_id: "server".into(),
            at_ms: NOW_MS, door: None, 
        };
        let mut d = HouseholdDoc::new(&[0xAA; 16], "h1", &author);
        d.update_profile(
            &json!({"code": "DV-1", "village_id": "v1", "head_name": "Hoàng Văn Páo", "address": "Xóm 1", "residence": "rural", "status": "poor", "created_at": "2025-01-01T00:00:00.000Z"}),
            &author,
        )
        .unwrap();
        d
    })
}

fn rules() -> &'static Arc<RuleBook> {
    static RULES: OnceLock<Arc<RuleBook>> = OnceLock::new();
    RULES.get_or_init(|| Arc::new(RuleBook::built_in()))
}

/// libFuzzer's hook aborts on any panic, even one the gate catches (automerge panics on
/// some malformed input, and the gate turns that into a refusal). A silent hook lets the
/// gate's `catch_unwind` work; a panic it does not catch still aborts the run, since
/// `fuzz_target!` aborts on a panic that reaches it.
fn default_panic_hook() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| std::panic::set_hook(Box::new(|_| {})));
}

fuzz_target!(|data: &[u8]| {
    default_panic_hook();
    let w = writer();
    match serde_json::from_slice::<SyncRequest>(data) {
        Ok(req) => {
            let store = MemoryStore::default();
            store.put("h1", household().clone());
            let hub = Hub::new(rules().clone());
            let ids = ["h1".to_string()].into_iter().collect::<std::collections::BTreeSet<_>>();
            let scope = Scope {
                read: ids.clone(),
                push: ids,
                villages: None,
            };
            let _ = block_on(hub.sync(&store, &w, scope, &req));
        }
        Err(_) => {
            let _ = admit(&w, "h1", &mut Some(household().clone()), data, rules(), &Limits::DEFAULT);
        }
    }
});
