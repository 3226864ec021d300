//! The administrative area tree (province → commune → village). Since July 2025 Vietnam has
//! two tiers of local government, so the tree is data with any depth, not fixed levels.

use crate::{Text, Validate, ValidationErrors};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AreaKind {
    Province,
    Commune,
    Village,
}

impl AreaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AreaKind::Province => "province",
            AreaKind::Commune => "commune",
            AreaKind::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [AreaKind::Province, AreaKind::Commune, AreaKind::Village]
            .into_iter()
            .find(|k| k.as_str() == s)
    }

    pub fn label(self) -> Text {
        match self {
            AreaKind::Province => Text::new("Tỉnh", "Province"),
            AreaKind::Commune => Text::new("Xã", "Commune"),
            AreaKind::Village => Text::new("Thôn/bản", "Village"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Area {
    pub id: String,
    pub parent_id: Option<String>,
    pub kind: AreaKind,
    /// Official administrative code.
    pub code: String,
    pub name: String,
}

/// What an administrator sends to create or rename an area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AreaInput {
    pub parent_id: Option<String>,
    pub kind: AreaKind,
    pub code: String,
    pub name: String,
}

impl Validate for AreaInput {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.required_text("code", &self.code, 20);
        if !self
            .code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            e.push(
                "code",
                "invalid_code",
                Text::new(
                    "Mã chỉ gồm chữ số, chữ cái không dấu và dấu gạch ngang.",
                    "A code holds only digits, plain letters and dashes.",
                ),
            );
        }
        e.required_text("name", &self.name, 100);
        if self.kind != AreaKind::Province && self.parent_id.is_none() {
            e.push(
                "parent_id",
                "required",
                Text::new(
                    "Xã và thôn phải thuộc một đơn vị cấp trên.",
                    "A commune or village needs a parent area.",
                ),
            );
        }
        e.into_result()
    }
}
