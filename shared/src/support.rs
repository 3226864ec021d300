//! Support delivered under the programme's projects (Decision 90/QĐ-TTg) and the policies
//! tracked beside it: planned, then delivered, tied to the cause or deprivation it closes.

use crate::household::Cause;
use crate::{Text, Validate, ValidationErrors};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SupportKind {
    Loan,
    Training,
    Job,
    Housing,
    HealthInsurance,
    LivelihoodModel,
    ProductionSupport,
    Nutrition,
    Information,
    TuitionExemption,
    LegalAid,
    EmergencyRelief,
}

impl SupportKind {
    pub const ALL: [SupportKind; 12] = [
        SupportKind::Loan,
        SupportKind::Training,
        SupportKind::Job,
        SupportKind::Housing,
        SupportKind::HealthInsurance,
        SupportKind::LivelihoodModel,
        SupportKind::ProductionSupport,
        SupportKind::Nutrition,
        SupportKind::Information,
        SupportKind::TuitionExemption,
        SupportKind::LegalAid,
        SupportKind::EmergencyRelief,
    ];

    pub fn label(self) -> Text {
        match self {
            SupportKind::Loan => Text::new("Vay vốn ưu đãi", "Preferential loan"),
            SupportKind::Training => Text::new("Đào tạo nghề", "Vocational training"),
            SupportKind::Job => Text::new("Hỗ trợ việc làm", "Job support"),
            SupportKind::Housing => Text::new("Hỗ trợ nhà ở", "Housing"),
            SupportKind::HealthInsurance => Text::new("Thẻ BHYT", "Health-insurance card"),
            SupportKind::LivelihoodModel => Text::new("Mô hình sinh kế", "Livelihood model"),
            SupportKind::ProductionSupport => {
                Text::new("Hỗ trợ phát triển sản xuất", "Production support")
            }
            SupportKind::Nutrition => Text::new("Cải thiện dinh dưỡng", "Nutrition"),
            SupportKind::Information => Text::new("Hỗ trợ thông tin", "Information"),
            SupportKind::TuitionExemption => Text::new("Miễn giảm học phí", "Tuition exemption"),
            SupportKind::LegalAid => Text::new("Trợ giúp pháp lý", "Legal aid"),
            SupportKind::EmergencyRelief => Text::new("Cứu trợ khẩn cấp", "Emergency relief"),
        }
    }
}

/// The programme project (or outside policy) that pays for a support action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Project {
    /// Project 2: livelihood diversification and poverty-reduction models.
    P2Livelihood,
    /// Project 3, sub-project 1: production support.
    P3Production,
    /// Project 3, sub-project 2: nutrition.
    P3Nutrition,
    /// Project 4, sub-project 1: vocational education.
    P4Vocational,
    /// Project 4, sub-project 3: sustainable jobs.
    P4Jobs,
    /// Project 5: housing.
    P5Housing,
    /// Project 6: information poverty and communication.
    P6Information,
    /// Project 7: capacity building, monitoring and evaluation.
    P7Capacity,
    /// Outside the programme: Social Policy Bank, health insurance, tuition, legal aid…
    OtherPolicy,
}

impl Project {
    pub const ALL: [Project; 9] = [
        Project::P2Livelihood,
        Project::P3Production,
        Project::P3Nutrition,
        Project::P4Vocational,
        Project::P4Jobs,
        Project::P5Housing,
        Project::P6Information,
        Project::P7Capacity,
        Project::OtherPolicy,
    ];

    pub fn label(self) -> Text {
        match self {
            Project::P2Livelihood => {
                Text::new("Dự án 2: Đa dạng hóa sinh kế", "Project 2: livelihoods")
            }
            Project::P3Production => {
                Text::new("Dự án 3.1: Hỗ trợ sản xuất", "Project 3.1: production")
            }
            Project::P3Nutrition => Text::new("Dự án 3.2: Dinh dưỡng", "Project 3.2: nutrition"),
            Project::P4Vocational => {
                Text::new("Dự án 4.1: Giáo dục nghề nghiệp", "Project 4.1: vocational")
            }
            Project::P4Jobs => Text::new("Dự án 4.3: Việc làm bền vững", "Project 4.3: jobs"),
            Project::P5Housing => Text::new("Dự án 5: Nhà ở", "Project 5: housing"),
            Project::P6Information => {
                Text::new("Dự án 6: Thông tin, truyền thông", "Project 6: information")
            }
            Project::P7Capacity => Text::new("Dự án 7: Nâng cao năng lực", "Project 7: capacity"),
            Project::OtherPolicy => Text::new("Chính sách khác", "Other policy"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SupportStatus {
    Planned,
    Delivered,
    Cancelled,
}

impl SupportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SupportStatus::Planned => "planned",
            SupportStatus::Delivered => "delivered",
            SupportStatus::Cancelled => "cancelled",
        }
    }

    pub fn label(self) -> Text {
        match self {
            SupportStatus::Planned => Text::new("Dự kiến", "Planned"),
            SupportStatus::Delivered => Text::new("Đã trao", "Delivered"),
            SupportStatus::Cancelled => Text::new("Đã hủy", "Cancelled"),
        }
    }

    pub fn parse(s: &str) -> Option<SupportStatus> {
        [Self::Planned, Self::Delivered, Self::Cancelled]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupportAction {
    pub id: String,
    pub household_id: String,
    pub status: SupportStatus,
    pub delivered_date: Option<NaiveDate>,
    #[serde(flatten)]
    pub data: SupportInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupportInput {
    pub kind: SupportKind,
    pub project: Project,
    /// Who provides it, e.g. "NHCSXH huyện", "Hội Nông dân xã".
    pub provider: String,
    /// Amount in VND, for money.
    #[serde(default)]
    pub amount_vnd: Option<i64>,
    /// Quantity and unit, for goods (e.g. 2 "con bò").
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub unit: String,
    pub planned_date: NaiveDate,
    /// The cause of poverty this should close.
    #[serde(default)]
    pub addresses_cause: Option<Cause>,
    /// Or the indicator code of the deprivation it should close.
    #[serde(default)]
    pub addresses_indicator: Option<String>,
    #[serde(default)]
    pub note: String,
}

impl Validate for SupportInput {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.required_text("provider", &self.provider, 200);
        if let Some(a) = self.amount_vnd {
            e.range_i64("amount_vnd", a, 0, 10_000_000_000);
        }
        if let Some(q) = self.quantity {
            e.range_i64("quantity", q, 0, 1_000_000);
            e.required_text("unit", &self.unit, 30);
        }
        e.max_len("note", &self.note, 1000);
        e.into_result()
    }
}

/// A status change of a support action: it is delivered (on a date, of an amount) or
/// cancelled, never edited away. A delivery or cancellation recorded by mistake goes back
/// to planned by a change of its own, which the household's history keeps beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SupportStatusChange {
    pub status: SupportStatus,
    /// Required when delivered.
    #[serde(default)]
    pub delivered_date: Option<NaiveDate>,
    /// The amount actually delivered, in VND, when it differs from the planned amount (or,
    /// going back to planned, the amount that was planned).
    #[serde(default)]
    pub amount_vnd: Option<i64>,
}

impl Validate for SupportStatusChange {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        match (self.status, self.delivered_date) {
            (SupportStatus::Delivered, None) => e.push(
                "delivered_date",
                "required",
                Text::new("Cần ngày bàn giao.", "The delivery date is required."),
            ),
            (SupportStatus::Planned | SupportStatus::Cancelled, Some(_)) => e.push(
                "delivered_date",
                "not_delivered",
                Text::new(
                    "Chỉ ghi ngày bàn giao khi đã trao.",
                    "A delivery date goes only with a delivery.",
                ),
            ),
            _ => {}
        }
        if let Some(d) = self.delivered_date {
            e.in_calendar("delivered_date", d);
        }
        if let Some(a) = self.amount_vnd {
            e.range_i64("amount_vnd", a, 0, 10_000_000_000);
            if self.status == SupportStatus::Cancelled {
                e.push(
                    "amount_vnd",
                    "not_delivered",
                    Text::new(
                        "Hỗ trợ đã hủy không có số tiền trao.",
                        "A cancelled support action has no amount delivered.",
                    ),
                );
            }
        }
        e.into_result()
    }
}

/// Whether a support action may go from `from` to `to`: planned becomes delivered or
/// cancelled; a delivered or cancelled one goes back to planned only to correct a mistake.
pub fn lawful_change(from: SupportStatus, to: SupportStatus) -> bool {
    matches!(
        (from, to),
        (
            SupportStatus::Planned,
            SupportStatus::Delivered | SupportStatus::Cancelled
        ) | (
            SupportStatus::Delivered | SupportStatus::Cancelled,
            SupportStatus::Planned
        )
    )
}

/// Support delivered under one programme project in an area: what the 6-month and annual
/// reports add up, and the beneficiaries behind the totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectTotal {
    pub project: Project,
    /// Households with at least one action of the project (not cancelled).
    pub beneficiaries: usize,
    pub planned: usize,
    pub delivered: usize,
    pub cancelled: usize,
    /// Money delivered, in VND.
    pub delivered_vnd: i64,
}

/// One support action with the household it went to, for a project's beneficiary list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Beneficiary {
    pub household_id: String,
    pub code: String,
    pub head_name: String,
    pub village_id: String,
    pub support: SupportAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupportOverview {
    pub projects: Vec<ProjectTotal>,
    /// The actions of the chosen project (all projects when none is chosen), by date.
    pub beneficiaries: Vec<Beneficiary>,
}
