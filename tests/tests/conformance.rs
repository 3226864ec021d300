//! The storage conformance suite: every `Store` behaviour the API relies on, run against
//! SQLite and PostgreSQL alike (`sqlite::…` and `postgres::…` in the output).

use chrono::NaiveDate;
use server::store::DynStore;
use server::store::{
    Actor, AssignmentFilter, HouseholdFilter, REFRESH_RETRY_GRACE_MS, RefreshRefusal, StoreError,
    Within,
};
use shared::area::{Area, AreaInput, AreaKind};
use shared::assessment::{Assessment, ReviewKind};
use shared::assignment::Assignment;
use shared::core::EditError;
use shared::doc::Collection;
use shared::household::{HouseholdInput, HouseholdStatus, PriorityFlags, Residence};
use shared::projection::Records;
use shared::rules::{DeprivationEvidence, Evidence, IncomeEvidence, RuleBook, classify};
use shared::support::{Project, SupportAction, SupportInput, SupportKind, SupportStatus};
use shared::target::{Target, TargetInput};
use sqlx::Connection as _;
use tests::{Backend, TestDb, fixture, on_both_backends};

fn actor() -> Actor {
    Actor {
        user_id: Some("u-officer1".into()),
        device_id: Some("laptop-1".into()),
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn profile(code: &str, village: &str) -> serde_json::Value {
    let input = HouseholdInput {
        code: code.into(),
        village_id: village.into(),
        address: "Xóm Nà Khau".into(),
        head_name: "Triệu Văn Sình".into(),
        residence: Residence::Rural,
        priority: PriorityFlags {
            ethnic_minority: true,
            ..Default::default()
        },
        causes: vec![shared::household::Cause::LackOfCapital],
    };
    let mut v = serde_json::to_value(input).unwrap();
    v["status"] = serde_json::json!("not_poor");
    v["created_at"] = serde_json::json!("2026-01-01T00:00:00.000Z");
    v
}

async fn area_tree_and_paths(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    fixture::load(&s).await;
    assert_eq!(s.area_path("v1").await.unwrap(), ["v1", "c1", "p"]);
    assert_eq!(s.villages_under("c1").await.unwrap(), ["v1", "v2"]);
    assert_eq!(s.villages_under("p").await.unwrap(), ["v1", "v2", "v3"]);
    assert_eq!(s.villages_under("v3").await.unwrap(), ["v3"]);
    // The province overview's communes: the communes under an area, by code, without
    // their villages; a commune is its own; a village or an unknown area has none.
    let ids = |areas: Vec<Area>| areas.into_iter().map(|a| a.id).collect::<Vec<_>>();
    assert_eq!(ids(s.communes_under("p").await.unwrap()), ["c1", "c2"]);
    assert_eq!(ids(s.communes_under("c2").await.unwrap()), ["c2"]);
    assert!(s.communes_under("v1").await.unwrap().is_empty());
    assert!(s.communes_under("nowhere").await.unwrap().is_empty());
    assert!(matches!(
        s.area_path("nowhere").await,
        Err(StoreError::NotFound)
    ));
    let a = s
        .create_area(
            &actor(),
            &AreaInput {
                parent_id: Some("c1".into()),
                kind: AreaKind::Village,
                code: "V9".into(),
                name: "Bản Chín".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(s.villages_under("c1").await.unwrap().len(), 3);
    let dup = s
        .create_area(
            &actor(),
            &AreaInput {
                parent_id: Some("c1".into()),
                kind: AreaKind::Village,
                code: "V9".into(),
                name: "Khác".into(),
            },
        )
        .await;
    assert!(
        matches!(dup, Err(StoreError::Duplicate(_))),
        "area codes are unique"
    );
    let renamed = s
        .update_area(
            &actor(),
            &a.id,
            &AreaInput {
                parent_id: Some("c1".into()),
                kind: AreaKind::Village,
                code: "V9".into(),
                name: "Bản Chín Mới".into(),
            },
        )
        .await
        .unwrap();
    assert_eq!(s.get_area(&a.id).await.unwrap(), renamed);
    db.cleanup().await;
}

async fn households_are_stored_filtered_and_audited(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    fixture::load(&s).await;
    tests::write::create(&s, "hx", profile("H-X", "v2"))
        .await
        .unwrap();
    let h = s.get_household("hx").await.unwrap();
    assert_eq!(
        (h.code.as_str(), h.village_id.as_str(), h.status),
        ("H-X", "v2", HouseholdStatus::NotPoor)
    );
    assert!(h.priority.ethnic_minority);
    assert!(
        matches!(
            tests::write::create(&s, "hy", profile("H-X", "v2")).await,
            Err(EditError::Refused(r)) if r.code == "duplicate_code"
        ),
        "household codes are unique"
    );
    assert!(
        matches!(
            tests::write::create(&s, "hz", profile("H-Z", "no-such-village")).await,
            Err(EditError::Storage(StoreError::BadReference(_)))
        ),
        "the village must exist"
    );

    let all = |f: HouseholdFilter| {
        let s = s.clone();
        async move {
            s.list_households(&HouseholdFilter { limit: 100, ..f })
                .await
                .unwrap()
                .into_iter()
                .map(|h| h.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        all(HouseholdFilter {
            within: Within::Villages(vec!["v1".into()]),
            ..Default::default()
        })
        .await,
        ["h1", "h2"]
    );
    assert_eq!(
        all(HouseholdFilter {
            within: Within::Villages(vec![]),
            ..Default::default()
        })
        .await,
        Vec::<String>::new()
    );
    assert_eq!(
        all(HouseholdFilter {
            status: Some(HouseholdStatus::Poor),
            ..Default::default()
        })
        .await,
        ["h1", "h3"]
    );
    assert_eq!(
        all(HouseholdFilter {
            household_ids: Some(vec!["h3".into(), "hx".into()]),
            ..Default::default()
        })
        .await,
        ["h3", "hx"]
    );
    assert_eq!(
        all(HouseholdFilter {
            search: Some("sình".into()),
            ..Default::default()
        })
        .await,
        ["hx"]
    );
    // Typed on a phone without accents, and in capitals.
    assert_eq!(
        all(HouseholdFilter {
            search: Some("TRIEU VAN SINH".into()),
            ..Default::default()
        })
        .await,
        ["hx"]
    );
    assert_eq!(
        all(HouseholdFilter {
            search: Some("h-2".into()),
            ..Default::default()
        })
        .await,
        ["h2"]
    );
    let page = s
        .list_households(&HouseholdFilter {
            limit: 2,
            offset: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        page.iter().map(|h| h.code.as_str()).collect::<Vec<_>>(),
        ["H-2", "H-3"]
    );

    let audit = serde_json::json!({"action": "update", "entity": "household", "entity_id": "hx",
        "changes": {"head_name": ["Triệu Văn Sình", "Triệu Thị Mẩy"]}});
    tests::write::edit(&s, "hx", audit, |d, a| {
        d.update_profile(&serde_json::json!({"head_name": "Triệu Thị Mẩy"}), a)
    })
    .await
    .unwrap();
    let after = s.get_household("hx").await.unwrap();
    assert_eq!(after.head_name, "Triệu Thị Mẩy");
    assert_eq!(after.created_at, h.created_at);
    let audit = s.list_audit(Some("hx"), 10).await.unwrap();
    assert_eq!(audit.len(), 2, "create and update are audited");
    assert_eq!(audit[0].action, "update");
    assert_eq!(audit[0].user_id.as_deref(), Some("u-officer1"));
    assert_eq!(audit[0].device_id.as_deref(), Some("laptop-1"));
    assert_eq!(
        audit[0].changes["head_name"],
        serde_json::json!(["Triệu Văn Sình", "Triệu Thị Mẩy"])
    );
    db.cleanup().await;
}

/// Members are added, changed and removed through the write core; the read model lists
/// them in the order of their ids (time-ordered UUIDs from the phone and the API).
async fn members_are_added_changed_and_removed(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    fixture::load(&s).await;
    let put = |id: &'static str, m: shared::household::MemberInput| {
        let s = s.clone();
        async move {
            let record = shared::projection::member_json(&m);
            let audit = serde_json::json!({"action": "create", "entity": "member", "entity_id": id, "changes": {}});
            tests::write::edit(&s, "h2", audit, move |d, a| {
                d.put_record(Collection::Members, id, &record, a)
            })
            .await
            .unwrap();
        }
    };
    for (id, name) in [
        ("m-1", "Bàn Văn Một"),
        ("m-2", "Bàn Thị Hai"),
        ("m-3", "Bàn Văn Ba"),
    ] {
        put(id, fixture::member_input(name)).await;
    }
    let names = |ms: Vec<shared::household::Member>| {
        ms.into_iter().map(|m| m.data.full_name).collect::<Vec<_>>()
    };
    assert_eq!(
        names(s.list_members("h2").await.unwrap()),
        ["Bàn Văn Một", "Bàn Thị Hai", "Bàn Văn Ba", "Chủ hộ H-2"]
    );
    let mut m = fixture::member_input("Bàn Thị Hai");
    m.health_insurance = false;
    put("m-2", m).await;
    assert!(!s.get_member("m-2").await.unwrap().data.health_insurance);
    let audit = serde_json::json!({"action": "delete", "entity": "member", "entity_id": "m-1", "changes": {}});
    tests::write::edit(&s, "h2", audit, |d, a| {
        d.delete_record(Collection::Members, "m-1", a)
    })
    .await
    .unwrap();
    assert_eq!(s.list_members("h2").await.unwrap().len(), 3);
    assert!(matches!(
        s.get_member("m-1").await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.list_audit(Some("m-1"), 10).await.unwrap()[0].action,
        "delete"
    );
    db.cleanup().await;
}

fn review(id: &str, household: &str, date: &str, income: i64, deprived: &[&str]) -> Assessment {
    let book = RuleBook::built_in();
    let date = day(date);
    let rs = shared::review::rule_set_for(&book, ReviewKind::Annual, date).unwrap();
    let evidence = Evidence {
        residence: Residence::Rural,
        income: IncomeEvidence::Income {
            per_person_month: income,
        },
        deprivation: DeprivationEvidence::Indicators {
            deprived: deprived.iter().map(|s| s.to_string()).collect(),
        },
    };
    let o = classify(rs, &evidence).unwrap();
    Assessment {
        id: id.into(),
        household_id: household.into(),
        kind: ReviewKind::Annual,
        date,
        evidence,
        classification: o.classification,
        explanation: o.explanation,
    }
}

/// Reviews are kept in the read model as written; the official status is not theirs to
/// change: a write that tries is refused (the decision flow is in `campaign.rs`).
async fn reviews_are_kept_and_the_status_waits_for_a_decision(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    fixture::load(&s).await;
    let review_in = |a: Assessment, status: Option<HouseholdStatus>| {
        let s = s.clone();
        async move {
            let record = shared::projection::assessment_json(&a);
            let audit = serde_json::json!({"action": "create", "entity": "assessment", "entity_id": a.id,
                "changes": {"created": a.id}});
            tests::write::edit(&s, "h2", audit, move |d, au| {
                d.put_record(Collection::Assessments, &a.id, &record, au)?;
                match status {
                    Some(st) => d.set_field(&["profile", "status"], &serde_json::json!(st), au),
                    None => Ok(()),
                }
            })
            .await
        }
    };
    review_in(
        review(
            "r1",
            "h2",
            "2024-11-01",
            1_000_000,
            &["latrine", "telecom", "nutrition"],
        ),
        None,
    )
    .await
    .unwrap();
    let refused = review_in(
        review("r2", "h2", "2025-11-01", 2_000_000, &[]),
        Some(HouseholdStatus::NewlyEscaped),
    )
    .await;
    assert!(
        matches!(&refused, Err(shared::core::EditError::Refused(r)) if r.code == "derived"),
        "{refused:?}"
    );
    review_in(review("r2", "h2", "2025-11-01", 2_000_000, &[]), None)
        .await
        .unwrap();
    assert_eq!(
        s.get_household("h2").await.unwrap().status,
        HouseholdStatus::NearPoor
    );
    let rs = s.list_assessments("h2").await.unwrap();
    assert_eq!(
        rs.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["r1", "r2"]
    );
    assert_eq!(
        rs[0].explanation.deprived,
        ["nutrition", "latrine", "telecom"]
    );
    let audit = s.list_audit(Some("r2"), 1).await.unwrap();
    assert_eq!(audit[0].changes["created"], "r2");
    db.cleanup().await;
}

async fn assignments_visits_and_support(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    fixture::load(&s).await;
    let a = Assignment {
        id: "a2".into(),
        household_id: "h2".into(),
        cadre_id: "u-cadre1".into(),
        from_date: day("2026-01-01"),
        to_date: None,
        cadence_days: 30,
    };
    s.create_assignment(&actor(), &a).await.unwrap();
    let active = |d: &str| {
        let s = s.clone();
        let d = day(d);
        async move {
            s.list_assignments(&AssignmentFilter {
                cadre_id: Some("u-cadre1".into()),
                active_on: Some(d),
                ..Default::default()
            })
            .await
            .unwrap()
            .len()
        }
    };
    assert_eq!(active("2025-06-01").await, 1);
    assert_eq!(active("2026-06-01").await, 2);
    s.end_assignment(&actor(), "a2", day("2026-03-31"))
        .await
        .unwrap();
    assert_eq!(active("2026-03-30").await, 2);
    assert_eq!(
        active("2026-03-31").await,
        1,
        "an assignment ends on its end date"
    );
    let in_c2 = s
        .list_assignments(&AssignmentFilter {
            within: Within::Villages(vec!["v3".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        in_c2.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
        ["a3"]
    );

    let v = shared::visit::Visit {
        id: "visit-1".into(),
        household_id: "h1".into(),
        cadre_id: "u-cadre1".into(),
        data: shared::visit::VisitInput {
            date: day("2026-11-02"),
            discussed: "Hướng dẫn trồng keo".into(),
            progress: String::new(),
            needs: "Cây giống".into(),
            next_visit: Some(day("2026-12-02")),
        },
    };
    let record = shared::projection::visit_json(&v);
    let audit = serde_json::json!({"action": "create", "entity": "visit", "entity_id": "visit-1", "changes": {}});
    tests::write::edit(&s, "h1", audit, |d, a| {
        d.put_record(Collection::Visits, "visit-1", &record, a)
    })
    .await
    .unwrap();
    assert_eq!(s.list_visits("h1").await.unwrap(), [v]);

    let mut sa = SupportAction {
        id: "s1".into(),
        household_id: "h1".into(),
        status: SupportStatus::Planned,
        delivered_date: None,
        data: SupportInput {
            kind: SupportKind::Loan,
            project: Project::OtherPolicy,
            provider: "NHCSXH".into(),
            amount_vnd: Some(50_000_000),
            quantity: None,
            unit: String::new(),
            planned_date: day("2026-10-01"),
            addresses_cause: None,
            addresses_indicator: None,
            note: String::new(),
        },
    };
    for status in [SupportStatus::Planned, SupportStatus::Delivered] {
        sa.status = status;
        sa.delivered_date = (status == SupportStatus::Delivered).then(|| day("2026-10-20"));
        let record = shared::projection::support_json(&sa);
        let audit = serde_json::json!({"action": "update", "entity": "support_action", "entity_id": "s1", "changes": {}});
        tests::write::edit(&s, "h1", audit, |d, a| {
            d.put_record(Collection::Support, "s1", &record, a)
        })
        .await
        .unwrap();
    }
    assert_eq!(s.get_support("s1").await.unwrap(), sa);
    assert_eq!(s.list_support("h1").await.unwrap(), [sa]);
    // The household's row keeps its last visit, the next one planned and its plan.
    db.assert_counts_agree().await;

    // A commune's records are found by its commune key; a village moved to another commune
    // carries its households' records with it.
    let (from, to) = (day("2026-01-01"), day("2026-12-31"));
    let found = |c: &'static str| {
        let s = s.clone();
        async move {
            let within = Within::Communes(vec![c.into()]);
            let support = s.delivered_in(&within, from, to).await.unwrap();
            let visits = s.visits_in(&within, from, to).await.unwrap();
            let households = s
                .list_households(&HouseholdFilter {
                    within,
                    limit: 100,
                    ..Default::default()
                })
                .await
                .unwrap();
            (
                support.into_iter().map(|x| x.id).collect::<Vec<_>>(),
                visits.into_iter().map(|(_, h, _)| h).collect::<Vec<_>>(),
                households.into_iter().map(|h| h.id).collect::<Vec<_>>(),
            )
        }
    };
    assert_eq!(
        found("c1").await,
        (
            vec!["s1".into()],
            vec!["h1".into()],
            vec!["h1".into(), "h2".into()]
        )
    );
    assert_eq!(found("c2").await, (vec![], vec![], vec!["h3".into()]));
    let v1 = s.get_area("v1").await.unwrap();
    s.update_area(
        &actor(),
        "v1",
        &AreaInput {
            parent_id: Some("c2".into()),
            kind: v1.kind,
            code: v1.code,
            name: v1.name,
        },
    )
    .await
    .unwrap();
    assert_eq!(found("c1").await, (vec![], vec![], vec![]));
    assert_eq!(
        found("c2").await,
        (
            vec!["s1".into()],
            vec!["h1".into()],
            vec!["h1".into(), "h2".into(), "h3".into()]
        )
    );
    assert_eq!(
        s.within("c2").await.unwrap(),
        Within::Communes(vec!["c2".into()])
    );
    assert_eq!(
        s.within("v1").await.unwrap(),
        Within::Villages(vec!["v1".into()])
    );
    assert_eq!(
        s.within("p").await.unwrap(),
        Within::Communes(vec!["c1".into(), "c2".into()])
    );
    db.assert_counts_agree().await;
    db.cleanup().await;
}

async fn targets_and_counts(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    fixture::load(&s).await;
    let t = Target {
        area_id: "c1".into(),
        year: 2026,
        data: TargetInput {
            poor_rate_pct: 3.39,
            near_poor_rate_pct: 8.0,
            indicator_goals: [("health_insurance".into(), 1.5)].into(),
        },
    };
    s.put_target(&actor(), &t).await.unwrap();
    let t2 = Target {
        data: TargetInput {
            poor_rate_pct: 3.0,
            ..t.data.clone()
        },
        ..t.clone()
    };
    s.put_target(&actor(), &t2).await.unwrap();
    assert_eq!(
        s.list_targets(&["c1".into(), "c2".into()]).await.unwrap(),
        [t2],
        "a second put replaces the first"
    );
    let counts = s
        .status_counts(&Within::Villages(vec!["v1".into(), "v3".into()]))
        .await
        .unwrap();
    let n = |v: &str, st| {
        counts
            .iter()
            .find(|c| c.village_id == v && c.status == st)
            .map(|c| c.households)
    };
    assert_eq!(n("v1", HouseholdStatus::Poor), Some(1));
    assert_eq!(n("v1", HouseholdStatus::NearPoor), Some(1));
    assert_eq!(n("v3", HouseholdStatus::Poor), Some(1));
    db.cleanup().await;
}

async fn refresh_tokens_rotate_once_and_revoke(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    fixture::load(&s).await;
    let now = 1_000_000;
    let session = s
        .create_session("u-cadre1", "phone-1", "t0", now + 1000, now)
        .await
        .unwrap();
    let next = s
        .rotate_refresh("t0", "phone-1", "t1", now + 2000, now + 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.id, session.id);
    // The answer carrying t1 was lost: t0 again is a retry that retires t1.
    assert_eq!(
        s.rotate_refresh("t0", "phone-1", "t2", now + 2000, now + 2)
            .await
            .unwrap()
            .unwrap()
            .id,
        session.id
    );
    // The retired token presented: a replay, and the whole session ends.
    assert_eq!(
        s.rotate_refresh("t1", "phone-1", "t9", now + 2000, now + 3)
            .await
            .unwrap()
            .unwrap_err(),
        RefreshRefusal::AlreadyUsed,
        "the retired token"
    );
    assert_eq!(
        s.rotate_refresh("t2", "phone-1", "t3", now + 2000, now + 4)
            .await
            .unwrap()
            .unwrap_err(),
        RefreshRefusal::Revoked
    );
    // A token used and then superseded: presenting it again ends the session.
    s.create_session("u-cadre1", "phone-2", "u0", i64::MAX, now)
        .await
        .unwrap();
    s.rotate_refresh("u0", "phone-2", "u1", i64::MAX, now + 1)
        .await
        .unwrap()
        .unwrap();
    s.rotate_refresh("u1", "phone-2", "u2", i64::MAX, now + 2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.rotate_refresh("u0", "phone-2", "u9", i64::MAX, now + 3)
            .await
            .unwrap()
            .unwrap_err(),
        RefreshRefusal::AlreadyUsed
    );
    assert_eq!(
        s.rotate_refresh("u2", "phone-2", "u3", i64::MAX, now + 4)
            .await
            .unwrap()
            .unwrap_err(),
        RefreshRefusal::Revoked
    );
    // The retry of a lost answer works once only.
    s.create_session("u-cadre1", "phone-3", "w0", i64::MAX, now)
        .await
        .unwrap();
    for (next, at) in [("w1", 1), ("w2", 2)] {
        s.rotate_refresh("w0", "phone-3", next, i64::MAX, now + at)
            .await
            .unwrap()
            .unwrap();
    }
    assert_eq!(
        s.rotate_refresh("w0", "phone-3", "w3", i64::MAX, now + 3)
            .await
            .unwrap()
            .unwrap_err(),
        RefreshRefusal::AlreadyUsed
    );
    // And a retry after the grace period (minutes) is a replay too.
    let late = now + 4 + REFRESH_RETRY_GRACE_MS + 1;
    s.create_session("u-cadre1", "phone-5", "v0", i64::MAX, now)
        .await
        .unwrap();
    s.rotate_refresh("v0", "phone-5", "v1", i64::MAX, now + 4)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s.rotate_refresh("v0", "phone-5", "v2", i64::MAX, late)
            .await
            .unwrap()
            .unwrap_err(),
        RefreshRefusal::AlreadyUsed
    );
    assert_eq!(
        s.rotate_refresh("v1", "phone-5", "v3", i64::MAX, late)
            .await
            .unwrap()
            .unwrap_err(),
        RefreshRefusal::Revoked
    );
    let sessions = s.list_sessions("u-cadre1").await.unwrap();
    assert_eq!(sessions.len(), 4);
    assert!(sessions.iter().all(|x| x.revoked_at.is_some()));
    db.cleanup().await;
}

/// Two server processes share one database: a refresh token raced through both leaves
/// never two working tokens (the second may be taken as a retry, which retires the first
/// one's token; presenting a retired token ends the session).
async fn two_processes_race_one_refresh_token(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s1 = db.store().await;
    let s2 = db.store().await;
    fixture::load(&s1).await;
    for round in 0..10 {
        let old = format!("r{round}");
        s1.create_session("u-vh1", "phone-1", &old, i64::MAX, 1)
            .await
            .unwrap();
        let (na, nb) = (format!("a{round}"), format!("b{round}"));
        let (x, y) = tokio::join!(
            s1.rotate_refresh(&old, "phone-1", &na, i64::MAX, 2),
            s2.rotate_refresh(&old, "phone-1", &nb, i64::MAX, 2),
        );
        let issued: Vec<&String> = [(x.unwrap(), &na), (y.unwrap(), &nb)]
            .into_iter()
            .filter(|(r, _)| r.is_ok())
            .map(|(_, n)| n)
            .collect();
        assert!(!issued.is_empty(), "round {round}: a rotation wins");
        // The phone keeps one answer: exactly one issued token is still unused; the
        // other (if two were issued) was retired, and presenting it is a replay.
        let mut working = 0;
        let mut replayed = false;
        for (i, token) in issued.iter().enumerate() {
            let next = format!("c{round}-{i}");
            match s1
                .rotate_refresh(token, "phone-1", &next, i64::MAX, 3)
                .await
                .unwrap()
            {
                Ok(_) => working += 1,
                Err(RefreshRefusal::AlreadyUsed) => replayed = true,
                Err(_) => {}
            }
        }
        assert!(working <= 1, "round {round}: never two working tokens");
        assert!(
            working == 1 || replayed,
            "round {round}: a token works or a replay ended the session"
        );
    }
    db.cleanup().await;
}

async fn the_demo_commune_imports_with_its_figures(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    let report = server::demo::create(s.as_ref(), day("2026-11-22"))
        .await
        .unwrap();
    assert_eq!(report.counts[1], ("households", 1329));
    let commune = s
        .list_areas()
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.kind == AreaKind::Commune)
        .unwrap()
        .id;
    let villages = s.villages_under(&commune).await.unwrap();
    assert_eq!(villages.len(), 10);
    // The commune and its villages, ordered by code as the province's list orders them.
    let under = s.areas_under(&commune).await.unwrap();
    let mut expected: Vec<String> = villages.clone();
    expected.push(commune.clone());
    expected.sort();
    let mut ids: Vec<String> = under.iter().map(|a| a.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, expected);
    let all = s.list_areas().await.unwrap();
    let in_order: Vec<&Area> = all.iter().filter(|a| ids.contains(&a.id)).collect();
    assert_eq!(under.iter().collect::<Vec<_>>(), in_order);
    assert!(
        all.windows(2).all(|w| w[0].code <= w[1].code),
        "areas by code"
    );
    assert!(s.areas_under("no-such-area").await.unwrap().is_empty());
    let counts = s.status_counts(&Within::Villages(villages)).await.unwrap();
    assert_eq!(
        s.status_counts(&Within::Communes(vec![commune.clone()]))
            .await
            .unwrap(),
        counts,
        "a commune's counts by its key are its villages'"
    );
    // Summed by commune in the database, they are the villages' counts added up.
    let summed = s
        .commune_status_counts(std::slice::from_ref(&commune))
        .await
        .unwrap();
    let mut added: std::collections::BTreeMap<&str, i64> = Default::default();
    for c in &counts {
        *added.entry(c.status.as_str()).or_default() += c.households;
    }
    assert_eq!(
        summed
            .iter()
            .map(|(c, st, n)| (c.as_str(), st.as_str(), *n))
            .collect::<Vec<_>>(),
        added
            .iter()
            .map(|(st, n)| (commune.as_str(), *st, *n))
            .collect::<Vec<_>>()
    );
    assert!(
        s.commune_status_counts(&["no-such-commune".to_string()])
            .await
            .unwrap()
            .is_empty()
    );
    let total = |st| {
        counts
            .iter()
            .filter(|c| c.status == st)
            .map(|c| c.households)
            .sum::<i64>()
    };
    assert_eq!(total(HouseholdStatus::Poor), 77);
    assert_eq!(total(HouseholdStatus::NearPoor), 134);
    assert!(matches!(
        server::demo::create(s.as_ref(), day("2026-11-22")).await,
        Err(server::demo::DemoError::NotEmpty)
    ));
    db.cleanup().await;
}

async fn the_read_model_is_rebuilt_from_documents(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    fixture::load(&s).await;
    let author = shared::doc::Author {
        user_id: "u".into(),
        device_id: "d".into(),
        at_ms: 1,
        door: None,
    };
    let records = shared::projection::Records {
        household: s.get_household("h1").await.unwrap(),
        members: s.list_members("h1").await.unwrap(),
        assessments: vec![],
        visits: vec![],
        support: vec![],
        plan: vec![],
        review_steps: vec![],
    };
    let mut doc = shared::projection::to_doc(&[1; 16], &records, &author).unwrap();
    let write = server::store::DocWrite {
        doc_id: "h1".into(),
        expected_seq: None,
        changes: doc.save(),
        compacted: None,
        heads: doc.heads().iter().map(|h| h.to_string()).collect(),
        records: records.clone(),
        conflicts: vec![],
        audit: serde_json::Value::Null,
        touched: None,
        actors: vec![],
    };
    s.docs().commit_doc(&actor(), &write).await.unwrap();
    // The read model drifts (a bug, a hand edit); the documents put it right.
    let mut drifted = records.clone();
    drifted.household.head_name = "Sai lệch".into();
    drifted.members.clear();
    s.docs().put_records(&drifted).await.unwrap();
    assert_eq!(s.get_household("h1").await.unwrap().head_name, "Sai lệch");
    assert_eq!(
        server::rebuild::read_model(s.as_ref()).await.unwrap(),
        1,
        "only h1 has a document"
    );
    assert_eq!(
        s.get_household("h1").await.unwrap().head_name,
        records.household.head_name
    );
    assert_eq!(s.list_members("h1").await.unwrap(), records.members);
    db.cleanup().await;
}

/// A write of household `id`'s records with `head_name`, made from `expected_seq`, by the
/// automerge actors `actors`.
fn doc_write(
    id: &str,
    expected_seq: Option<i64>,
    head_name: &str,
    records: &Records,
    actors: &[&str],
) -> server::store::DocWrite {
    let author = shared::doc::Author {
        user_id: "u".into(),
        device_id: "d".into(),
        at_ms: 1,
        door: None,
    };
    let mut r = records.clone();
    r.household.head_name = head_name.into();
    let mut doc = shared::projection::to_doc(&[1; 16], &r, &author).unwrap();
    server::store::DocWrite {
        doc_id: id.into(),
        expected_seq,
        changes: doc.save(),
        compacted: None,
        heads: doc.heads().iter().map(|h| h.to_string()).collect(),
        records: r,
        conflicts: vec![],
        audit: serde_json::Value::Null,
        touched: None,
        actors: actors.iter().map(|a| a.to_string()).collect(),
    }
}

/// The fixture's households h1, h2 and h3 as bare records.
async fn records_of(s: &DynStore) -> std::collections::BTreeMap<&'static str, Records> {
    let mut records = std::collections::BTreeMap::new();
    for id in ["h1", "h2", "h3"] {
        records.insert(
            id,
            Records {
                household: s.get_household(id).await.unwrap(),
                members: vec![],
                assessments: vec![],
                visits: vec![],
                support: vec![],
                plan: vec![],
                review_steps: vec![],
            },
        );
    }
    records
}

/// Two server processes whose groups bind one new automerge actor (a phone's push retried
/// on the second process while the first still commits it) wait for each other but never
/// in a cycle: a group binds its actors before it locks any document. Staged so that,
/// were the actor bound after the documents before it, the second process would hold h2
/// and wait for the actor while the first holds the actor and waits for h2.
async fn two_processes_binding_one_actor_never_deadlock(b: Backend) {
    if b != Backend::Postgres {
        return; // SQLite commits one group at a time.
    }
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    fixture::load(&s).await;
    // PostgreSQL would break a deadlock after a second and the group be prepared again;
    // a minute makes one show as the hang this test bounds.
    let name = db.url.rsplit('/').next().unwrap();
    let mut admin = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{name}\" SET deadlock_timeout = '60s'"
    )))
    .execute(&mut admin)
    .await
    .unwrap();
    let records = records_of(&s).await;
    let new: Vec<_> = ["h1", "h2", "h3"]
        .iter()
        .map(|id| (actor(), doc_write(id, None, "Lần một", &records[id], &[])))
        .collect();
    let seqs: Vec<i64> = s
        .docs()
        .commit_docs(new)
        .await
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let by = |device: &str| Actor {
        user_id: Some("u-officer1".into()),
        device_id: Some(device.into()),
    };
    // Two processes: each its own pool and its own cache of bound actors.
    let (one, two) = (db.store().await, db.store().await);
    // A third session holds h3, so the second process's group stops there.
    sqlx::query("BEGIN").execute(&mut admin).await.unwrap();
    sqlx::query("SELECT 1 FROM docs WHERE doc_id = 'h3' FOR UPDATE")
        .execute(&mut admin)
        .await
        .unwrap();
    let second = vec![
        (
            by("f"),
            doc_write("h2", Some(seqs[1]), "F", &records["h2"], &[]),
        ),
        (
            by("d"),
            doc_write("h3", Some(seqs[2]), "D", &records["h3"], &["aa01"]),
        ),
    ];
    let second = tokio::spawn(async move { two.docs().commit_docs(second).await.unwrap() });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let first = vec![
        (
            by("d"),
            doc_write("h1", Some(seqs[0]), "D", &records["h1"], &["aa01"]),
        ),
        (
            by("g"),
            doc_write("h2", Some(seqs[1]), "G", &records["h2"], &[]),
        ),
    ];
    let one_ = one.clone();
    let first = tokio::spawn(async move { one_.docs().commit_docs(first).await.unwrap() });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    sqlx::query("ROLLBACK").execute(&mut admin).await.unwrap();
    let (first, second) = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        (first.await.unwrap(), second.await.unwrap())
    })
    .await
    .expect("the two groups finish without a deadlock");
    assert!(second.iter().all(Result::is_ok), "{second:?}");
    assert!(first[0].is_ok(), "{first:?}");
    assert!(
        matches!(first[1], Err(server::store::StoreError::Stale)),
        "h2 was written by the second process first: {first:?}"
    );
    // The actor is the device's: another device writing with it is refused, and nothing
    // of that write is kept.
    let h1 = *first[0].as_ref().unwrap();
    let stolen = vec![(
        by("e"),
        doc_write("h1", Some(h1), "E", &records["h1"], &["aa01"]),
    )];
    let stolen = one.docs().commit_docs(stolen).await.unwrap();
    assert!(
        matches!(&stolen[0], Err(server::store::StoreError::ActorTaken(a)) if a == "aa01"),
        "{stolen:?}"
    );
    assert_eq!(s.get_household("h1").await.unwrap().head_name, "D");
    db.cleanup().await;
}

/// A group commit where one write fails (stale here) stores the others and says which
/// failed; nothing of the failed write is kept.
async fn a_failed_write_in_a_group_leaves_the_others(b: Backend) {
    let Some(db) = TestDb::open(b).await else {
        return;
    };
    let s = db.store().await;
    fixture::load(&s).await;
    let write_of = |id: &str, expected_seq, head_name: &str, records: &Records| {
        doc_write(id, expected_seq, head_name, records, &[])
    };
    let records = records_of(&s).await;
    let first: Vec<_> = ["h1", "h2", "h3"]
        .iter()
        .map(|id| (actor(), write_of(id, None, "Lần một", &records[id])))
        .collect();
    let seqs: Vec<i64> = s
        .docs()
        .commit_docs(first)
        .await
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    // h2's write is based on a sequence number it no longer has.
    let second = vec![
        (
            actor(),
            write_of("h1", Some(seqs[0]), "Lần hai", &records["h1"]),
        ),
        (
            actor(),
            write_of("h2", Some(seqs[1] - 1), "Cũ", &records["h2"]),
        ),
        (
            actor(),
            write_of("h3", Some(seqs[2]), "Lần hai", &records["h3"]),
        ),
    ];
    let results = s.docs().commit_docs(second).await.unwrap();
    assert!(results[0].is_ok() && results[2].is_ok(), "{results:?}");
    assert!(
        matches!(results[1], Err(server::store::StoreError::Stale)),
        "{results:?}"
    );
    assert_eq!(s.get_household("h1").await.unwrap().head_name, "Lần hai");
    assert_eq!(s.get_household("h2").await.unwrap().head_name, "Lần một");
    assert_eq!(s.get_household("h3").await.unwrap().head_name, "Lần hai");
    let h2 = s.docs().load_doc("h2").await.unwrap().unwrap();
    assert_eq!(h2.seq, seqs[1], "the stale write left h2 as it was");
    // A sync page's documents read at once are each what reading it alone gives (h1 and
    // h3 with their second write's chunk), by id; an unknown id is left out.
    let ids: Vec<String> = ["h3", "nobody", "h1", "h2"].map(String::from).to_vec();
    let together = s.docs().load_docs(&ids).await.unwrap();
    let mut one_by_one = vec![];
    for id in ["h1", "h2", "h3"] {
        one_by_one.push((
            id.to_string(),
            s.docs().load_doc(id).await.unwrap().unwrap(),
        ));
    }
    assert_eq!(together, one_by_one);
    assert_eq!(together[0].1.chunks.len(), 2, "h1: both writes");
    assert!(s.docs().load_docs(&[]).await.unwrap().is_empty());
    // Two writes of h3 in one group, both made from its current state: the first lands,
    // the second is stale (it was made from the state before the first); the group's
    // numbers follow the order the writes came in.
    let h3_seq = *results[2].as_ref().unwrap();
    let h1_seq = *results[0].as_ref().unwrap();
    let third = vec![
        (
            actor(),
            write_of("h3", Some(h3_seq), "Lần ba", &records["h3"]),
        ),
        (
            actor(),
            write_of("h3", Some(h3_seq), "Cũng ba", &records["h3"]),
        ),
        (
            actor(),
            write_of("h1", Some(h1_seq), "Lần ba", &records["h1"]),
        ),
    ];
    let results = s.docs().commit_docs(third).await.unwrap();
    assert!(
        matches!(results[1], Err(server::store::StoreError::Stale)),
        "{results:?}"
    );
    let (a, c) = (*results[0].as_ref().unwrap(), *results[2].as_ref().unwrap());
    assert!(h3_seq.max(h1_seq) < a && a < c, "{results:?}");
    assert_eq!(s.get_household("h3").await.unwrap().head_name, "Lần ba");
    assert_eq!(s.docs().load_doc("h3").await.unwrap().unwrap().seq, a);
    assert_eq!(s.docs().load_doc("h1").await.unwrap().unwrap().seq, c);
    assert_eq!(s.docs().current_seq().await.unwrap(), c);
    // A write that fails after its first statement (h2's record claims a member of h1)
    // in a group: the group is prepared again write by write, h2 refused with nothing of
    // it kept, the others landed.
    let mut with_member = records["h1"].clone();
    with_member.members = vec![shared::household::Member {
        id: "m-shared".into(),
        household_id: "h1".into(),
        data: fixture::member_input("Người chung"),
    }];
    let c = s
        .docs()
        .commit_docs(vec![(
            actor(),
            write_of("h1", Some(c), "Lần ba", &with_member),
        )])
        .await
        .unwrap()
        .remove(0)
        .unwrap();
    let h2_before = s.docs().load_doc("h2").await.unwrap().unwrap();
    let h2_audited = s.list_audit(Some("h2"), 100).await.unwrap().len();
    let h1_audited = s.list_audit(Some("h1"), 100).await.unwrap().len();
    let mut claims = records["h2"].clone();
    claims.members = vec![shared::household::Member {
        household_id: "h2".into(),
        ..with_member.members[0].clone()
    }];
    let fourth = vec![
        (actor(), write_of("h3", Some(a), "Lần bốn", &records["h3"])),
        (
            actor(),
            write_of("h2", Some(seqs[1]), "Của người khác", &claims),
        ),
        (actor(), write_of("h1", Some(c), "Lần bốn", &with_member)),
    ];
    let results = s.docs().commit_docs(fourth).await.unwrap();
    assert!(
        matches!(results[1], Err(server::store::StoreError::Ownership(_))),
        "{results:?}"
    );
    let (a4, c4) = (*results[0].as_ref().unwrap(), *results[2].as_ref().unwrap());
    assert!(c < a4 && a4 < c4, "{results:?}");
    assert_eq!(s.docs().load_doc("h2").await.unwrap().unwrap(), h2_before);
    assert_eq!(s.get_household("h2").await.unwrap().head_name, "Lần một");
    assert_eq!(s.get_household("h1").await.unwrap().head_name, "Lần bốn");
    assert_eq!(s.get_household("h3").await.unwrap().head_name, "Lần bốn");
    assert_eq!(s.get_member("m-shared").await.unwrap().household_id, "h1");
    assert_eq!(
        s.list_audit(Some("h2"), 100).await.unwrap().len(),
        h2_audited,
        "the refused write is not audited"
    );
    assert_eq!(
        s.list_audit(Some("h1"), 100).await.unwrap().len(),
        h1_audited + 1,
        "a landed write is audited once"
    );
    db.cleanup().await;
}

on_both_backends!(
    the_read_model_is_rebuilt_from_documents,
    a_failed_write_in_a_group_leaves_the_others,
    two_processes_binding_one_actor_never_deadlock,
    area_tree_and_paths,
    households_are_stored_filtered_and_audited,
    members_are_added_changed_and_removed,
    reviews_are_kept_and_the_status_waits_for_a_decision,
    assignments_visits_and_support,
    targets_and_counts,
    refresh_tokens_rotate_once_and_revoke,
    two_processes_race_one_refresh_token,
    the_demo_commune_imports_with_its_figures,
);
