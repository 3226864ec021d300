//! Search folding: people type names on phones without Vietnamese accents ("dang" for
//! "Đặng"), so stored text and queries are compared lower-cased with diacritics removed.

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

    proptest! {
        #[test]
        fn folding_is_idempotent(s in "\\PC{0,30}") {
            let once = fold(&s);
            prop_assert_eq!(fold(&once), once);
        }
    }
}
