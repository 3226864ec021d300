//! Storage: the `Store` the API uses, one trait per concern (register, sessions, audit,
//! read model, refused changes; the household documents apart in `docs`), with one SQL
//! implementation for SQLite and PostgreSQL (`sql`). Every write records its audit event in
//! the same transaction, so nothing is acknowledged that is not durable and audited.

pub mod docs;
mod sql;

pub use docs::Docs;
pub use sql::{PostgresStore, STATEMENT_BUDGET, SqliteStore};

use async_trait::async_trait;
use chrono::NaiveDate;
use serde::Serialize;
use shared::area::{Area, AreaInput};
use shared::assessment::Assessment;
use shared::assignment::Assignment;
use shared::household::{Household, HouseholdStatus, Member, MemberInput};
use shared::support::SupportAction;
use shared::target::Target;
use shared::user::{Role, User};
use shared::visit::Visit;
use std::sync::Arc;

/// Who is writing, for the audit trail.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Actor {
    pub user_id: Option<String>,
    pub device_id: Option<String>,
}

impl Actor {
    pub fn system() -> Self {
        Self::default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique key is already taken (e.g. a household code or a username).
    #[error("already exists: {0}")]
    Duplicate(String),
    /// The document changed since it was loaded (`DocWrite::expected_seq` is stale):
    /// load it again and retry.
    #[error("document changed meanwhile")]
    Stale,
    /// A record id of the write is already held by another household.
    #[error("record {0} belongs to another household")]
    Ownership(String),
    /// An automerge actor id of the write was first used by another device.
    #[error("actor {0} belongs to another device")]
    ActorTaken(String),
    /// A referenced record does not exist.
    #[error("unknown reference: {0}")]
    BadReference(String),
    /// The write would leave no active administrator, and nobody could manage users again.
    #[error("the last active administrator")]
    LastAdministrator,
    /// A stored value could not be read back (a bug or a hand-edited database).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(sqlx::Error),
    /// From the documents' own SQLite connections (`docs::SqliteDocs`).
    #[error(transparent)]
    Sqlite(rusqlite::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(d) if d.is_unique_violation() => {
                StoreError::Duplicate(d.message().to_string())
            }
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                StoreError::BadReference(d.message().to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Undecided quarantine entries kept per device; a device that keeps pushing refused
/// changes cannot fill the disk.
pub const QUARANTINE_PER_DEVICE: i64 = 200;

/// A user with the secret needed to check their password.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

pub use shared::api::Session;

/// How long after a refresh its old token may be presented again, once, when the answer
/// never reached the phone (coverage gone mid-request; the phone retries at once). Any
/// other use of a spent token revokes the session.
pub const REFRESH_RETRY_GRACE_MS: i64 = 5 * 60 * 1000;

/// When failed sign-ins lock a username: after `free` consecutive failures, for `base_ms`,
/// doubling with each further failure up to `max_ms`.
#[derive(Debug, Clone, Copy)]
pub struct SignInPolicy {
    pub free: i64,
    pub base_ms: i64,
    pub max_ms: i64,
}

impl Default for SignInPolicy {
    fn default() -> Self {
        SignInPolicy {
            free: 5,
            base_ms: 30_000,
            max_ms: 3_600_000,
        }
    }
}

impl SignInPolicy {
    /// Until when `failures` consecutive failures lock, counted from `now`.
    pub fn locked_until(&self, failures: i64, now: i64) -> Option<i64> {
        let over = failures - self.free;
        (over >= 0).then(|| now + (self.base_ms << over.min(20)).min(self.max_ms))
    }
}

/// A username locked by failed sign-ins, for the administrator.
#[derive(Debug, Clone, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LockedAccount {
    pub username: String,
    pub failures: i64,
    /// Milliseconds since the epoch.
    pub last_failed_at: i64,
    pub locked_until: i64,
}

/// Why a refresh token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshRefusal {
    Unknown,
    AlreadyUsed,
    Expired,
    Revoked,
    /// Revoked as lost or stolen, and the phone has not yet confirmed it erased its data.
    Erase,
    OtherDevice,
}

/// Where a read of household rows looks. A commune's rows are found by their indexed
/// commune key (migration 0015), one index range whatever the size of the province; a
/// village head's by the village.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Within {
    #[default]
    Everywhere,
    Communes(Vec<String>),
    Villages(Vec<String>),
}

impl Within {
    /// A list of villages, or everywhere when `None`.
    pub fn villages(ids: Option<Vec<String>>) -> Self {
        ids.map_or(Self::Everywhere, Self::Villages)
    }
}

/// How the reports read an area's households (`ReadModel::report_households`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterRead {
    /// Each household on its own, with its code and head's name: a report with household
    /// lines.
    Named,
    /// Figures only (a province's part): the households unmoved since this day
    /// (`shared::report::Unmoved`) counted by the database in groups, the others on their
    /// own without their names.
    Figures { unmoved_since: NaiveDate },
}

/// An area's households as the reports read them, with the periods' support and visits.
#[derive(Debug, Clone, Default)]
pub struct ReportRegister {
    pub households: Vec<shared::report::HouseholdFact>,
    pub unmoved: Vec<shared::report::Unmoved>,
    /// One for each period asked, in its order.
    pub periods: Vec<PeriodRecords>,
}

/// The support delivered and the visits of one period within an area.
#[derive(Debug, Clone, Default)]
pub struct PeriodRecords {
    /// Each support delivered: whom to, by which project, how much.
    pub delivered: Vec<shared::report::DeliveredFact>,
    /// (cadre, household, visits).
    pub visits: Vec<(String, String, i64)>,
}

/// Which households a listing returns; `None` means no restriction on that side.
#[derive(Debug, Clone, Default)]
pub struct HouseholdFilter {
    pub within: Within,
    pub household_ids: Option<Vec<String>>,
    pub status: Option<HouseholdStatus>,
    /// Matches the head's name, the code or the address.
    pub search: Option<String>,
    /// Leaves out the households that left the register (the lists and counts of the
    /// households in it); the reports and the register's own checks read them all.
    pub in_register_only: bool,
    pub limit: i64,
    pub offset: i64,
}

/// A household as a list of thousands shows it: who, where and its official status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HouseholdBrief {
    pub id: String,
    pub code: String,
    pub head_name: String,
    pub village_id: String,
    pub status: HouseholdStatus,
    /// What its visits and plan say (kept on its row with every write).
    pub followed: shared::projection::Followed,
}

#[derive(Debug, Clone, Default)]
pub struct AssignmentFilter {
    pub household_id: Option<String>,
    pub cadre_id: Option<String>,
    pub within: Within,
    /// Only assignments running on this day.
    pub active_on: Option<NaiveDate>,
}

pub use shared::api::StatusCount;

pub use shared::api::AuditEvent;

/// A household document as stored: its snapshot and later change chunks, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDoc {
    pub chunks: Vec<Vec<u8>>,
    pub heads: Vec<String>,
    pub seq: i64,
}

impl StoredDoc {
    /// The document, written to from here on as a fresh actor.
    pub fn open(
        &self,
        author: &shared::doc::Author,
    ) -> Result<shared::doc::HouseholdDoc, shared::doc::DocError> {
        let actor: [u8; 16] = rand::random();
        let first = self.chunks.first().map(Vec::as_slice).unwrap_or_default();
        let mut doc = shared::doc::HouseholdDoc::load(&actor, first, author)?;
        for c in self.chunks.iter().skip(1) {
            doc.apply(c)?;
        }
        Ok(doc)
    }

    pub fn change_heads(&self) -> Vec<automerge::ChangeHash> {
        self.heads.iter().filter_map(|h| h.parse().ok()).collect()
    }
}

/// One accepted write of a household document and everything derived from it, committed
/// together: the change log, the read model, the open conflicts and the audit event.
#[derive(Debug, Clone)]
pub struct DocWrite {
    pub doc_id: String,
    /// The document's sequence number the write was based on; `None` for a new document.
    /// A different current value means another writer came first: reload and retry.
    pub expected_seq: Option<i64>,
    /// The new changes (`save_after` the stored heads).
    pub changes: Vec<u8>,
    /// When set, the whole document, stored as the new snapshot in place of the changes.
    pub compacted: Option<Vec<u8>>,
    pub heads: Vec<String>,
    pub records: shared::projection::Records,
    pub conflicts: Vec<shared::doc::FieldConflict>,
    pub audit: serde_json::Value,
    /// The records the write touched, by collection; `None` rewrites every record.
    pub touched: Option<shared::doc::Touched>,
    /// Automerge actor ids the new changes were made by, bound to the writing device.
    pub actors: Vec<String>,
}

pub use shared::api::{ConflictRecord, QuarantineRecord};

/// A whole commune's records, written in one transaction (demo data, imports).
#[derive(Debug, Clone, Default)]
pub struct Import {
    pub areas: Vec<Area>,
    pub users: Vec<(User, String)>,
    pub households: Vec<Household>,
    pub members: Vec<Member>,
    pub assessments: Vec<Assessment>,
    pub assignments: Vec<Assignment>,
    pub visits: Vec<Visit>,
    pub support: Vec<SupportAction>,
    pub plan: Vec<shared::plan::PlanItem>,
    pub review_steps: Vec<shared::review::ReviewStep>,
    pub targets: Vec<Target>,
    pub docs: Vec<ImportedDoc>,
}

/// A household document written whole, with its heads.
#[derive(Debug, Clone)]
pub struct ImportedDoc {
    pub household_id: String,
    pub bytes: Vec<u8>,
    pub heads: Vec<String>,
}

/// Areas, users, assignments and targets: the commune officer's register.
#[async_trait]
pub trait Register: Send + Sync {
    // Areas
    async fn list_areas(&self) -> StoreResult<Vec<Area>>;
    async fn get_area(&self, id: &str) -> StoreResult<Area>;
    /// The area and its ancestors, itself first.
    async fn area_path(&self, id: &str) -> StoreResult<Vec<String>>;
    /// Ids of the villages in the tree under `id` (itself included when it is a village).
    async fn villages_under(&self, id: &str) -> StoreResult<Vec<String>>;
    /// The area and every area under it, ordered by code (a commune's screens name its
    /// villages without reading the province's areas).
    async fn areas_under(&self, id: &str) -> StoreResult<Vec<Area>>;
    /// The communes in the tree under `id` (itself when it is one), ordered by code; their
    /// villages are not read (a province's overview lists a hundred communes, not the
    /// province's six thousand areas).
    async fn communes_under(&self, id: &str) -> StoreResult<Vec<Area>>;
    /// The area `id` as a place to read household rows: a commune (or an area of
    /// communes) by its commune key, a village by itself.
    async fn within(&self, id: &str) -> StoreResult<Within>;
    async fn create_area(&self, actor: &Actor, input: &AreaInput) -> StoreResult<Area>;
    async fn update_area(&self, actor: &Actor, id: &str, input: &AreaInput) -> StoreResult<Area>;

    // Users
    async fn count_users(&self) -> StoreResult<i64>;
    async fn credentials(&self, username: &str) -> StoreResult<Credentials>;
    async fn get_user(&self, id: &str) -> StoreResult<User>;
    async fn list_users(&self, area_ids: Option<&[String]>) -> StoreResult<Vec<User>>;
    /// The full names of these users, by id (those that exist).
    async fn user_names(
        &self,
        ids: &[String],
    ) -> StoreResult<std::collections::BTreeMap<String, String>> {
        Ok(self
            .user_labels(ids)
            .await?
            .into_iter()
            .map(|(id, (name, _))| (id, name))
            .collect())
    }
    /// The full names and areas of these users, by id (those that exist).
    async fn user_labels(
        &self,
        ids: &[String],
    ) -> StoreResult<std::collections::BTreeMap<String, (String, String)>>;
    async fn create_user(
        &self,
        actor: &Actor,
        user: &User,
        password_hash: &str,
    ) -> StoreResult<User>;
    async fn update_user(
        &self,
        actor: &Actor,
        user: &User,
        password_hash: Option<&str>,
    ) -> StoreResult<User>;
    // Accompaniment
    async fn list_assignments(&self, filter: &AssignmentFilter) -> StoreResult<Vec<Assignment>>;
    async fn get_assignment(&self, id: &str) -> StoreResult<Assignment>;
    async fn create_assignment(&self, actor: &Actor, a: &Assignment) -> StoreResult<Assignment>;
    async fn end_assignment(
        &self,
        actor: &Actor,
        id: &str,
        to_date: NaiveDate,
    ) -> StoreResult<Assignment>;
    /// Ends running assignments (id, last day) and creates new ones in one transaction:
    /// a bulk assignment or reassignment lands whole or not at all.
    async fn change_assignments(
        &self,
        actor: &Actor,
        ends: &[(String, NaiveDate)],
        creates: &[Assignment],
    ) -> StoreResult<()>;
    // Targets and figures
    async fn list_targets(&self, area_ids: &[String]) -> StoreResult<Vec<Target>>;
    async fn put_target(&self, actor: &Actor, t: &Target) -> StoreResult<Target>;
}

/// Signed-in devices' sessions and failed sign-ins.
#[async_trait]
pub trait Sessions: Send + Sync {
    /// Opens a session on a device with its first refresh token.
    async fn create_session(
        &self,
        user_id: &str,
        device_id: &str,
        token_hash: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<Session>;
    /// Names a session's device (at sign-in, or when the person renames it).
    async fn name_device(&self, session_id: &str, name: &str) -> StoreResult<()>;
    /// Uses a refresh token once and stores its successor, atomically. A token already
    /// used is taken again only once, as the retry of a refresh whose answer was lost:
    /// within `REFRESH_RETRY_GRACE_MS` of its use and while the token that use issued was
    /// never presented; that token is then retired. Any other reuse revokes the session.
    async fn rotate_refresh(
        &self,
        old_hash: &str,
        device_id: &str,
        new_hash: &str,
        new_expires_at: i64,
        now: i64,
    ) -> StoreResult<Result<Session, RefreshRefusal>>;
    async fn get_session(&self, id: &str) -> StoreResult<Session>;
    /// A session with its user, in one query (every signed-in request asks).
    async fn session_user(&self, session_id: &str) -> StoreResult<(Session, User)>;
    async fn list_sessions(&self, user_id: &str) -> StoreResult<Vec<Session>>;
    /// Revokes every session of the user on the device; returns how many. `kind` is what
    /// the phone is asked to do (`None`: the person signed out themselves). Erasing also
    /// applies to sessions already signed out and not yet erased.
    async fn revoke_device(
        &self,
        actor: &Actor,
        user_id: &str,
        device_id: &str,
        kind: Option<shared::api::RevokeKind>,
        now: i64,
    ) -> StoreResult<u64>;

    /// Records a phone's confirmation that it erased the data of the session whose
    /// refresh token hashes to `token_hash` (any token the session was issued); only a
    /// session revoked for erasing, of that device. Returns whether one was recorded.
    async fn confirm_erased(
        &self,
        token_hash: &str,
        device_id: &str,
        unsent: u32,
        now: i64,
    ) -> StoreResult<bool>;

    /// Notes a session's sync: when, and the unsent count its phone reported.
    async fn device_seen(&self, session_id: &str, unsent: Option<u32>, now: i64)
    -> StoreResult<()>;

    /// Revokes every session of the user except `keep` (a password or role change).
    async fn revoke_sessions(
        &self,
        actor: &Actor,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
    ) -> StoreResult<u64>;

    // Sign-in failures
    /// Until when `username` is locked (milliseconds), if it is.
    async fn sign_in_lock(&self, username: &str, now: i64) -> StoreResult<Option<i64>>;
    /// Counts a failed sign-in (audited, with the client's address) and locks the username
    /// by `policy`; returns until when it is locked, if it now is.
    async fn sign_in_failed(
        &self,
        username: &str,
        address: &str,
        policy: &SignInPolicy,
        now: i64,
    ) -> StoreResult<Option<i64>>;
    /// Forgets the failures of `username` (a successful sign-in, a password set).
    async fn sign_in_cleared(&self, username: &str) -> StoreResult<()>;
    /// Usernames locked at `now`.
    async fn locked_accounts(&self, now: i64) -> StoreResult<Vec<LockedAccount>>;
}

/// The audit trail.
#[async_trait]
pub trait Audit: Send + Sync {
    /// An audit event of its own (refused refreshes).
    async fn record_event(
        &self,
        actor: &Actor,
        action: &str,
        entity: &str,
        entity_id: &str,
        details: serde_json::Value,
    ) -> StoreResult<()>;

    async fn list_audit(&self, entity_id: Option<&str>, limit: i64)
    -> StoreResult<Vec<AuditEvent>>;
}

/// The rows projected from household documents and the queries of lists and reports.
#[async_trait]
pub trait ReadModel: Send + Sync {
    // Households and members
    async fn list_households(&self, filter: &HouseholdFilter) -> StoreResult<Vec<Household>>;
    /// As `list_households`, each household as lists show it (nothing else to decode).
    async fn list_briefs(&self, filter: &HouseholdFilter) -> StoreResult<Vec<HouseholdBrief>>;
    async fn get_household(&self, id: &str) -> StoreResult<Household>;
    async fn list_members(&self, household_id: &str) -> StoreResult<Vec<Member>>;
    /// The members of these households (the console's search by member name or ID number).
    async fn list_members_of(&self, household_ids: &[String]) -> StoreResult<Vec<Member>>;
    async fn get_member(&self, id: &str) -> StoreResult<Member>;

    // Reviews
    async fn list_assessments(&self, household_id: &str) -> StoreResult<Vec<Assessment>>;

    async fn list_visits(&self, household_id: &str) -> StoreResult<Vec<Visit>>;

    // Support
    async fn list_support(&self, household_id: &str) -> StoreResult<Vec<SupportAction>>;
    /// The support actions of many households (a commune's), by planned date.
    async fn list_support_of(&self, household_ids: &[String]) -> StoreResult<Vec<SupportAction>>;
    /// A household's review steps, oldest first.
    async fn list_review_steps(
        &self,
        household_id: &str,
    ) -> StoreResult<Vec<shared::review::ReviewStep>>;
    /// The ledger's movements (`shared::ledger`) of households within an area, oldest first.
    async fn movements_in(&self, within: &Within) -> StoreResult<Vec<shared::ledger::Movement>>;
    /// Every household within an area as the reports count it (`shared::report`), each
    /// with its village as its row: only the columns the reports read, with its movements;
    /// and for each of `periods` (`from..=to`, in their order) the support delivered and
    /// the visits, as `delivered_in` and `visits_in` read them — all from one snapshot of
    /// the database, so a report's support and visits are of the households it counts.
    async fn report_households(
        &self,
        within: &Within,
        read: RegisterRead,
        periods: &[(NaiveDate, NaiveDate)],
    ) -> StoreResult<ReportRegister>;
    /// The user and device each of these automerge actors is bound to (a device's changes
    /// are bound at their first write; the server's own changes are bound to none).
    async fn actor_devices(
        &self,
        actors: &[String],
    ) -> StoreResult<std::collections::BTreeMap<String, (String, String)>>;
    /// A household's movements, oldest first.
    async fn list_movements(
        &self,
        household_id: &str,
    ) -> StoreResult<Vec<shared::ledger::Movement>>;
    /// Review steps of households within an area, of one kind or all, dated `from` or
    /// later when given, oldest first.
    async fn review_steps_in(
        &self,
        within: &Within,
        kind: Option<&str>,
        from: Option<NaiveDate>,
    ) -> StoreResult<Vec<shared::review::ReviewStep>>;
    /// Reviews dated `from..=to` of households within an area.
    async fn assessments_in(
        &self,
        within: &Within,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Assessment>>;
    /// Support delivered `from..=to` to households within an area.
    async fn delivered_in(
        &self,
        within: &Within,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<SupportAction>>;
    /// Visits dated `from..=to` to households within an area, counted by cadre and
    /// household: (cadre, household, visits).
    async fn visits_in(
        &self,
        within: &Within,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<(String, String, i64)>>;
    async fn get_support(&self, id: &str) -> StoreResult<SupportAction>;

    /// Households by village and status within an area (kept counts, migration 0012).
    async fn status_counts(&self, within: &Within) -> StoreResult<Vec<StatusCount>>;
    /// Households by commune and status: the kept counts of each commune's villages,
    /// summed by the database (a province's overview reads a hundred communes' rows, not
    /// their thousands of villages').
    async fn commune_status_counts(
        &self,
        communes: &[String],
    ) -> StoreResult<Vec<(String, HouseholdStatus, i64)>>;
}

/// Changes the write core refused (quarantine) and fields left in conflict.
#[async_trait]
pub trait Refused: Send + Sync {
    /// Keeps refused changes for the commune officer; `false` when the device already has
    /// `QUARANTINE_PER_DEVICE` entries waiting and nothing more is kept.
    async fn quarantine(
        &self,
        actor: &Actor,
        doc_id: &str,
        code: &str,
        reason: &str,
        bytes: &[u8],
    ) -> StoreResult<bool>;
    async fn list_quarantine(&self, doc_ids: &[String]) -> StoreResult<Vec<QuarantineRecord>>;
    /// One quarantine entry with the refused changes.
    async fn quarantined(&self, id: &str) -> StoreResult<(QuarantineRecord, Vec<u8>)>;
    /// Records a commune officer's decision (`accepted` or `rejected`) on an undecided
    /// entry, audited; `Duplicate` when it was already decided.
    async fn decide_quarantine(&self, actor: &Actor, id: &str, decision: &str) -> StoreResult<()>;
    async fn list_conflicts(
        &self,
        doc_ids: Option<&[String]>,
        open_only: bool,
    ) -> StoreResult<Vec<ConflictRecord>>;
    async fn get_conflict(&self, id: &str) -> StoreResult<ConflictRecord>;
    /// Keeps the value an officer decided for a conflict, by whom and when (the document
    /// holds the decision itself; this is what the queue shows afterwards).
    async fn record_decision(
        &self,
        id: &str,
        value: &serde_json::Value,
        by: &str,
        at: i64,
    ) -> StoreResult<()>;
}

/// A commune's report figures for one period, kept for its province's report (migration
/// 0013): valid while no household document of the commune was written after `built_seq`
/// and the reports' epoch is still `epoch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportPart {
    pub area_id: String,
    pub built_seq: i64,
    pub epoch: i64,
    /// The commune's `shared::report::Report` without its rows and household lines, as JSON.
    pub part: String,
}

/// The kept report parts of communes and what tells whether one is still current.
#[async_trait]
pub trait ReportParts: Send + Sync {
    /// The last committed household document's sequence number and the reports' epoch,
    /// read before a part is built from the register.
    async fn report_clock(&self) -> StoreResult<(i64, i64)>;
    /// The parts kept of `area_ids` for one period.
    async fn report_parts(
        &self,
        area_ids: &[String],
        year: i32,
        period: &str,
    ) -> StoreResult<Vec<ReportPart>>;
    /// Keeps parts, each of (year, period), in one transaction (replacing one built from an
    /// older state, never a newer one).
    async fn put_report_parts(&self, parts: &[(i32, &str, ReportPart)]) -> StoreResult<()>;
    /// The villages whose households' documents were written after `seq`, with the last
    /// sequence number written in each.
    async fn villages_written_since(&self, seq: i64) -> StoreResult<Vec<(String, i64)>>;
    /// Moves the stamp of `area_ids`' parts of `epoch` forward to `seq` once they were found
    /// current at `seq` (nothing of their communes written since their stamp), so the next
    /// report's check reads only the writes after this one.
    async fn confirm_report_parts(
        &self,
        area_ids: &[String],
        year: i32,
        period: &str,
        epoch: i64,
        seq: i64,
    ) -> StoreResult<()>;
    /// Makes every kept part stale (after the read model was rewritten outside the
    /// documents' sequence).
    async fn forget_report_parts(&self) -> StoreResult<()>;
    /// Takes or renews the report keeper's lease for `holder` until `until_ms`, if no
    /// other holder's lease runs past `now_ms`: whether `holder` now holds it.
    async fn take_keeper_lease(
        &self,
        holder: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> StoreResult<bool>;
}

/// Everything the server keeps, by concern (a `dyn Store` answers every concern's methods).
#[async_trait]
pub trait Store: Register + Sessions + Audit + ReadModel + Refused + ReportParts + 'static {
    /// `sqlite` or `postgres`, for logs and test names.
    fn backend(&self) -> &'static str;
    /// The household documents, written only by the write core.
    fn docs(&self) -> &dyn Docs;
    /// Writes a whole commune in one transaction. A bulk load changes the tables'
    /// statistics at once: the caller gathers them again (`analyze`) when its load is done.
    async fn import(&self, actor: &Actor, data: &Import) -> StoreResult<()>;
    /// Gathers the tables' statistics for the query planner after a bulk load (and, on
    /// PostgreSQL, marks its pages visible to all, for the reports' index-only reads).
    async fn analyze(&self) -> StoreResult<()>;
    /// The connection pool: connections in use and idle.
    fn pool_use(&self) -> (u32, usize);
    /// Changes waiting in quarantine and conflicts open, for the officer's queues.
    async fn queue_sizes(&self) -> StoreResult<(i64, i64)>;
}

pub type DynStore = Arc<dyn Store>;

/// Opens the database named by `url` (`sqlite://…` or `postgres://…`) and migrates it.
pub async fn connect(url: &str) -> StoreResult<DynStore> {
    connect_with_budget(url, STATEMENT_BUDGET).await
}

/// How long a command-line batch job's statements may run (the demo of a province, a
/// rebuild of the read model): an administrator's job, not a request.
pub const BATCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(3600);

/// As `connect`, with `budget` for each statement (see `STATEMENT_BUDGET`).
pub async fn connect_with_budget(url: &str, budget: std::time::Duration) -> StoreResult<DynStore> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            PostgresStore::connect_with_budget(url, budget).await?,
        ))
    } else {
        Ok(Arc::new(
            SqliteStore::connect_with_budget(url, budget).await?,
        ))
    }
}

/// Whether a role value read from the database is known.
pub(crate) fn parse_role(s: &str) -> StoreResult<Role> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("role {s}")))
}
