//! Bilingual text: every message a person reads exists in Vietnamese (first) and English.

use serde::{Deserialize, Serialize};

/// A message in Vietnamese and English. Vietnamese is what field users see by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Text {
    pub vi: String,
    pub en: String,
}

impl Text {
    pub fn new(vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            vi: vi.into(),
            en: en.into(),
        }
    }

    /// The text in the requested language; anything but English gets Vietnamese.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        }
    }
}

/// The two languages the product speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

/// Whole digits grouped by thousands as Vietnamese write them: 1.234.567.
fn grouped(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

/// A number as Vietnamese write it, with `places` decimals: 1.234,5.
pub fn decimal(x: f64, places: usize) -> String {
    let fixed = format!("{:.*}", places, x.abs());
    let (whole, frac) = fixed.split_once('.').unwrap_or((&fixed, ""));
    let sign = if x < 0.0 && fixed.chars().any(|c| matches!(c, '1'..='9')) {
        "-"
    } else {
        ""
    };
    let frac = if frac.is_empty() {
        String::new()
    } else {
        format!(",{frac}")
    };
    format!("{sign}{}{frac}", grouped(whole))
}

/// A rate as Vietnamese write it: 6,07 %.
pub fn percent(x: f64) -> String {
    format!("{}\u{a0}%", decimal(x, 2))
}

/// An amount as Vietnamese write it: 1.500.000 đ.
pub fn vnd(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{} đ", grouped(&n.unsigned_abs().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn numbers_are_written_the_vietnamese_way() {
        assert_eq!(decimal(1234.5, 1), "1.234,5");
        assert_eq!(percent(6.0712), "6,07\u{a0}%");
        assert_eq!(percent(2.6), "2,60\u{a0}%");
        assert_eq!(vnd(1_500_000), "1.500.000 đ");
        assert_eq!(vnd(-200_000), "-200.000 đ");
        assert_eq!(decimal(-0.001, 2), "0,00");
    }

    proptest! {
        #[test]
        fn a_written_amount_reads_back_as_the_same_number(n in -10_000_000_000i64..10_000_000_000) {
            let w = vnd(n);
            let back: i64 = w.trim_end_matches(" đ").replace('.', "").parse().unwrap();
            prop_assert_eq!(back, n);
        }
    }
}
