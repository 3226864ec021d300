//! Households and their members: the register the village head keeps, with status,
//! priority groups and the causes of poverty the commune plan must answer.

use crate::{Text, Validate, ValidationErrors};
use serde::{Deserialize, Serialize};

/// Where a household stands in the programme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HouseholdStatus {
    Poor,
    NearPoor,
    /// Escaped poverty recently; stays tracked for 36 months.
    NewlyEscaped,
    Average,
    NotPoor,
    /// Registered and not reviewed yet: on neither list, and not judged "not poor" either.
    NotReviewed,
}

impl HouseholdStatus {
    pub const ALL: [HouseholdStatus; 6] = [
        HouseholdStatus::Poor,
        HouseholdStatus::NearPoor,
        HouseholdStatus::NewlyEscaped,
        HouseholdStatus::Average,
        HouseholdStatus::NotPoor,
        HouseholdStatus::NotReviewed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HouseholdStatus::Poor => "poor",
            HouseholdStatus::NearPoor => "near_poor",
            HouseholdStatus::NewlyEscaped => "newly_escaped",
            HouseholdStatus::Average => "average",
            HouseholdStatus::NotPoor => "not_poor",
            HouseholdStatus::NotReviewed => "not_reviewed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The status a review outcome gives a household that had `self` before: a poor
    /// household that leaves both lists has newly escaped (and stays tracked).
    pub fn after_review(self, outcome: crate::rules::Classification) -> Self {
        use crate::rules::Classification as C;
        match outcome {
            C::Poor => HouseholdStatus::Poor,
            C::NearPoor => HouseholdStatus::NearPoor,
            C::Average | C::NotPoor if self == HouseholdStatus::Poor => {
                HouseholdStatus::NewlyEscaped
            }
            C::Average => HouseholdStatus::Average,
            C::NotPoor => HouseholdStatus::NotPoor,
        }
    }

    pub fn label(self) -> Text {
        match self {
            HouseholdStatus::Poor => Text::new("Hộ nghèo", "Poor"),
            HouseholdStatus::NearPoor => Text::new("Hộ cận nghèo", "Near-poor"),
            HouseholdStatus::NewlyEscaped => Text::new("Hộ mới thoát nghèo", "Newly escaped"),
            HouseholdStatus::Average => Text::new("Hộ có mức sống trung bình", "Average"),
            HouseholdStatus::NotPoor => Text::new("Hộ không nghèo", "Not poor"),
            HouseholdStatus::NotReviewed => Text::new("Chưa rà soát", "Not reviewed yet"),
        }
    }
}

/// Priority groups that policies target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PriorityFlags {
    pub ethnic_minority: bool,
    /// Family of a person with meritorious service to the revolution (người có công).
    pub meritorious: bool,
    pub woman_headed: bool,
    pub member_with_disability: bool,
    pub elderly_only: bool,
}

/// Causes of poverty as the review forms and the Thọ Dân plan name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    LackOfCapital,
    LackOfSkills,
    LackOfKnowHow,
    LackOfWill,
    IllnessNoWorkers,
    LackOfLand,
    LackOfMeans,
    ManyDependants,
    Disability,
    OldAgeAlone,
    RiskOrDisaster,
}

impl Cause {
    pub const ALL: [Cause; 11] = [
        Cause::LackOfCapital,
        Cause::LackOfSkills,
        Cause::LackOfKnowHow,
        Cause::LackOfWill,
        Cause::IllnessNoWorkers,
        Cause::LackOfLand,
        Cause::LackOfMeans,
        Cause::ManyDependants,
        Cause::Disability,
        Cause::OldAgeAlone,
        Cause::RiskOrDisaster,
    ];

    pub fn label(self) -> Text {
        match self {
            Cause::LackOfCapital => Text::new("Thiếu vốn sản xuất", "Lack of capital"),
            Cause::LackOfSkills => Text::new(
                "Thiếu lao động có tay nghề, không có việc làm",
                "Lack of labour skills / no job",
            ),
            Cause::LackOfKnowHow => Text::new(
                "Không biết cách làm ăn",
                "Lack of know-how in earning a living",
            ),
            Cause::LackOfWill => Text::new("Thiếu ý chí vươn lên", "Lack of will to rise"),
            Cause::IllnessNoWorkers => Text::new(
                "Ốm đau dài ngày, không có lao động",
                "Long illness, no working members",
            ),
            Cause::LackOfLand => Text::new("Thiếu đất sản xuất", "Lack of production land"),
            Cause::LackOfMeans => {
                Text::new("Thiếu phương tiện sản xuất", "Lack of production means")
            }
            Cause::ManyDependants => Text::new("Đông người ăn theo", "Many dependants"),
            Cause::Disability => Text::new("Có người khuyết tật", "Disability"),
            Cause::OldAgeAlone => Text::new("Người cao tuổi sống một mình", "Old age living alone"),
            Cause::RiskOrDisaster => Text::new("Gặp rủi ro, thiên tai", "Risk or disaster"),
        }
    }

    /// The solution the commune plan matches to this cause.
    pub fn matched_solution(self) -> Text {
        match self {
            Cause::LackOfCapital => Text::new(
                "Vay vốn ưu đãi Ngân hàng Chính sách xã hội",
                "Preferential loan from the Social Policy Bank",
            ),
            Cause::LackOfSkills => Text::new(
                "Đào tạo nghề, giới thiệu việc làm, xuất khẩu lao động",
                "Vocational training, job matching, contract work abroad",
            ),
            Cause::LackOfKnowHow | Cause::LackOfWill => Text::new(
                "Cán bộ, đảng viên kèm cặp, giúp đỡ",
                "A cadre or party member accompanies the household",
            ),
            Cause::IllnessNoWorkers | Cause::Disability | Cause::OldAgeAlone => Text::new(
                "Vận động doanh nghiệp, tổ chức, cá nhân hỗ trợ; trợ giúp xã hội",
                "Mobilise businesses and organisations; social assistance",
            ),
            Cause::LackOfLand | Cause::LackOfMeans => Text::new(
                "Hỗ trợ phát triển sản xuất, mô hình sinh kế",
                "Production support and livelihood models",
            ),
            Cause::ManyDependants => Text::new(
                "Hỗ trợ việc làm cho lao động, hỗ trợ học phí",
                "Jobs for working members, tuition exemption",
            ),
            Cause::RiskOrDisaster => Text::new("Cứu trợ khẩn cấp", "Emergency relief"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Male,
    Female,
}

/// Area type of the household's residence: it selects the income line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Residence {
    Rural,
    Urban,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Household {
    pub id: String,
    /// Household code in the commune register.
    pub code: String,
    pub village_id: String,
    pub address: String,
    pub head_name: String,
    pub residence: Residence,
    pub status: HouseholdStatus,
    pub priority: PriorityFlags,
    pub causes: Vec<Cause>,
    pub created_at: String,
    pub updated_at: String,
}

impl Household {
    /// The profile as a person enters it (what `HouseholdInput` validates).
    pub fn input(&self) -> HouseholdInput {
        HouseholdInput {
            code: self.code.clone(),
            village_id: self.village_id.clone(),
            address: self.address.clone(),
            head_name: self.head_name.clone(),
            residence: self.residence,
            priority: self.priority,
            causes: self.causes.clone(),
        }
    }
}

/// The form of a household code that decides whether two codes are the same household's:
/// trimmed, in Unicode NFC, lower-cased. `DV-01-0001`, `dv-01-0001 ` and the same code
/// typed with decomposed accents (NFD) are one code; every door (phone, REST, import,
/// sync) and the register's unique index compare this, never the bytes typed.
pub fn code_key(code: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let lower: String = code.trim().nfc().flat_map(char::to_lowercase).collect();
    // Lower-casing can leave a sequence that composes further.
    lower.nfc().collect()
}

/// What a village head sends to register or edit a household profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HouseholdInput {
    pub code: String,
    pub village_id: String,
    pub address: String,
    pub head_name: String,
    pub residence: Residence,
    #[serde(default)]
    pub priority: PriorityFlags,
    #[serde(default)]
    pub causes: Vec<Cause>,
}

impl Validate for HouseholdInput {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.required_text("code", &self.code, 30);
        e.required_text("village_id", &self.village_id, 64);
        e.max_len("address", &self.address, 200);
        e.required_text("head_name", &self.head_name, 100);
        let mut seen = std::collections::HashSet::new();
        if !self.causes.iter().all(|c| seen.insert(*c)) {
            e.push(
                "causes",
                "duplicate",
                Text::new("Nguyên nhân bị lặp lại.", "A cause is listed twice."),
            );
        }
        e.into_result()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Member {
    pub id: String,
    pub household_id: String,
    #[serde(flatten)]
    pub data: MemberInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MemberInput {
    pub full_name: String,
    pub birth_year: i32,
    pub sex: Sex,
    #[serde(default)]
    pub ethnicity: String,
    /// 12-digit citizen identity number (CCCD), when the member has one.
    #[serde(default)]
    pub citizen_id: Option<String>,
    /// Relation to the head, e.g. "Chủ hộ", "Vợ", "Con".
    pub relation: String,
    #[serde(default)]
    pub disability: bool,
    #[serde(default)]
    pub health_insurance: bool,
    #[serde(default)]
    pub schooling: String,
    #[serde(default)]
    pub work: String,
}

impl Validate for MemberInput {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.required_text("full_name", &self.full_name, 100);
        e.range_i64("birth_year", self.birth_year.into(), 1900, 2100);
        e.max_len("ethnicity", &self.ethnicity, 50);
        if let Some(id) = &self.citizen_id
            && (id.len() != 12 || !id.chars().all(|c| c.is_ascii_digit()))
        {
            e.push(
                "citizen_id",
                "invalid_citizen_id",
                Text::new(
                    "Số định danh cá nhân gồm đúng 12 chữ số.",
                    "A citizen ID number has exactly 12 digits.",
                ),
            );
        }
        e.required_text("relation", &self.relation, 50);
        e.max_len("schooling", &self.schooling, 100);
        e.max_len("work", &self.work, 100);
        e.into_result()
    }
}

impl MemberInput {
    /// The checks that need today's date: nobody is born in the future.
    pub fn validate_on(&self, today: chrono::NaiveDate) -> Result<(), ValidationErrors> {
        use chrono::Datelike;
        let mut e = match self.validate() {
            Ok(()) => ValidationErrors::default(),
            Err(e) => e,
        };
        if self.birth_year > today.year() {
            e.range_i64(
                "birth_year",
                self.birth_year.into(),
                1900,
                today.year().into(),
            );
        }
        e.into_result()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_differing_by_case_space_or_unicode_form_are_one_code() {
        use super::code_key;
        assert_eq!(code_key("DV-01-0001"), code_key(" dv-01-0001 "));
        // "Đ" + "Ồ" composed (NFC) and decomposed (NFD: O + circumflex + grave).
        assert_eq!(code_key("ĐỒNG-1"), code_key("đo\u{302}\u{300}ng-1"));
        assert_ne!(code_key("DV-01-0001"), code_key("DV-01-0002"));
        assert_ne!(code_key("DV-01-0001"), code_key("DV-010001"));
    }

    proptest::proptest! {
        #[test]
        fn a_code_has_one_key_whatever_its_case_or_unicode_form(
            s in "[a-zA-Z0-9ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ -]{0,20}"
        ) {
            use super::code_key;
            use unicode_normalization::UnicodeNormalization;
            let k = code_key(&s);
            proptest::prop_assert_eq!(code_key(&k), k.clone());
            proptest::prop_assert_eq!(code_key(&s.nfd().collect::<String>()), k.clone());
            proptest::prop_assert_eq!(code_key(&s.to_uppercase()), k.clone());
            proptest::prop_assert_eq!(code_key(&format!("  {s}\t")), k);
        }
    }

    use super::*;

    fn member() -> MemberInput {
        MemberInput {
            full_name: "Hoàng Văn Páo".into(),
            birth_year: 1980,
            sex: Sex::Male,
            ethnicity: "Dao".into(),
            citizen_id: Some("024080001234".into()),
            relation: "Chủ hộ".into(),
            disability: false,
            health_insurance: true,
            schooling: "Lớp 9".into(),
            work: "Làm nông".into(),
        }
    }

    #[test]
    fn a_good_member_is_valid() {
        assert!(member().validate().is_ok());
    }

    #[test]
    fn a_short_citizen_id_is_refused_with_reason() {
        let mut m = member();
        m.citizen_id = Some("12345".into());
        let e = m.validate().unwrap_err();
        assert_eq!(e.0[0].field, "citizen_id");
        assert!(e.0[0].message.vi.contains("12 chữ số"));
    }

    #[test]
    fn statuses_round_trip_through_their_names() {
        for s in HouseholdStatus::ALL {
            assert_eq!(HouseholdStatus::parse(s.as_str()), Some(s));
        }
    }
}

/// The code a new household would take next: the most common prefix among `codes` (the
/// commune's letters and the village's number, "DV-01-") with the number after its largest,
/// as wide as it ("DV-01-0124"). `None` when no code ends in a number.
pub fn next_code<'a>(codes: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut by_prefix: std::collections::BTreeMap<String, (usize, u64, usize)> =
        std::collections::BTreeMap::new();
    for code in codes {
        let digits = code.len() - code.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 || digits > 18 {
            continue;
        }
        let (prefix, number) = code.split_at(code.len() - digits);
        let Ok(n) = number.parse::<u64>() else {
            continue;
        };
        let e = by_prefix
            .entry(prefix.to_string())
            .or_insert((0, 0, digits));
        e.0 += 1;
        if n >= e.1 {
            e.1 = n;
            e.2 = e.2.max(digits);
        }
    }
    let (prefix, (_, max, width)) = by_prefix
        .into_iter()
        .max_by_key(|(_, (count, _, _))| *count)?;
    Some(format!("{prefix}{:0width$}", max + 1))
}

#[cfg(test)]
mod next_code_tests {
    use super::next_code;
    use proptest::prelude::*;

    #[test]
    fn the_next_code_follows_the_village_numbering() {
        assert_eq!(
            next_code(["DV-01-0123", "DV-01-0009", "DV-02-0500"]).as_deref(),
            Some("DV-01-0124")
        );
        assert_eq!(next_code(["H-9"]).as_deref(), Some("H-10"));
        assert_eq!(next_code(["không số"]), None);
        assert_eq!(next_code([]), None);
    }

    proptest! {
        #[test]
        fn the_suggested_code_is_never_taken(numbers in proptest::collection::vec(0u32..5000, 1..40)) {
            let codes: Vec<String> = numbers.iter().map(|n| format!("DV-01-{n:04}")).collect();
            let next = next_code(codes.iter().map(String::as_str)).unwrap();
            prop_assert!(!codes.contains(&next));
        }
    }
}
