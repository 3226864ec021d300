//! Rebuilding the relational read model from the household documents, which are the
//! source of truth: after a bug in a projection, or to check that nothing drifted.

use crate::store::{HouseholdFilter, Store, StoreError};
use shared::doc::Author;
use shared::projection::project;

/// Re-projects every household that has a document; returns how many.
pub async fn read_model(store: &dyn Store) -> Result<usize, StoreError> {
    let ids: Vec<String> = store
        .list_households(&HouseholdFilter {
            limit: i64::MAX / 2,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|h| h.id)
        .collect();
    let author = Author {
        user_id: "rebuild".into(),
        device_id: "server".into(),
        at_ms: 0,
        door: None,
    };
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut n = 0;
    for id in ids {
        let Some(stored) = store.docs().load_doc(&id).await? else {
            continue;
        };
        let doc = stored
            .open(&author)
            .map_err(|e| StoreError::Corrupt(format!("document {id}: {e}")))?;
        let records = project(&id, &doc.to_json(), &now)
            .map_err(|e| StoreError::Corrupt(format!("document {id}: {e}")))?;
        store.docs().put_records(&records).await?;
        n += 1;
    }
    // The read model was written outside the documents' sequence.
    store.forget_report_parts().await?;
    Ok(n)
}
