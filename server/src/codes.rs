//! `donghanh check-codes`: the households whose codes are one code once compared by
//! their key (`shared::household::code_key`) — registered before codes were compared so,
//! and left for an officer to give one of them another code.

use crate::store::{HouseholdFilter, Store, StoreError};
use shared::household::{Household, code_key};
use std::collections::BTreeMap;

/// Groups of two or more households sharing a code key, each group by code.
pub async fn collisions(store: &dyn Store) -> Result<Vec<Vec<Household>>, StoreError> {
    let mut by_key: BTreeMap<String, Vec<Household>> = BTreeMap::new();
    for h in store
        .list_households(&HouseholdFilter {
            limit: i64::MAX / 2,
            ..Default::default()
        })
        .await?
    {
        by_key.entry(code_key(&h.code)).or_default().push(h);
    }
    Ok(by_key.into_values().filter(|g| g.len() > 1).collect())
}

/// The collisions as lines for a person: each group, then each household in it.
pub fn text(groups: &[Vec<Household>]) -> String {
    if groups.is_empty() {
        return "Không có mã hộ nào trùng nhau / no household codes collide\n".into();
    }
    let mut out = format!(
        "{} nhóm mã hộ trùng nhau; hãy đổi mã cho các hộ thừa / {} groups of colliding household codes; give the extra households other codes\n",
        groups.len(),
        groups.len()
    );
    for g in groups {
        out.push_str(&format!("\n{}\n", code_key(&g[0].code)));
        for h in g {
            out.push_str(&format!(
                "  {:?}\t{}\t{}\t{}\n",
                h.code, h.head_name, h.village_id, h.id
            ));
        }
    }
    out
}
