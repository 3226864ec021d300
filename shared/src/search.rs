//! Search folding: people type names on phones without Vietnamese accents ("dang" for
//! "Đặng"), so stored text and queries are compared lower-cased with diacritics removed.

use crate::Text;
use crate::household::HouseholdStatus;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower case, without diacritics, `đ` as `d`.
pub fn fold(s: &str) -> String {
    s.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'đ' { 'd' } else { c })
        .collect()
}

/// A household the console's search found, and what of it matched when it was not the
/// code, the head's name or the address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    pub household_id: String,
    pub code: String,
    pub head_name: String,
    pub village_id: String,
    pub status: HouseholdStatus,
    /// "Thành viên: Lò Thị Mai" or "Số định danh của Lò Thị Mai".
    #[serde(default)]
    pub matched: Option<Text>,
}

/// The most characters a search takes.
pub const MAX_QUERY: usize = 100;

/// A query as a citizen ID number: the digits of an identity number typed whole (9 or 12
/// digits, spaces and dots allowed). A part of a number finds nothing, so the search is
/// no way to collect people's numbers.
pub fn id_number(q: &str) -> Option<String> {
    let digits: String = q
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    (matches!(digits.len(), 9 | 12) && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::fold;
    use proptest::prelude::*;

    #[test]
    fn vietnamese_names_fold_to_plain_letters() {
        assert_eq!(fold("Đặng Thị Hường"), "dang thi huong");
        assert_eq!(fold("NÔNG VĂN SÌNH"), "nong van sinh");
        assert_eq!(fold("Bản Khe Nghè"), "ban khe nghe");
    }

    #[test]
    fn only_a_whole_id_number_searches_by_number() {
        use super::id_number;
        assert_eq!(
            id_number("001 085 012 345").as_deref(),
            Some("001085012345")
        );
        assert_eq!(id_number("012345678").as_deref(), Some("012345678"));
        assert_eq!(id_number("0010850"), None);
        assert_eq!(id_number("Lò Thị Mai"), None);
    }

    proptest! {
        #[test]
        fn folding_is_idempotent(s in "\\PC{0,30}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once);
        }
    }
}
