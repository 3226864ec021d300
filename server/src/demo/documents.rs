//! Each demo household's automerge document, shaped as months of use would leave it, and
//! admitted by the write core's gate like any household's history: the read model stored
//! beside it is the core's projection of the document, not the rows the generator made.

use super::DemoError;
use super::accompaniment::plan_for;
use crate::store::{Import, ImportedDoc};
use chrono::NaiveDate;
use shared::doc::Collection;
use shared::projection::{Records, to_doc};
use shared::rules::RuleBook;

/// One household document per household, holding its records, so phones can sync at once.
/// Each passes the write core's gate as a household's history (`admit_history`): the
/// read model stored beside it is the core's projection of the document, not the rows
/// the generator made.
pub(super) fn documents(
    d: &Import,
    commune: usize,
    today: NaiveDate,
) -> Result<Vec<(ImportedDoc, Records)>, DemoError> {
    use std::collections::HashMap;
    let mut by: HashMap<&str, Records> = d
        .households
        .iter()
        .map(|h| {
            (
                h.id.as_str(),
                Records {
                    household: h.clone(),
                    members: vec![],
                    assessments: vec![],
                    visits: vec![],
                    support: vec![],
                    plan: plan_for(h),
                    review_steps: vec![],
                },
            )
        })
        .collect();
    for m in &d.members {
        by.get_mut(m.household_id.as_str())
            .expect("member of a household")
            .members
            .push(m.clone());
    }
    for a in &d.assessments {
        by.get_mut(a.household_id.as_str())
            .expect("review of a household")
            .assessments
            .push(a.clone());
    }
    for st in &d.review_steps {
        by.get_mut(st.household_id.as_str())
            .expect("review step of a household")
            .review_steps
            .push(st.clone());
    }
    for v in &d.visits {
        by.get_mut(v.household_id.as_str())
            .expect("visit of a household")
            .visits
            .push(v.clone());
    }
    for s in &d.support {
        by.get_mut(s.household_id.as_str())
            .expect("support of a household")
            .support
            .push(s.clone());
    }
    let author = shared::doc::Author {
        user_id: "demo".into(),
        device_id: "server".into(),
        at_ms: 1_700_000_000_000,
        door: None,
    };
    let book = RuleBook::built_in();
    // The end of the demo's day: nothing it dates lies ahead of it.
    let now_ms = today
        .and_hms_opt(23, 59, 0)
        .map_or(0, |t| t.and_utc().timestamp_millis());
    d.households
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let mut actor = [0u8; 16];
            actor[..8].copy_from_slice(&(i as u64).to_be_bytes());
            actor[8..].copy_from_slice(&(commune as u64).to_be_bytes());
            let mut doc = lived_doc(&actor, &by[h.id.as_str()], &author)
                .map_err(|e| DemoError::Bug(e.to_string()))?;
            let mut a = shared::core::admit_history(
                &h.id,
                &doc.save_after(&[]),
                now_ms,
                &book,
                &shared::core::Limits::DEFAULT,
            )
            .map_err(|r| DemoError::Bug(format!("household {}: {}", h.code, r.reason.en)))?;
            let heads = a.doc.heads().iter().map(|x| x.to_string()).collect();
            let imported = ImportedDoc {
                household_id: h.id.clone(),
                bytes: a.doc.save(),
                heads,
            };
            Ok((imported, a.records))
        })
        .collect()
}

/// A document shaped as it would be after months of use: the registration and reviews
/// brought in at once, then every visit a change of its own from the cadre's phone and
/// every support action one from the commune officer's laptop.
fn lived_doc(
    actor: &[u8],
    r: &Records,
    author: &shared::doc::Author,
) -> Result<shared::doc::HouseholdDoc, shared::doc::DocError> {
    use shared::projection::{support_json, visit_json};
    let registered = Records {
        visits: vec![],
        support: vec![],
        ..r.clone()
    };
    let mut doc = to_doc(actor, &registered, author)?;
    let device_of = |user: &str| {
        let mut a = [0xD0u8; 16];
        for (i, b) in user.bytes().enumerate() {
            a[i % 16] ^= b.rotate_left(i as u32 % 8);
        }
        a
    };
    let at = |d: NaiveDate| {
        d.and_hms_opt(9, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp_millis())
    };
    for v in &r.visits {
        doc.automerge()
            .set_actor(automerge::ActorId::from(&device_of(&v.cadre_id)[..]));
        let by = shared::doc::Author {
            user_id: v.cadre_id.clone(),
            device_id: format!("{}-phone", v.cadre_id),
            at_ms: at(v.data.date),
            door: None,
        };
        doc.put_record(Collection::Visits, &v.id, &visit_json(v), &by)?;
    }
    for s in &r.support {
        doc.automerge()
            .set_actor(automerge::ActorId::from(&device_of("officer")[..]));
        let by = shared::doc::Author {
            user_id: "demo-officer".into(),
            device_id: "commune-laptop".into(),
            at_ms: at(s.data.planned_date),
            door: None,
        };
        doc.put_record(Collection::Support, &s.id, &support_json(s), &by)?;
    }
    Ok(doc)
}
