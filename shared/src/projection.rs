//! Between household documents and the relational read model: `to_doc` writes a
//! household's records into a new document (for households registered before sync, and
//! for the demo), `project` reads a document back into records for lists and reports.

use crate::assessment::Assessment;
use crate::doc::{Author, Collection, DocError, HouseholdDoc};
use crate::household::{Household, HouseholdInput, HouseholdStatus, Member, MemberInput};
use crate::plan::{PlanItem, PlanItemInput, PlanStatus};
use crate::review::ReviewStep;
use crate::support::{SupportAction, SupportInput, SupportStatus};
use crate::visit::{Visit, VisitInput};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A household's records as the read model keeps them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Records {
    pub household: Household,
    pub members: Vec<Member>,
    pub assessments: Vec<Assessment>,
    pub visits: Vec<Visit>,
    pub support: Vec<SupportAction>,
    /// The household's plan: each cause's solution with its owner, due date and progress.
    #[serde(default)]
    pub plan: Vec<PlanItem>,
    /// The steps of its reviews (listing, meeting, posting, complaints, decisions).
    #[serde(default)]
    pub review_steps: Vec<ReviewStep>,
}

/// The profile fields a document holds.
/// What the assignment screen and the dashboard need of a household's visits and plan:
/// the day of its last visit, the soonest next visit planned on that day, and whether it
/// has a plan (an item not dropped). Kept on the household's row (`households.last_visit`,
/// `next_visit`, `has_plan`): counted by the database after every write of its visits or
/// plan, and by this function for a commune imported at once, so a commune's screens read
/// 8,000 rows instead of joining every visit and plan item of the commune.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Followed {
    pub last_visit: Option<NaiveDate>,
    pub next_visit: Option<NaiveDate>,
    pub has_plan: bool,
}

impl Followed {
    pub fn of<'a>(
        visits: impl IntoIterator<Item = &'a Visit>,
        plan: impl IntoIterator<Item = &'a PlanItem>,
    ) -> Followed {
        let mut f = Followed::default();
        for v in visits {
            let day = v.data.date;
            match f.last_visit {
                Some(last) if day < last => {}
                // Two visits on the last day: the one planning the sooner next visit.
                Some(last) if day == last => {
                    f.next_visit = match (f.next_visit, v.data.next_visit) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    }
                }
                _ => {
                    f.last_visit = Some(day);
                    f.next_visit = v.data.next_visit;
                }
            }
        }
        f.has_plan = plan.into_iter().any(|p| p.status != PlanStatus::Dropped);
        f
    }
}

pub fn profile_json(h: &Household) -> Value {
    let mut v = serde_json::to_value(h.input()).expect("serialises");
    v["status"] = json!(h.status);
    v["created_at"] = json!(h.created_at);
    v
}

pub fn member_json(m: &MemberInput) -> Value {
    serde_json::to_value(m).expect("serialises")
}

pub fn visit_json(v: &Visit) -> Value {
    let mut j = serde_json::to_value(&v.data).expect("serialises");
    j["cadre_id"] = json!(v.cadre_id);
    j
}

pub fn support_json(s: &SupportAction) -> Value {
    let mut j = serde_json::to_value(&s.data).expect("serialises");
    j["status"] = json!(s.status);
    j["delivered_date"] = json!(s.delivered_date);
    j
}

pub fn plan_json(p: &PlanItem) -> Value {
    let mut j = serde_json::to_value(&p.data).expect("serialises");
    j["status"] = json!(p.status);
    j
}

/// Reviews are written once and never edited, so each is kept whole as JSON text.
pub fn assessment_json(a: &Assessment) -> Value {
    json!({ "json": serde_json::to_string(a).expect("serialises") })
}

/// Review steps are written once, like reviews: kind and date beside the whole step.
pub fn step_json(s: &ReviewStep) -> Value {
    json!({ "kind": s.data.kind(), "date": s.date, "json": serde_json::to_string(s).expect("serialises") })
}

/// A new document holding these records.
pub fn to_doc(actor: &[u8], r: &Records, author: &Author) -> Result<HouseholdDoc, DocError> {
    let mut doc = HouseholdDoc::new(actor, &r.household.id, author);
    put_records(&mut doc, r, author)?;
    Ok(doc)
}

/// Writes a whole household (profile and every record) into `doc` as one change.
pub fn put_records(doc: &mut HouseholdDoc, r: &Records, author: &Author) -> Result<(), DocError> {
    let records =
        (r.members.iter()).map(|m| (Collection::Members, m.id.as_str(), member_json(&m.data)));
    let records = records
        .chain(
            r.assessments
                .iter()
                .map(|a| (Collection::Assessments, a.id.as_str(), assessment_json(a))),
        )
        .chain(
            r.visits
                .iter()
                .map(|v| (Collection::Visits, v.id.as_str(), visit_json(v))),
        )
        .chain(
            r.support
                .iter()
                .map(|s| (Collection::Support, s.id.as_str(), support_json(s))),
        )
        .chain(
            r.plan
                .iter()
                .map(|p| (Collection::Plan, p.id.as_str(), plan_json(p))),
        )
        .chain(
            r.review_steps
                .iter()
                .map(|s| (Collection::ReviewSteps, s.id.as_str(), step_json(s))),
        );
    doc.put_all(&profile_json(&r.household), records, author)
}

fn field<T: for<'de> Deserialize<'de>>(v: &Value, what: &str) -> Result<T, String> {
    serde_json::from_value(v.clone()).map_err(|e| format!("{what}: {e}"))
}

fn without(v: &Value, keys: &[&str]) -> Value {
    let mut v = v.clone();
    if let Value::Object(m) = &mut v {
        for k in keys {
            m.remove(*k);
        }
    }
    v
}

/// Reads a document back into records. `updated_at` is the time of the projection.
pub fn project(household_id: &str, doc: &Value, updated_at: &str) -> Result<Records, String> {
    let p = &doc[Collection::Profile.as_str()];
    let input: HouseholdInput = field(&without(p, &["status", "created_at"]), "profile")?;
    let status: HouseholdStatus = field(&p["status"], "profile.status")?;
    let household = Household {
        id: household_id.to_string(),
        code: input.code,
        village_id: input.village_id,
        address: input.address,
        head_name: input.head_name,
        residence: input.residence,
        status,
        priority: input.priority,
        causes: input.causes,
        created_at: p["created_at"].as_str().unwrap_or(updated_at).to_string(),
        updated_at: updated_at.to_string(),
    };
    let entries = |c: Collection| doc[c.as_str()].as_object().cloned().unwrap_or_default();
    let mut members = Vec::new();
    for (id, m) in entries(Collection::Members) {
        members.push(Member {
            id,
            household_id: household_id.into(),
            data: field::<MemberInput>(&m, "member")?,
        });
    }
    let mut assessments = Vec::new();
    for (id, a) in entries(Collection::Assessments) {
        let text = a["json"].as_str().ok_or("assessment without json")?;
        let a = serde_json::from_str::<Assessment>(text).map_err(|e| format!("assessment: {e}"))?;
        // A review is kept under its own id in its own household, or it is not this one's.
        if a.id != id || a.household_id != household_id {
            return Err(format!("assessment {id} belongs elsewhere"));
        }
        assessments.push(a);
    }
    let mut visits = Vec::new();
    for (id, v) in entries(Collection::Visits) {
        let cadre_id = v["cadre_id"].as_str().unwrap_or_default().to_string();
        visits.push(Visit {
            id,
            household_id: household_id.into(),
            cadre_id,
            data: field::<VisitInput>(&without(&v, &["cadre_id"]), "visit")?,
        });
    }
    let mut support = Vec::new();
    for (id, s) in entries(Collection::Support) {
        support.push(SupportAction {
            id,
            household_id: household_id.into(),
            status: field::<SupportStatus>(&s["status"], "support.status")?,
            delivered_date: field::<Option<NaiveDate>>(
                &s["delivered_date"],
                "support.delivered_date",
            )?,
            data: field::<SupportInput>(&without(&s, &["status", "delivered_date"]), "support")?,
        });
    }
    let mut plan = Vec::new();
    for (id, p) in entries(Collection::Plan) {
        plan.push(PlanItem {
            id,
            household_id: household_id.into(),
            status: field::<PlanStatus>(&p["status"], "plan.status")?,
            data: field::<PlanItemInput>(&without(&p, &["status"]), "plan")?,
        });
    }
    plan.sort_by(|a, b| a.data.due.cmp(&b.data.due).then(a.id.cmp(&b.id)));
    let mut review_steps = Vec::new();
    for (id, st) in entries(Collection::ReviewSteps) {
        let text = st["json"].as_str().ok_or("review step without json")?;
        let st =
            serde_json::from_str::<ReviewStep>(text).map_err(|e| format!("review step: {e}"))?;
        if st.id != id || st.household_id != household_id {
            return Err(format!("review step {id} belongs elsewhere"));
        }
        review_steps.push(st);
    }
    review_steps.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    Ok(Records {
        household,
        members,
        assessments,
        visits,
        support,
        plan,
        review_steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::household::{PriorityFlags, Residence, Sex};

    #[test]
    fn records_survive_a_round_trip_through_a_document() {
        let h = Household {
            id: "h1".into(),
            code: "DV-01-0001".into(),
            village_id: "v1".into(),
            address: "Xóm 1".into(),
            head_name: "Hoàng Văn Páo".into(),
            residence: Residence::Rural,
            status: HouseholdStatus::Poor,
            priority: PriorityFlags {
                ethnic_minority: true,
                ..Default::default()
            },
            causes: vec![crate::household::Cause::LackOfCapital],
            created_at: "2022-09-01T08:00:00.000Z".into(),
            updated_at: "x".into(),
        };
        let member = Member {
            id: "m1".into(),
            household_id: "h1".into(),
            data: MemberInput {
                full_name: "Hoàng Văn Páo".into(),
                birth_year: 1980,
                sex: Sex::Male,
                ethnicity: "Dao".into(),
                citizen_id: None,
                relation: "Chủ hộ".into(),
                disability: false,
                health_insurance: true,
                schooling: "Lớp 9".into(),
                work: "Làm nông".into(),
            },
        };
        let visit = Visit {
            id: "v1".into(),
            household_id: "h1".into(),
            cadre_id: "u-c".into(),
            data: VisitInput {
                date: "2026-11-01".parse().unwrap(),
                discussed: "Chăm bò".into(),
                progress: String::new(),
                needs: String::new(),
                next_visit: None,
            },
        };
        let support = SupportAction {
            id: "s1".into(),
            household_id: "h1".into(),
            status: SupportStatus::Delivered,
            delivered_date: Some("2026-10-20".parse().unwrap()),
            data: SupportInput {
                kind: crate::support::SupportKind::Loan,
                project: crate::support::Project::OtherPolicy,
                provider: "NHCSXH".into(),
                amount_vnd: Some(50_000_000),
                quantity: None,
                unit: String::new(),
                planned_date: "2026-10-01".parse().unwrap(),
                addresses_cause: Some(crate::household::Cause::LackOfCapital),
                addresses_indicator: None,
                note: String::new(),
            },
        };
        let rs = crate::rules::RuleBook::built_in();
        let evidence = crate::rules::Evidence {
            residence: Residence::Rural,
            income: crate::rules::IncomeEvidence::B1 { score: 120 },
            deprivation: crate::rules::DeprivationEvidence::B2 { score: 40 },
        };
        let o = crate::rules::classify(rs.get("vn-2022-2025").unwrap(), &evidence).unwrap();
        let assessment = Assessment {
            id: "a1".into(),
            household_id: "h1".into(),
            kind: crate::assessment::ReviewKind::Annual,
            date: "2025-11-01".parse().unwrap(),
            evidence,
            classification: o.classification,
            explanation: o.explanation,
        };
        let r = Records {
            household: h,
            members: vec![member],
            assessments: vec![assessment],
            visits: vec![visit],
            support: vec![support],
            plan: vec![PlanItem {
                id: "p1".into(),
                household_id: "h1".into(),
                status: PlanStatus::Open,
                data: PlanItemInput {
                    progress_note: "Đã làm hồ sơ vay".into(),
                    ..PlanItemInput::matched(
                        crate::household::Cause::LackOfCapital,
                        "Hội Nông dân xã",
                        "2026-12-31".parse().unwrap(),
                    )
                },
            }],
            review_steps: vec![crate::review::ReviewStep {
                id: "st1".into(),
                household_id: "h1".into(),
                review_id: Some("a1".into()),
                date: "2025-11-10".parse().unwrap(),
                by: "u-vh".into(),
                data: crate::review::StepData::Meeting {
                    attendees: 40,
                    agreed: 31,
                },
            }],
        };
        let author = Author {
            user_id: "u".into(),
            device_id: "d".into(),
            at_ms: 1,
            door: None,
        };
        let doc = to_doc(&[1; 16], &r, &author).unwrap();
        let back = project("h1", &doc.to_json(), "x").unwrap();
        assert_eq!(back, r);
    }
}
