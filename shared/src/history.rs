//! A household's history in words, read from its document's own changes: one entry per
//! change, saying what changed (the field's label, the old value → the new one; a record
//! added or removed), when, by whom and through which door. Complete by construction:
//! every write of a household is a change of its document.
//!
//! Who made a change is the server's to say: a device's changes are bound to the device
//! by their automerge actor (the server fills `user_id`/`device_id` from that binding);
//! the author a change names itself is used only for the server's own changes.

use crate::Text;
use crate::doc::{Author, Door, HouseholdDoc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The most recent changes a history shows; older ones are counted, not described.
pub const MAX_ENTRIES: usize = 200;

/// One change of the household, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// When it was made, by the writer's clock (milliseconds since the epoch).
    pub at_ms: i64,
    /// The automerge actor that made it (hex).
    pub actor: String,
    /// The user and device, as the change names them (the server replaces them with the
    /// device its actor is bound to).
    pub user_id: String,
    pub device_id: String,
    /// Filled by the server: the user's full name and the device's name.
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub device_name: String,
    pub door: Door,
    /// What changed, one line each.
    pub items: Vec<Text>,
}

/// The household's history, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct History {
    pub entries: Vec<HistoryEntry>,
    /// Older changes not described (beyond `MAX_ENTRIES`).
    pub older: usize,
}

/// A movement of the ledger with its basis in words and who recorded it by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MovementLine {
    #[serde(flatten)]
    pub movement: crate::ledger::Movement,
    pub basis_text: Text,
    pub by_name: String,
}

/// What `GET /api/households/{id}/history` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HouseholdHistory {
    pub history: History,
    /// The household's movements in the register's ledger, oldest first.
    pub movements: Vec<MovementLine>,
}

/// A review step's kind in words.
pub fn step_text(data: &crate::review::StepData) -> Text {
    use crate::review::StepData;
    match data {
        StepData::Listed { .. } => Text::new("Đưa vào danh sách rà soát", "Listed for review"),
        StepData::Meeting { .. } => Text::new("Họp thôn", "Village meeting"),
        StepData::Posted { .. } => Text::new("Niêm yết công khai", "Posted publicly"),
        StepData::Complaint { .. } => Text::new("Khiếu nại", "Complaint"),
        StepData::Answer { .. } => Text::new("Trả lời khiếu nại", "Complaint answered"),
        StepData::Decision {
            number,
            corrects: None,
            ..
        } => Text::new(
            format!("Quyết định số {number}"),
            format!("Decision no. {number}"),
        ),
        StepData::Decision { number, .. } => Text::new(
            format!("Quyết định số {number} sửa quyết định trước của lần rà soát"),
            format!("Decision no. {number}, correcting the review's earlier decision"),
        ),
        StepData::Left { reason, number, .. } => Text::new(
            format!("Ra khỏi sổ: {} (số {number})", reason.label().vi),
            format!("Left the register: {} (no. {number})", reason.label().en),
        ),
    }
}

/// Reads the history of `doc`: replays its changes in order and compares the household
/// before and after each. A change that changed nothing visible (a merge's bookkeeping)
/// is left out.
pub fn history(doc: &mut HouseholdDoc) -> History {
    let changes: Vec<automerge::Change> = doc.automerge().get_changes(&[]);
    let described_from = changes.len().saturating_sub(MAX_ENTRIES);
    let mut replay = HouseholdDoc::empty(&[0; 16]);
    let mut before = Value::Object(Map::new());
    let mut entries = Vec::new();
    for (i, change) in changes.into_iter().enumerate() {
        let actor = change.actor_id().to_hex_string();
        let at_ms = change.timestamp().saturating_mul(1000);
        let author = change
            .message()
            .and_then(|m| serde_json::from_str::<Author>(m).ok());
        if replay.apply_changes(vec![change]).is_err() {
            continue;
        }
        if i < described_from {
            continue;
        }
        let after = replay.to_json();
        let mut items = Vec::new();
        diff_household(&before, &after, &mut items);
        before = after;
        if items.is_empty() {
            continue;
        }
        entries.push(HistoryEntry {
            at_ms,
            actor,
            user_id: author
                .as_ref()
                .map(|a| a.user_id.clone())
                .unwrap_or_default(),
            device_id: author
                .as_ref()
                .map(|a| a.device_id.clone())
                .unwrap_or_default(),
            user_name: String::new(),
            device_name: String::new(),
            door: author.and_then(|a| a.door).unwrap_or(Door::Phone),
            items,
        });
    }
    entries.reverse();
    History {
        entries,
        older: described_from,
    }
}

/// The collections of records a household holds, with their names in words.
const COLLECTIONS: [(&str, &str, &str); 6] = [
    ("members", "thành viên", "member"),
    ("assessments", "lần rà soát", "review"),
    ("visits", "lần thăm hộ", "visit"),
    ("support", "hỗ trợ", "support"),
    ("plan", "kế hoạch", "plan item"),
    ("review_steps", "bước bình xét", "review step"),
];

fn diff_household(before: &Value, after: &Value, out: &mut Vec<Text>) {
    let empty = Value::Object(Map::new());
    let profile = |v: &Value| v.get("profile").cloned().unwrap_or_else(|| empty.clone());
    diff_fields("", &profile(before), &profile(after), out);
    for (key, vi, en) in COLLECTIONS {
        let (b, a) = (
            before.get(key).and_then(Value::as_object),
            after.get(key).and_then(Value::as_object),
        );
        let (b, a) = (
            b.cloned().unwrap_or_default(),
            a.cloned().unwrap_or_default(),
        );
        for (id, rec) in &a {
            match b.get(id) {
                None => out.push(Text::new(
                    format!("Thêm {vi}: {}", summary(rec)),
                    format!("Added {en}: {}", summary(rec)),
                )),
                Some(old) if old != rec => {
                    let mut inner = Vec::new();
                    diff_fields(key, old, rec, &mut inner);
                    for t in inner {
                        out.push(Text::new(
                            format!("{} {}: {}", cap(vi), summary(rec), t.vi),
                            format!("{} {}: {}", cap(en), summary(rec), t.en),
                        ));
                    }
                }
                _ => {}
            }
        }
        for (id, rec) in &b {
            if !a.contains_key(id) {
                out.push(Text::new(
                    format!("Xoá {vi}: {}", summary(rec)),
                    format!("Removed {en}: {}", summary(rec)),
                ));
            }
        }
    }
}

/// Each field that differs: `label: old → new`, nested fields by their path.
fn diff_fields(prefix: &str, before: &Value, after: &Value, out: &mut Vec<Text>) {
    let none = Map::new();
    let b = before.as_object().unwrap_or(&none);
    let a = after.as_object().unwrap_or(&none);
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (old, new) = (
            b.get(k).unwrap_or(&Value::Null),
            a.get(k).unwrap_or(&Value::Null),
        );
        if old == new || matches!(k.as_str(), "updated_at" | "id" | "household_id") {
            continue;
        }
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        // A group of fields (the priority flags) compared field by field, also when it
        // appears or goes.
        if (old.is_object() || old.is_null()) && (new.is_object() || new.is_null()) {
            diff_fields(&path, old, new, out);
            continue;
        }
        let (vi, en) = label(&path);
        out.push(Text::new(
            format!("{vi}: {} → {}", shown(k, old, true), shown(k, new, true)),
            format!("{en}: {} → {}", shown(k, old, false), shown(k, new, false)),
        ));
    }
}

/// A record in a few words: its name, kind or date.
fn summary(rec: &Value) -> String {
    if let Some(kind) = rec
        .get("kind")
        .and_then(|k| serde_json::from_value::<crate::support::SupportKind>(k.clone()).ok())
    {
        // A support action: what it is and, for money, how much.
        let amount = rec.get("amount_vnd").and_then(Value::as_i64);
        return match amount {
            Some(a) => format!("{} {}", kind.label().vi, crate::i18n::vnd(a)),
            None => kind.label().vi,
        };
    }
    for k in ["full_name", "kind", "date", "planned_date", "due"] {
        match rec.get(k) {
            Some(Value::String(s)) if !s.is_empty() => return cut(s),
            Some(Value::Object(o)) => {
                if let Some(Value::String(s)) = o.get("kind") {
                    return cut(s);
                }
            }
            _ => {}
        }
    }
    String::new()
}

/// A field's value in words: amounts in đồng, dates as Vietnamese write them, statuses by
/// their names.
fn shown(key: &str, v: &Value, vi: bool) -> String {
    let pick = |t: Text| if vi { t.vi } else { t.en };
    if let (Some(n), "amount_vnd") = (v.as_i64(), key) {
        return crate::i18n::vnd(n);
    }
    if let Some(d) = v
        .as_str()
        .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    {
        return d.format("%d/%m/%Y").to_string();
    }
    if let (Some(st), "status") = (
        v.as_str().and_then(crate::support::SupportStatus::parse),
        key,
    ) {
        return pick(st.label());
    }
    match v {
        Value::Null => "—".into(),
        Value::Bool(true) => if vi { "có" } else { "yes" }.into(),
        Value::Bool(false) => if vi { "không" } else { "no" }.into(),
        Value::String(s) if s.is_empty() => "—".into(),
        Value::Array(a) if a.is_empty() => "—".into(),
        Value::String(s) if s == "rural" => if vi { "nông thôn" } else { "rural" }.into(),
        Value::String(s) if s == "urban" => if vi { "thành thị" } else { "urban" }.into(),
        Value::String(s) => match crate::household::HouseholdStatus::parse(s) {
            Some(st) => {
                let t = st.label();
                if vi { t.vi } else { t.en }
            }
            None => cut(s),
        },
        Value::Number(n) => n.to_string(),
        other => cut(&other.to_string()),
    }
}

fn cut(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A field's label by its path in the document (`["profile", "address"]` → "Địa chỉ"), for
/// the conflict queue and the phone.
pub fn field_label(path: &[String]) -> Text {
    let (vi, en) = label(&path.join("."));
    Text::new(vi, en)
}

/// A field's label in Vietnamese and English (the key itself where none is known).
fn label(path: &str) -> (String, String) {
    let last = path.rsplit('.').next().unwrap_or(path);
    let of_record =
        path.contains('.') && !path.starts_with("priority") && !path.starts_with("profile");
    let known = match last {
        "status" if of_record => Some(("Trạng thái", "Status")),
        "code" => Some(("Mã hộ", "Household code")),
        "village_id" => Some(("Thôn", "Village")),
        "address" => Some(("Địa chỉ", "Address")),
        "head_name" => Some(("Chủ hộ", "Head of household")),
        "residence" => Some(("Khu vực", "Residence")),
        "status" => Some(("Phân loại", "Status")),
        "causes" => Some(("Nguyên nhân nghèo", "Causes of poverty")),
        "created_at" => Some(("Ngày đăng ký", "Registered")),
        "ethnic_minority" => Some(("Dân tộc thiểu số", "Ethnic minority")),
        "meritorious" => Some(("Người có công", "Meritorious")),
        "woman_headed" => Some(("Phụ nữ làm chủ hộ", "Woman-headed")),
        "member_with_disability" => Some(("Có người khuyết tật", "Member with disability")),
        "elderly_only" => Some(("Chỉ có người cao tuổi", "Elderly only")),
        "full_name" => Some(("Họ tên", "Full name")),
        "birth_year" => Some(("Năm sinh", "Birth year")),
        "sex" => Some(("Giới tính", "Sex")),
        "ethnicity" => Some(("Dân tộc", "Ethnicity")),
        "citizen_id" => Some(("Số định danh", "Citizen ID")),
        "relation" => Some(("Quan hệ với chủ hộ", "Relation to head")),
        "disability" => Some(("Khuyết tật", "Disability")),
        "health_insurance" => Some(("Bảo hiểm y tế", "Health insurance")),
        "schooling" => Some(("Học vấn", "Schooling")),
        "work" => Some(("Việc làm", "Work")),
        "per_person_month" => Some((
            "Thu nhập bình quân/người/tháng",
            "Income per person a month",
        )),
        "date" => Some(("Ngày", "Date")),
        "discussed" => Some(("Đã trao đổi", "Discussed")),
        "progress" => Some(("Tiến bộ", "Progress")),
        "needs" => Some(("Nhu cầu", "Needs")),
        "next_visit" => Some(("Lần thăm tới", "Next visit")),
        "amount_vnd" => Some(("Số tiền (đồng)", "Amount (VND)")),
        "planned_date" => Some(("Ngày dự kiến", "Planned date")),
        "delivered_date" => Some(("Ngày trao", "Delivered on")),
        "due" => Some(("Hạn", "Due")),
        "number" => Some(("Số quyết định", "Decision number")),
        _ => None,
    };
    match known {
        Some((vi, en)) => (vi.into(), en.into()),
        None => (path.into(), path.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn author(user: &str, door: Option<Door>) -> Author {
        Author {
            user_id: user.into(),
            device_id: format!("{user}-phone"),
            at_ms: 1_790_000_000_000,
            door,
        }
    }

    #[test]
    fn a_support_delivery_says_what_was_delivered_when_and_how_much() {
        let officer = author("officer", Some(Door::Console));
        let mut doc = HouseholdDoc::new(&[1; 16], "h", &officer);
        let planned = json!({"id": "s1", "household_id": "h", "status": "planned", "delivered_date": null, "kind": "loan", "project": "other_policy", "provider": "NHCSXH", "amount_vnd": 50000000, "planned_date": "2026-11-01"});
        doc.put_record(crate::doc::Collection::Support, "s1", &planned, &officer)
            .unwrap();
        let mut delivered = planned.clone();
        delivered["status"] = json!("delivered");
        delivered["delivered_date"] = json!("2026-11-20");
        delivered["amount_vnd"] = json!(45000000);
        doc.put_record(crate::doc::Collection::Support, "s1", &delivered, &officer)
            .unwrap();
        let h = history(&mut doc);
        let said: Vec<&str> = h.entries[0].items.iter().map(|t| t.vi.as_str()).collect();
        assert!(
            said.contains(&"Hỗ trợ Vay vốn ưu đãi 45.000.000 đ: Trạng thái: Dự kiến → Đã trao"),
            "{said:?}"
        );
        assert!(
            said.contains(&"Hỗ trợ Vay vốn ưu đãi 45.000.000 đ: Ngày trao: — → 20/11/2026"),
            "{said:?}"
        );
        assert!(
            said.contains(
                &"Hỗ trợ Vay vốn ưu đãi 45.000.000 đ: Số tiền (đồng): 50.000.000 đ → 45.000.000 đ"
            ),
            "{said:?}"
        );
    }

    #[test]
    fn each_change_says_what_changed_from_what_by_whom_and_through_which_door() {
        let officer = author("officer", Some(Door::Console));
        let mut doc = HouseholdDoc::new(&[1; 16], "h", &officer);
        doc.put_all(
            &json!({"code": "H-1", "village_id": "v1", "address": "Xóm 1", "head_name": "Lò Văn A", "residence": "rural", "status": "not_reviewed"}),
            std::iter::empty(),
            &officer,
        )
        .unwrap();
        let mut phone = HouseholdDoc::load(&[2; 16], &doc.save(), &author("vh", None)).unwrap();
        phone
            .update_profile(&json!({"address": "Xóm 2"}), &author("vh", None))
            .unwrap();
        let h = history(&mut phone);
        assert_eq!(h.older, 0);
        let newest = &h.entries[0];
        assert_eq!(newest.door, Door::Phone);
        assert_eq!(newest.user_id, "vh");
        assert_eq!(newest.items.len(), 1, "{:?}", newest.items);
        assert_eq!(newest.items[0].vi, "Địa chỉ: Xóm 1 → Xóm 2");
        assert_eq!(newest.items[0].en, "Address: Xóm 1 → Xóm 2");
        let first = h.entries.last().unwrap();
        assert_eq!(first.door, Door::Console);
        assert!(
            first
                .items
                .iter()
                .any(|t| t.en == "Head of household: — → Lò Văn A"),
            "{:?}",
            first.items
        );
    }
}
