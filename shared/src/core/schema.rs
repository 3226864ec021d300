//! The shape a household document must keep: known keys, known nesting, bounded sizes —
//! checked on every value of every field, including values that lose a concurrent write,
//! since those stay in the document and reach every phone.
//!
//! The walk follows the fixed schema (at most four levels deep) and stops at the first
//! object where the schema expects none, so no input can make it recurse deeper.

use super::{Limits, Refusal};
use crate::doc::{Collection, SCHEMA_VERSION, Touched};
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};

/// The fields a record of each collection may hold.
pub fn fields_of(collection: Collection) -> &'static [&'static str] {
    match collection {
        Collection::Profile => &[
            "code",
            "village_id",
            "address",
            "head_name",
            "residence",
            "status",
            "created_at",
            "priority",
            "causes",
        ],
        Collection::Members => &[
            "full_name",
            "birth_year",
            "sex",
            "ethnicity",
            "citizen_id",
            "relation",
            "disability",
            "health_insurance",
            "schooling",
            "work",
        ],
        Collection::Assessments => &["json"],
        Collection::Plan => &[
            "cause",
            "solution",
            "owner",
            "due",
            "progress_note",
            "status",
        ],
        Collection::ReviewSteps => &["kind", "date", "json"],
        Collection::Visits => &[
            "date",
            "discussed",
            "progress",
            "needs",
            "next_visit",
            "cadre_id",
        ],
        Collection::Support => &[
            "kind",
            "project",
            "provider",
            "amount_vnd",
            "quantity",
            "unit",
            "planned_date",
            "addresses_cause",
            "addresses_indicator",
            "note",
            "status",
            "delivered_date",
        ],
        Collection::Resolutions => &["path", "value", "resolved_by", "resolved_at", "overridden"],
    }
}

const PRIORITY_FLAGS: [&str; 5] = [
    "ethnic_minority",
    "meritorious",
    "woman_headed",
    "member_with_disability",
    "elderly_only",
];

fn bad(what: impl std::fmt::Display) -> Refusal {
    Refusal::new(
        "schema",
        format!("Hồ sơ hộ không đúng cấu trúc: {what}."),
        format!("The household record does not have the expected shape: {what}."),
    )
}

/// A record id: what phones and the server generate (UUIDs, short codes).
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

struct Walk<'a> {
    doc: &'a AutoCommit,
    limits: &'a Limits,
}

impl Walk<'_> {
    /// Every value (all concurrent ones) at `key` of `obj`.
    fn values(&self, obj: &ObjId, key: &str) -> Result<Vec<(Value<'_>, ObjId)>, Refusal> {
        self.doc.get_all(obj, key).map_err(bad)
    }

    fn keys(&self, obj: &ObjId, max: usize, what: &str) -> Result<Vec<String>, Refusal> {
        let n = self.doc.length(obj);
        if n > max {
            return Err(bad(format_args!("{what}: {n} > {max}")));
        }
        Ok(self.doc.keys(obj).collect())
    }

    /// A field's value: a scalar, or a collaborative text object (read as its text, so
    /// bounded like any string).
    fn scalar(
        &self,
        v: &Value<'_>,
        obj: &ObjId,
        at: &dyn std::fmt::Display,
    ) -> Result<(), Refusal> {
        match v {
            Value::Object(ObjType::Text) if self.doc.length(obj) > self.limits.text_chars => {
                Err(bad(format_args!("{at}: text too long")))
            }
            Value::Object(ObjType::Text) => Ok(()),
            Value::Scalar(s) => match s.as_ref() {
                ScalarValue::Str(t) if t.chars().count() > self.limits.text_chars => {
                    Err(bad(format_args!("{at}: text too long")))
                }
                ScalarValue::Bytes(_) | ScalarValue::Unknown { .. } | ScalarValue::Counter(_) => {
                    Err(bad(format_args!("{at}: unexpected value type")))
                }
                _ => Ok(()),
            },
            Value::Object(_) => Err(bad(format_args!("{at}: unexpected object"))),
        }
    }

    /// A map of scalar fields drawn from `allowed`, read in one pass; every value of a
    /// field in conflict is looked up and checked too.
    fn record(&self, obj: &ObjId, allowed: &[&str], at: &str) -> Result<(), Refusal> {
        let n = self.doc.length(obj);
        let max = self.limits.fields_per_record;
        if n > max {
            return Err(bad(format_args!("{at}: {n} > {max}")));
        }
        for item in self.doc.map_range(obj, ..) {
            let key = item.key.as_ref();
            if !allowed.contains(&key) {
                return Err(bad(format_args!("{at}: unknown field {key}")));
            }
            if item.conflict {
                for (v, child) in self.values(obj, key)? {
                    self.field(&v, &child, key, at)?;
                }
            } else {
                self.field(&item.value.clone().into_value(), &item.id(), key, at)?;
            }
        }
        Ok(())
    }

    /// One value of field `key` of a record at `at`.
    fn field(&self, v: &Value<'_>, child: &ObjId, key: &str, at: &str) -> Result<(), Refusal> {
        match (at, key, v) {
            ("profile", "priority", Value::Object(ObjType::Map)) => {
                self.record(child, &PRIORITY_FLAGS, "profile.priority")
            }
            ("profile", "causes", Value::Object(ObjType::List)) => {
                let n = self.doc.length(child);
                if n > self.limits.list_items {
                    return Err(bad("profile.causes: too many"));
                }
                for i in 0..n {
                    for (item, obj) in self.doc.get_all(child, i).map_err(bad)? {
                        self.scalar(&item, &obj, &"profile.causes")?;
                    }
                }
                Ok(())
            }
            ("resolutions", "overridden", Value::Object(ObjType::Map)) => {
                for device in self.keys(child, 64, "overridden")? {
                    for (o, inner) in self.values(child, &device)? {
                        match o {
                            Value::Object(ObjType::Map) => self.record(
                                &inner,
                                &["user_id", "value"],
                                "resolutions.overridden",
                            )?,
                            _ => return Err(bad("resolutions.overridden")),
                        }
                    }
                }
                Ok(())
            }
            _ => self.scalar(v, child, &format_args!("{at}.{key}")),
        }
    }

    fn collection(
        &self,
        obj: &ObjId,
        name: Collection,
        only: Option<&Touched>,
    ) -> Result<(), Refusal> {
        // With `only`, the touched records are looked up by id, not found among all.
        let ids: Vec<String> = match only {
            None => self.keys(obj, self.limits.records_per_collection, name.as_str())?,
            Some(t) => {
                let Some(ids) = t.get(&name) else {
                    return Ok(());
                };
                let n = self.doc.length(obj);
                if n > self.limits.records_per_collection {
                    return Err(bad(format_args!(
                        "{name}: {n} > {}",
                        self.limits.records_per_collection
                    )));
                }
                ids.iter().cloned().collect()
            }
        };
        for id in ids {
            if !valid_id(&id) {
                return Err(bad(format_args!("{name}: record id")));
            }
            for (v, child) in self.values(obj, &id)? {
                match v {
                    Value::Object(ObjType::Map) => {
                        self.record(&child, fields_of(name), name.as_str())?
                    }
                    _ => return Err(bad(format_args!("{name}.{id}: not a record"))),
                }
            }
        }
        Ok(())
    }
}

/// Whether the document, every concurrent value included, has the household shape, with
/// `household_id` equal to `id` and the current schema version. With `only`, the records
/// checked are those it names (the rest was checked when it was written); when besides
/// no operation wrote at the root (`root_written` false), the root's keys are as they
/// were checked then, and only the collections holding those records are looked up.
pub fn check(
    doc: &AutoCommit,
    id: &str,
    limits: &Limits,
    only: Option<&Touched>,
    root_written: bool,
) -> Result<(), Refusal> {
    let w = Walk { doc, limits };
    if let (Some(touched), false) = (only, root_written) {
        for &collection in touched.keys() {
            for (v, obj) in w.values(&ROOT, collection.as_str())? {
                match (collection, v) {
                    (Collection::Profile, Value::Object(ObjType::Map)) => {
                        w.record(&obj, fields_of(Collection::Profile), collection.as_str())?
                    }
                    (_, Value::Object(ObjType::Map)) => w.collection(&obj, collection, only)?,
                    _ => return Err(bad(format_args!("{collection}: not a map"))),
                }
            }
        }
        return Ok(());
    }
    for key in w.keys(&ROOT, 16, "root")? {
        let values = w.values(&ROOT, &key)?;
        if values.len() != 1 && (key == "schema_version" || key == "household_id") {
            return Err(bad(format_args!("{key} written twice")));
        }
        for (v, obj) in values {
            match (key.as_str(), v) {
                ("schema_version", Value::Scalar(s)) => match s.as_ref() {
                    ScalarValue::Int(n) if *n == SCHEMA_VERSION => {}
                    ScalarValue::Uint(n) if *n as i64 == SCHEMA_VERSION => {}
                    _ => return Err(bad("schema_version")),
                },
                ("household_id", Value::Scalar(s)) => match s.as_ref() {
                    ScalarValue::Str(s) if s.as_str() == id => {}
                    _ => return Err(bad("household_id")),
                },
                (name, Value::Object(ObjType::Map)) => match Collection::parse(name) {
                    Some(Collection::Profile) => {
                        if only.is_none_or(|t| t.contains_key(&Collection::Profile)) {
                            w.record(&obj, fields_of(Collection::Profile), name)?
                        }
                    }
                    Some(collection) => w.collection(&obj, collection, only)?,
                    None => return Err(bad(format_args!("unknown key {name}"))),
                },
                (other, _) => return Err(bad(format_args!("unknown key {other}"))),
            }
        }
    }
    for required in [
        "schema_version",
        "household_id",
        Collection::Profile.as_str(),
    ] {
        if doc.get(ROOT, required).ok().flatten().is_none() {
            return Err(bad(format_args!("missing {required}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Author, HouseholdDoc};
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ReadDoc};

    /// Two devices wrote the same profile field at once: "Xóm 2" and `other` (written by
    /// the device whose value wins when `other_wins`).
    fn in_conflict(other: ScalarValue, other_wins: bool) -> AutoCommit {
        let author = Author {
            user_id: "server".into(),
            device_id: "server".into(),
            at_ms: 1_790_000_000_000,
            door: None,
        };
        let mut doc = HouseholdDoc::new(&[0xAA; 16], "h1", &author);
        doc.update_profile(
            &serde_json::json!({"code": "DV-1", "village_id": "v1", "head_name": "Hoàng Văn Páo", "address": "Xóm 1", "residence": "rural", "status": "poor", "created_at": "2025-01-01T00:00:00.000Z"}),
            &author,
        )
        .unwrap();
        let mut a = AutoCommit::load(&doc.save())
            .unwrap()
            .with_actor(ActorId::from(&[1; 16][..]));
        let mut b = a.fork().with_actor(ActorId::from(&[2; 16][..]));
        let (low, high) = match other_wins {
            true => (ScalarValue::from("Xóm 2"), other),
            false => (other, ScalarValue::from("Xóm 2")),
        };
        // Automerge lets the higher actor win a conflict.
        for (am, value) in [(&mut a, low), (&mut b, high)] {
            let (_, profile) = am.get(ROOT, "profile").unwrap().unwrap();
            am.put(&profile, "address", value).unwrap();
            am.commit();
        }
        a.merge(&mut b).unwrap();
        a
    }

    /// Every value of a field in conflict is checked, the one that loses included, in the
    /// whole document and in the profile alone.
    #[test]
    fn every_value_of_a_field_in_conflict_is_checked() {
        let lim = Limits::DEFAULT;
        let touched: Touched = [(Collection::Profile, Default::default())].into();
        let fine = in_conflict(ScalarValue::from("Xóm 3"), true);
        assert_eq!(fine.get_all(ROOT, "profile").unwrap().len(), 1);
        assert!(check(&fine, "h1", &lim, None, true).is_ok());
        assert!(check(&fine, "h1", &lim, Some(&touched), false).is_ok());
        for wins in [true, false] {
            let bytes = in_conflict(ScalarValue::Bytes(vec![0; 8]), wins);
            let (_, profile) = bytes.get(ROOT, "profile").unwrap().unwrap();
            let values = bytes.get_all(&profile, "address").unwrap();
            assert_eq!(values.len(), 2);
            let won = matches!(bytes.get(&profile, "address").unwrap(), Some((Value::Scalar(s), _)) if s.is_bytes());
            assert_eq!(won, wins);
            assert_eq!(
                check(&bytes, "h1", &lim, None, true).unwrap_err().code,
                "schema"
            );
            assert_eq!(
                check(&bytes, "h1", &lim, Some(&touched), false)
                    .unwrap_err()
                    .code,
                "schema"
            );
        }
    }

    /// A collaborative text object stands for its text, bounded like any string.
    #[test]
    fn a_text_object_is_read_as_text_and_bounded() {
        let lim = Limits::DEFAULT;
        let with_text = |chars: usize| {
            let mut doc = in_conflict(ScalarValue::from("Xóm 3"), true);
            let (_, profile) = doc.get(ROOT, "profile").unwrap().unwrap();
            let text = doc
                .put_object(&profile, "head_name", ObjType::Text)
                .unwrap();
            doc.splice_text(&text, 0, 0, &"ă".repeat(chars)).unwrap();
            doc.commit();
            doc
        };
        assert!(check(&with_text(20), "h1", &lim, None, true).is_ok());
        assert_eq!(
            check(&with_text(lim.text_chars + 1), "h1", &lim, None, true)
                .unwrap_err()
                .code,
            "schema"
        );
        // A list or a map where a field's text belongs is still refused.
        let mut doc = in_conflict(ScalarValue::from("Xóm 3"), true);
        let (_, profile) = doc.get(ROOT, "profile").unwrap().unwrap();
        doc.put_object(&profile, "head_name", ObjType::List)
            .unwrap();
        assert_eq!(
            check(&doc, "h1", &lim, None, true).unwrap_err().code,
            "schema"
        );
    }
}
