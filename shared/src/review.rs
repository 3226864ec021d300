//! The review as Decision 24/2021/QĐ-TTg runs it: a household is listed, its evidence
//! scored (`assessment`), the village meeting votes on the result, the result is posted and
//! complaints answered, and only the commune leader's decision changes the household's
//! official status. Each step is a record of the household document, dated and written by
//! the role that may, offline where it happens in the field.
//!
//! Also here: which rule set a review uses (the period it decides), and a household's
//! trajectory through the lists (escape date, the 36-month window, falling back, rotation).

use crate::assessment::ReviewKind;
use crate::household::HouseholdStatus;
use crate::rules::{Classification, RuleBook, RuleSet};
use crate::{Text, ValidationErrors};
use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// How long a newly escaped household keeps its policies (Decree 07/2021, Art. 3).
pub const WINDOW_MONTHS: u32 = 36;
/// Days the commune has to answer a household's own request for a review.
pub const AD_HOC_DAYS: i64 = 15;
/// Days the commune has to answer a complaint about a posted result: the first answer to a
/// complaint within 30 days of receiving it (Law on Complaints 2011, Art. 28).
pub const COMPLAINT_DAYS: i64 = 30;
/// The most people a village meeting can record.
pub const MAX_ATTENDEES: u32 = 5_000;

/// The yearly campaign of `year`: 1 September to 14 December.
pub fn campaign_window(year: i32) -> (NaiveDate, NaiveDate) {
    (
        NaiveDate::from_ymd_opt(year, 9, 1).expect("valid date"),
        NaiveDate::from_ymd_opt(year, 12, 14).expect("valid date"),
    )
}

/// Whether `date` falls in its year's campaign.
pub fn in_campaign(date: NaiveDate) -> bool {
    let (from, to) = campaign_window(date.year());
    from <= date && date <= to
}

/// The first day a review decides: the yearly review decides the next year's households,
/// an ad-hoc review decides from its own date.
pub fn decides_from(kind: ReviewKind, date: NaiveDate) -> NaiveDate {
    match kind {
        ReviewKind::Annual => NaiveDate::from_ymd_opt(date.year() + 1, 1, 1).expect("valid date"),
        ReviewKind::AdHoc => date,
    }
}

/// The rule set a review classifies with: the one in force for the period it decides, so
/// the review held from September 2026 uses the 2027–2030 standard.
pub fn rule_set_for(rules: &RuleBook, kind: ReviewKind, date: NaiveDate) -> Option<&RuleSet> {
    rules.in_force(decides_from(kind, date))
}

/// Why a household is on the list to review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ListReason {
    /// On the current poor or near-poor list.
    OnList,
    /// The household applied (đơn đề nghị).
    Applied,
    /// The village flagged it (hardship, a change the head saw).
    FlaggedByVillage,
}

impl ListReason {
    pub fn label(self) -> Text {
        match self {
            ListReason::OnList => Text::new("Đang trong danh sách", "On the current list"),
            ListReason::Applied => Text::new("Hộ có đơn đề nghị", "The household applied"),
            ListReason::FlaggedByVillage => Text::new("Thôn đề xuất", "Flagged by the village"),
        }
    }
}

/// What a step records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepData {
    /// The household is on the list to review.
    Listed { reason: ListReason },
    /// The village meeting: people present and how many agreed with the proposed result.
    Meeting { attendees: u32, agreed: u32 },
    /// The result posted at the village and the commune office until `until`.
    Posted { until: NaiveDate },
    /// A complaint about the posted result.
    Complaint { text: String },
    /// The answer to a complaint (the step id of the complaint).
    Answer { complaint: String, text: String },
    /// The commune leader's decision. `approved` takes the review's result; otherwise the
    /// household keeps its status. `from` and `to` are the official status before and after.
    /// A decision is never undone: a mistake is set right by a new decision that `corrects`
    /// the review's current one (its step id), with its own number and date.
    Decision {
        number: String,
        approved: bool,
        from: HouseholdStatus,
        to: HouseholdStatus,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        corrects: Option<String>,
    },
    /// The household leaves the commune's register (moved away, merged into another,
    /// split into new households, dissolved), confirmed by the commune under `number`;
    /// `from` is its official status when it left.
    Left {
        reason: LeftReason,
        number: String,
        from: HouseholdStatus,
    },
}

/// Why a household left the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LeftReason {
    MovedAway,
    Merged,
    Split,
    Dissolved,
}

impl LeftReason {
    pub const ALL: [LeftReason; 4] = [
        LeftReason::MovedAway,
        LeftReason::Merged,
        LeftReason::Split,
        LeftReason::Dissolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeftReason::MovedAway => "moved_away",
            LeftReason::Merged => "merged",
            LeftReason::Split => "split",
            LeftReason::Dissolved => "dissolved",
        }
    }

    pub fn label(self) -> Text {
        match self {
            LeftReason::MovedAway => Text::new("Chuyển đi nơi khác", "Moved away"),
            LeftReason::Merged => Text::new("Nhập vào hộ khác", "Merged into another household"),
            LeftReason::Split => Text::new("Tách thành hộ mới", "Split into new households"),
            LeftReason::Dissolved => Text::new("Hộ không còn (giải thể)", "Dissolved"),
        }
    }
}

impl StepData {
    pub fn kind(&self) -> &'static str {
        match self {
            StepData::Listed { .. } => "listed",
            StepData::Meeting { .. } => "meeting",
            StepData::Posted { .. } => "posted",
            StepData::Complaint { .. } => "complaint",
            StepData::Answer { .. } => "answer",
            StepData::Decision { .. } => "decision",
            StepData::Left { .. } => "left",
        }
    }

    /// Whether the step needs the review it belongs to (all but listing do).
    pub fn needs_review(&self) -> bool {
        !matches!(self, StepData::Listed { .. } | StepData::Left { .. })
    }
}

/// One dated step of a household's review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewStep {
    pub id: String,
    pub household_id: String,
    /// The review (assessment) the step belongs to; none for listing.
    #[serde(default)]
    pub review_id: Option<String>,
    pub date: NaiveDate,
    /// The signed-in user who recorded it.
    pub by: String,
    pub data: StepData,
}

/// Whether a meeting's vote makes its result valid: at least half of those present agreed.
pub fn meeting_valid(attendees: u32, agreed: u32) -> bool {
    attendees > 0 && agreed <= attendees && u64::from(agreed) * 2 >= u64::from(attendees)
}

impl ReviewStep {
    /// The step's dates in the law's order — the one check the phone's forms and the
    /// write core's gate share: not ahead of `today` (beyond the clocks' tolerance), not
    /// before its review (dated `review_date`), and after the steps it must follow among
    /// `others` (the household's other steps; see `Progress::out_of_order`).
    pub fn dates_in_order<'a>(
        &self,
        today: NaiveDate,
        review_date: Option<NaiveDate>,
        others: impl IntoIterator<Item = &'a ReviewStep>,
    ) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.not_ahead("date", self.date, today);
        if review_date.is_some_and(|r| self.date < r) {
            e.push(
                "date",
                "before_review",
                Text::new(
                    "Bước này không thể trước ngày rà soát.",
                    "This step cannot come before the review.",
                ),
            );
        }
        if let Some(review_id) = &self.review_id {
            let others = others.into_iter().filter(|o| o.id != self.id);
            if let Some(why) = Progress::of(review_id, others).out_of_order(self) {
                e.push("date", "step_order", why);
            }
        }
        e.into_result()
    }

    /// The checks of the step on its own (the rules across steps are in `progress`).
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::default();
        e.in_calendar("date", self.date);
        if self.data.needs_review() && self.review_id.is_none() {
            e.push(
                "review_id",
                "required",
                Text::new(
                    "Bước này phải gắn với một lần rà soát.",
                    "This step belongs to a review.",
                ),
            );
        }
        match &self.data {
            StepData::Listed { .. } => {}
            StepData::Meeting { attendees, agreed } => {
                e.range_i64("attendees", (*attendees).into(), 1, MAX_ATTENDEES.into());
                if agreed > attendees {
                    e.push(
                        "agreed",
                        "out_of_range",
                        Text::new(
                            "Số người đồng ý không thể nhiều hơn số người dự họp.",
                            "More people agreed than were present.",
                        ),
                    );
                }
            }
            StepData::Posted { until } => {
                e.in_calendar("until", *until);
                if *until < self.date {
                    e.push(
                        "until",
                        "out_of_range",
                        Text::new(
                            "Ngày kết thúc niêm yết phải sau ngày niêm yết.",
                            "The posting must end after it starts.",
                        ),
                    );
                }
            }
            StepData::Complaint { text } => e.required_text("text", text, 1000),
            StepData::Answer { complaint, text } => {
                e.required_text("complaint", complaint, 64);
                e.required_text("text", text, 1000);
            }
            StepData::Decision {
                number, corrects, ..
            } => {
                e.required_text("number", number, 50);
                if let Some(c) = corrects {
                    e.required_text("corrects", c, 64);
                }
            }
            StepData::Left { number, .. } => e.required_text("number", number, 50),
        }
        e.into_result()
    }
}

/// Where one review stands, from its steps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    /// The latest meeting.
    pub meeting: Option<Meeting>,
    pub posted_until: Option<NaiveDate>,
    pub complaints: u32,
    /// Complaints not yet answered: their step ids and texts.
    pub unanswered: Vec<OpenComplaint>,
    /// The decision, once made.
    pub decision: Option<Decided>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Meeting {
    pub date: NaiveDate,
    pub attendees: u32,
    pub agreed: u32,
}

impl Meeting {
    pub fn valid(&self) -> bool {
        meeting_valid(self.attendees, self.agreed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OpenComplaint {
    pub step_id: String,
    pub text: String,
    /// The last day of its answer (`COMPLAINT_DAYS` after it was received).
    pub answer_by: NaiveDate,
}

/// A review's decision in force: the first one, or the last decision correcting it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Decided {
    pub date: NaiveDate,
    pub number: String,
    pub approved: bool,
    /// Its step (what a correcting decision names).
    pub step_id: String,
    /// The official status before the review's first decision: a correction decides from it.
    pub before: HouseholdStatus,
    /// The status it gave.
    pub to: HouseholdStatus,
    /// The number of the decision it corrected, when it is a correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
}

impl Progress {
    /// The progress of `review_id` among a household's steps.
    pub fn of<'a>(review_id: &str, steps: impl IntoIterator<Item = &'a ReviewStep>) -> Progress {
        let mut p = Progress::default();
        let mut asked: Vec<OpenComplaint> = Vec::new();
        let mut answered = std::collections::BTreeSet::new();
        let mut steps: Vec<&ReviewStep> = steps
            .into_iter()
            .filter(|s| s.review_id.as_deref() == Some(review_id))
            .collect();
        steps.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
        for s in steps {
            match &s.data {
                StepData::Listed { .. } => {}
                StepData::Meeting { attendees, agreed } => {
                    p.meeting = Some(Meeting {
                        date: s.date,
                        attendees: *attendees,
                        agreed: *agreed,
                    })
                }
                StepData::Posted { until } => p.posted_until = Some(*until),
                StepData::Complaint { text } => asked.push(OpenComplaint {
                    step_id: s.id.clone(),
                    text: text.clone(),
                    answer_by: s.date + chrono::Duration::days(COMPLAINT_DAYS),
                }),
                StepData::Answer { complaint, .. } => {
                    answered.insert(complaint.clone());
                }
                StepData::Left { .. } => {}
                StepData::Decision {
                    number,
                    approved,
                    from,
                    to,
                    corrects,
                } => match (&p.decision, corrects) {
                    (None, None) => {
                        p.decision = Some(Decided {
                            date: s.date,
                            number: number.clone(),
                            approved: *approved,
                            step_id: s.id.clone(),
                            before: *from,
                            to: *to,
                            corrects: None,
                        })
                    }
                    // A correction replaces the decision in force it names, and only that.
                    (Some(d), Some(c)) if &d.step_id == c => {
                        p.decision = Some(Decided {
                            date: s.date,
                            number: number.clone(),
                            approved: *approved,
                            step_id: s.id.clone(),
                            before: d.before,
                            to: *to,
                            corrects: Some(d.number.clone()),
                        })
                    }
                    _ => {}
                },
            }
        }
        p.complaints = asked.len() as u32;
        p.unanswered = asked
            .into_iter()
            .filter(|c| !answered.contains(&c.step_id))
            .collect();
        p
    }

    /// Why `step` cannot come, by its date, after the steps this progress was read from:
    /// the law's order is review, village meeting, posting, (complaints and answers), and
    /// the commune's decision only once the posting period has run to its last day.
    pub fn out_of_order(&self, step: &ReviewStep) -> Option<Text> {
        let fmt = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
        match (&step.data, self.meeting) {
            (StepData::Posted { .. }, None) => Some(Text::new(
                "Chưa họp dân thôn: niêm yết kết quả sau cuộc họp.",
                "The village meeting has not been held: the result is posted after it.",
            )),
            (StepData::Posted { .. } | StepData::Decision { .. }, Some(m))
                if step.date < m.date =>
            {
                Some(Text::new(
                    format!("Ngày này trước cuộc họp dân thôn ({}).", fmt(m.date)),
                    format!("This date is before the village meeting ({}).", fmt(m.date)),
                ))
            }
            (StepData::Decision { .. }, _) => match self.posted_until {
                Some(until) if step.date < until => Some(Text::new(
                    format!(
                        "Kết quả còn niêm yết đến {}: xã quyết định sau khi hết thời gian niêm yết.",
                        fmt(until)
                    ),
                    format!(
                        "The result is posted until {}: the commune decides once the posting has ended.",
                        fmt(until)
                    ),
                )),
                _ => None,
            },
            _ => None,
        }
    }

    /// Why the commune cannot decide yet, if it cannot.
    pub fn blocks_decision(&self) -> Option<Text> {
        match self.meeting {
            None => Some(Text::new(
                "Chưa họp dân thôn về kết quả này.",
                "The village meeting has not been held.",
            )),
            Some(m) if !m.valid() => Some(Text::new(
                format!(
                    "Họp thôn chỉ {}/{} người đồng ý (dưới 50%): kết quả không hợp lệ.",
                    m.agreed, m.attendees
                ),
                format!(
                    "Only {} of {} agreed at the village meeting (below 50%): the result is not valid.",
                    m.agreed, m.attendees
                ),
            )),
            _ if self.posted_until.is_none() => Some(Text::new(
                "Kết quả chưa được niêm yết công khai.",
                "The result has not been posted.",
            )),
            _ if !self.unanswered.is_empty() => Some(Text::new(
                format!("Còn {} khiếu nại chưa trả lời.", self.unanswered.len()),
                format!("{} complaint(s) not yet answered.", self.unanswered.len()),
            )),
            _ if self.decision.is_some() => Some(Text::new(
                "Lần rà soát này đã có quyết định.",
                "This review has been decided already.",
            )),
            _ => None,
        }
    }
}

impl Progress {
    /// Why `step`, a decision correcting the decision `corrects`, cannot be recorded on
    /// this review: only the decision in force is corrected, by a later decision of another
    /// number.
    pub fn blocks_correction(&self, step: &ReviewStep, corrects: &str) -> Option<Text> {
        let Some(d) = &self.decision else {
            return Some(Text::new(
                "Lần rà soát này chưa có quyết định để sửa.",
                "This review has no decision to correct.",
            ));
        };
        let fmt = |d: NaiveDate| d.format("%d/%m/%Y").to_string();
        let StepData::Decision { number, .. } = &step.data else {
            return None;
        };
        if d.step_id != corrects {
            Some(Text::new(
                format!(
                    "Chỉ sửa được quyết định đang có hiệu lực của lần rà soát này (số {}).",
                    d.number
                ),
                format!(
                    "Only the review's decision in force (no. {}) can be corrected.",
                    d.number
                ),
            ))
        } else if number.trim() == d.number.trim() {
            Some(Text::new(
                "Quyết định sửa phải có số mới, khác số quyết định được sửa.",
                "A correcting decision needs a number of its own.",
            ))
        } else if (step.date, &step.id) <= (d.date, &d.step_id) {
            Some(Text::new(
                format!(
                    "Quyết định sửa phải sau quyết định được sửa ({}).",
                    fmt(d.date)
                ),
                format!(
                    "A correcting decision comes after the one it corrects ({}).",
                    fmt(d.date)
                ),
            ))
        } else {
            None
        }
    }
}

/// The official status a decision gives a household that had `from`, on a review that
/// classified it `classification`: its result when approved, else `from`.
pub fn decided_status(
    from: HouseholdStatus,
    classification: Classification,
    approved: bool,
) -> HouseholdStatus {
    if approved {
        from.after_review(classification)
    } else {
        from
    }
}

/// What a correcting decision sets right: the decision it names, and the review's first
/// decision (its date and the status before it), from which the correction decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Corrects {
    pub step_id: String,
    pub number: String,
    pub first_date: NaiveDate,
    pub before: HouseholdStatus,
}

impl Corrects {
    /// What the correcting decision `step` (one of `steps`, a household's) sets right, or
    /// `None` when it is not a correction (or names no decision of its review).
    pub fn of(step: &ReviewStep, steps: &[&ReviewStep]) -> Option<Corrects> {
        let StepData::Decision {
            corrects: Some(id), ..
        } = &step.data
        else {
            return None;
        };
        let review = step.review_id.as_deref()?;
        let number = steps.iter().find_map(|o| match &o.data {
            StepData::Decision { number, .. } if &o.id == id => Some(number.clone()),
            _ => None,
        })?;
        // The review's first decision, as `Progress::of` reads it.
        let first = steps
            .iter()
            .filter(|o| o.review_id.as_deref() == Some(review))
            .filter_map(|o| match &o.data {
                StepData::Decision {
                    from,
                    corrects: None,
                    ..
                } => Some((o.date, &o.id, *from)),
                _ => None,
            })
            .min_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)))?;
        Some(Corrects {
            step_id: id.clone(),
            number,
            first_date: first.0,
            before: first.2,
        })
    }
}

/// A change of official status by a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusChange {
    pub date: NaiveDate,
    pub from: HouseholdStatus,
    pub to: HouseholdStatus,
    /// Set when the change is a correcting decision's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<Corrects>,
}

impl StatusChange {
    /// Each household's status changes among `steps` (of any households, any kind), by
    /// household id, oldest first.
    pub fn by_household<'a>(
        steps: impl IntoIterator<Item = &'a ReviewStep>,
    ) -> std::collections::BTreeMap<String, Vec<StatusChange>> {
        let mut by: std::collections::BTreeMap<String, Vec<&ReviewStep>> = Default::default();
        for s in steps {
            by.entry(s.household_id.clone()).or_default().push(s);
        }
        by.into_iter()
            .map(|(id, own)| (id, StatusChange::from_steps(own)))
            .collect()
    }

    /// The decisions that changed the status among a household's steps, oldest first.
    pub fn from_steps<'a>(steps: impl IntoIterator<Item = &'a ReviewStep>) -> Vec<StatusChange> {
        let own: Vec<&ReviewStep> = steps.into_iter().collect();
        let mut v: Vec<(NaiveDate, &str, StatusChange)> = own
            .iter()
            .filter_map(|s| match &s.data {
                StepData::Decision { from, to, .. } if from != to => Some((
                    s.date,
                    s.id.as_str(),
                    StatusChange {
                        date: s.date,
                        from: *from,
                        to: *to,
                        corrects: Corrects::of(s, &own),
                    },
                )),
                _ => None,
            })
            .collect();
        v.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        v.into_iter().map(|(_, _, c)| c).collect()
    }

    /// The changes as if each correcting decision had been the decision it sets right:
    /// the review's change is dated by its first decision and goes from the status before
    /// it to the corrected one (none when the correction gives that status back). The
    /// household's trajectory is read from these; the reports count the changes as
    /// dated, so a period already reported stays as it was.
    pub fn effective(changes: &[StatusChange]) -> Vec<StatusChange> {
        let mut out: Vec<StatusChange> = Vec::with_capacity(changes.len());
        for c in changes {
            match &c.corrects {
                None => out.push(c.clone()),
                Some(k) => {
                    // The review's change in force, when it moved the household, is the
                    // last one: a correction only ever corrects the latest decision.
                    if out.last().is_some_and(|l| {
                        l.date == k.first_date && l.from == k.before && l.to == c.from
                    }) {
                        out.pop();
                    }
                    if k.before != c.to {
                        out.push(StatusChange {
                            date: k.first_date,
                            from: k.before,
                            to: c.to,
                            corrects: None,
                        });
                    }
                }
            }
        }
        out
    }
}

fn listed(s: HouseholdStatus) -> bool {
    matches!(s, HouseholdStatus::Poor | HouseholdStatus::NearPoor)
}

/// A household's path through the lists, from its decisions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Trajectory {
    /// The last time it left poverty.
    pub escaped_on: Option<NaiveDate>,
    /// The end of the 36-month window after `escaped_on`.
    pub window_until: Option<NaiveDate>,
    /// Poor again after having escaped (tái nghèo).
    pub fell_back_on: Option<NaiveDate>,
    /// The last time it left the near-poor list for neither list.
    pub left_near_poor_on: Option<NaiveDate>,
    /// Times it entered the poor or near-poor lists from outside them.
    pub entries: u32,
    /// Times it left both lists.
    pub exits: u32,
}

impl Trajectory {
    /// The path of a household whose decisions are `changes` (corrections set right the
    /// decisions they name, as if those had been made so).
    pub fn of(changes: &[StatusChange]) -> Trajectory {
        let mut t = Trajectory::default();
        let mut escaped = false;
        for c in &StatusChange::effective(changes) {
            if c.from == HouseholdStatus::Poor && c.to != HouseholdStatus::Poor {
                escaped = true;
                t.escaped_on = Some(c.date);
                t.window_until = c.date.checked_add_months(Months::new(WINDOW_MONTHS));
            }
            if c.to == HouseholdStatus::Poor && c.from != HouseholdStatus::Poor && escaped {
                t.fell_back_on = Some(c.date);
            }
            if c.from == HouseholdStatus::NearPoor && !listed(c.to) {
                t.left_near_poor_on = Some(c.date);
            }
            if listed(c.to) && !listed(c.from) {
                t.entries += 1;
            }
            if listed(c.from) && !listed(c.to) {
                t.exits += 1;
            }
        }
        t
    }

    /// Still within 36 months of escaping (and not poor again since).
    pub fn in_window(&self, today: NaiveDate) -> bool {
        match (self.escaped_on, self.window_until) {
            (Some(on), Some(until)) => today < until && self.fell_back_on.is_none_or(|f| f < on),
            _ => false,
        }
    }

    /// Poor again after escaping, and not escaped since.
    pub fn fell_back(&self) -> bool {
        match (self.fell_back_on, self.escaped_on) {
            (Some(f), Some(e)) => f >= e,
            _ => false,
        }
    }

    /// In and out of the lists more than once: the rotation the programme must avoid.
    pub fn rotating(&self) -> bool {
        self.entries >= 2 || self.exits >= 2
    }
}

/// The flags a commune watches, each with its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    InWindow,
    FellBack,
    Rotating,
    LeftNearPoor,
}

impl Flag {
    pub const ALL: [Flag; 4] = [
        Flag::InWindow,
        Flag::FellBack,
        Flag::Rotating,
        Flag::LeftNearPoor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::InWindow => "in_window",
            Flag::FellBack => "fell_back",
            Flag::Rotating => "rotating",
            Flag::LeftNearPoor => "left_near_poor",
        }
    }

    pub fn parse(s: &str) -> Option<Flag> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn label(self) -> Text {
        match self {
            Flag::InWindow => Text::new(
                "Mới thoát nghèo, trong 36 tháng hưởng chính sách",
                "Newly escaped, within the 36-month window",
            ),
            Flag::FellBack => Text::new("Tái nghèo", "Fell back into poverty"),
            Flag::Rotating => Text::new(
                "Ra vào danh sách nhiều lần",
                "In and out of the lists repeatedly",
            ),
            Flag::LeftNearPoor => Text::new("Thoát cận nghèo", "Left the near-poor list"),
        }
    }

    pub fn holds(self, t: &Trajectory, today: NaiveDate) -> bool {
        match self {
            Flag::InWindow => t.in_window(today),
            Flag::FellBack => t.fell_back(),
            Flag::Rotating => t.rotating(),
            Flag::LeftNearPoor => t.left_near_poor_on.is_some(),
        }
    }
}

/// The policies a newly escaped household keeps for 36 months.
pub fn policies_owed() -> Vec<Text> {
    vec![
        Text::new(
            "Hỗ trợ 70% mệnh giá thẻ bảo hiểm y tế",
            "70% of the health insurance card paid",
        ),
        Text::new(
            "Vay vốn hộ mới thoát nghèo (Ngân hàng Chính sách xã hội)",
            "Loans for newly escaped households (Social Policy Bank)",
        ),
        Text::new(
            "Miễn, giảm học phí cho con em",
            "Tuition exemption or reduction for the children",
        ),
    ]
}

#[cfg(test)]
mod tests;
