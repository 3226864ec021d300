//! Sessions of signed-in devices, their refresh tokens, and failed sign-ins.

use super::register::UserRow;
use super::*;
use shared::api::RevokeKind;
use sqlx::Row;

const SESSION_COLS: &str = "id, user_id, device_id, created_at, last_seen_at, revoked_at, revoke_kind, erased_at, unsent, device_name";

/// How long this process answers a session's lookup from memory. Every signed-in request
/// looks its session up (one query, a tenth of the server's work in a push storm).
/// Revoking a session or changing a user in this process forgets every kept session at
/// once; a change made by another process sharing the database is seen within this time.
const SESSION_KEPT: std::time::Duration = std::time::Duration::from_secs(5);

/// Sessions with their users, as recently read.
pub(super) struct KeptSessions {
    kept: std::sync::Mutex<Kept>,
}

struct Kept {
    /// Bumped by every change that may make a kept session wrong: a lookup that began
    /// before it is not kept.
    generation: u64,
    sessions: lru::LruCache<String, (std::time::Instant, Session, User)>,
}

impl KeptSessions {
    pub fn new() -> Self {
        KeptSessions {
            kept: std::sync::Mutex::new(Kept {
                generation: 0,
                sessions: lru::LruCache::new(std::num::NonZeroUsize::new(4096).expect("non-zero")),
            }),
        }
    }

    /// A session read within `SESSION_KEPT`, or the generation to keep a fresh read under.
    fn get(&self, id: &str) -> Result<(Session, User), u64> {
        let mut k = self.kept.lock().expect("not poisoned");
        match k.sessions.get(id) {
            Some((at, session, user)) if at.elapsed() < SESSION_KEPT => {
                Ok((session.clone(), user.clone()))
            }
            _ => Err(k.generation),
        }
    }

    fn keep(&self, generation: u64, session: &Session, user: &User) {
        let mut k = self.kept.lock().expect("not poisoned");
        if k.generation == generation {
            let entry = (std::time::Instant::now(), session.clone(), user.clone());
            k.sessions.put(session.id.clone(), entry);
        }
    }

    /// Updates a kept session's sighting, so the next requests within `SESSION_KEPT` see
    /// it written and do not write it again.
    fn seen(&self, id: &str, now: i64, unsent: Option<u32>) {
        let mut k = self.kept.lock().expect("not poisoned");
        if let Some((_, session, _)) = k.sessions.peek_mut(id) {
            session.last_seen_at = now;
            if let Some(n) = unsent {
                session.unsent = i64::from(n);
            }
        }
    }

    /// Forgets every kept session (a session revoked, a user changed).
    pub fn forget(&self) {
        let mut k = self.kept.lock().expect("not poisoned");
        k.generation += 1;
        k.sessions.clear();
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    user_id: String,
    device_id: String,
    created_at: i64,
    last_seen_at: i64,
    revoked_at: Option<i64>,
    revoke_kind: Option<String>,
    erased_at: Option<i64>,
    unsent: i64,
    device_name: String,
}

impl From<SessionRow> for Session {
    fn from(r: SessionRow) -> Self {
        Session {
            id: r.id,
            user_id: r.user_id,
            device_id: r.device_id,
            created_at: r.created_at,
            last_seen_at: r.last_seen_at,
            revoked_at: r.revoked_at,
            revoke_kind: r.revoke_kind.as_deref().and_then(RevokeKind::parse),
            erased_at: r.erased_at,
            unsent: r.unsent,
            device_name: r.device_name,
        }
    }
}

#[async_trait]
impl<DB: Backend> Sessions for SqlStore<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    String: Column<DB>,
    Option<String>: Column<DB>,
    i64: Column<DB>,
    Option<i64>: Column<DB>,
    bool: Column<DB>,
    Vec<u8>: Column<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    usize: ColumnIndex<DB::Row>,
    for<'s> &'s str: ColumnIndex<DB::Row>,
{
    async fn create_session(
        &self,
        user_id: &str,
        device_id: &str,
        token_hash: &str,
        expires_at: i64,
        now: i64,
    ) -> StoreResult<Session> {
        let session = Session {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user_id.to_string(),
            device_id: device_id.to_string(),
            created_at: now,
            last_seen_at: now,
            revoked_at: None,
            revoke_kind: None,
            erased_at: None,
            unsent: 0,
            device_name: String::new(),
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (id, user_id, device_id, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $4)",
        )
        .bind(session.id.clone())
        .bind(session.user_id.clone())
        .bind(session.device_id.clone())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash.to_string())
        .bind(session.id.clone())
        .bind(expires_at)
        .execute(&mut *tx)
        .await?;
        let actor = Actor {
            user_id: Some(user_id.to_string()),
            device_id: Some(device_id.to_string()),
        };
        insert_audit(
            &mut tx,
            &actor,
            "login",
            "session",
            &session.id,
            serde_json::json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(session)
    }

    async fn rotate_refresh(
        &self,
        old_hash: &str,
        device_id: &str,
        new_hash: &str,
        new_expires_at: i64,
        now: i64,
    ) -> StoreResult<Result<Session, RefreshRefusal>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "SELECT t.session_id, t.expires_at, t.used_at, t.replaced_by, s.device_id, s.revoked_at, \
             s.revoke_kind, s.erased_at \
             FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1",
        )
        .bind(old_hash.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Err(RefreshRefusal::Unknown));
        };
        let session_id: String = row.try_get("session_id")?;
        let expires_at: i64 = row.try_get("expires_at")?;
        let used_at: Option<i64> = row.try_get("used_at")?;
        let replaced_by: Option<String> = row.try_get("replaced_by")?;
        let bound_device: String = row.try_get("device_id")?;
        let revoked_at: Option<i64> = row.try_get("revoked_at")?;
        if bound_device != device_id {
            return Ok(Err(RefreshRefusal::OtherDevice));
        }
        if revoked_at.is_some() {
            let kind: Option<String> = row.try_get("revoke_kind")?;
            let erased_at: Option<i64> = row.try_get("erased_at")?;
            let erase = kind.as_deref() == Some(RevokeKind::Erase.as_str()) && erased_at.is_none();
            return Ok(Err(if erase {
                RefreshRefusal::Erase
            } else {
                RefreshRefusal::Revoked
            }));
        }
        if expires_at <= now {
            return Ok(Err(RefreshRefusal::Expired));
        }
        // Only one of two concurrent refreshes with the same token wins: the token, or on
        // the one retry of a lost answer the token its first use issued, is spent by one
        // update. Any other use of a spent token is a replay (OAuth 2.0 Security BCP,
        // refresh token reuse): the whole session is revoked.
        let retry = used_at.is_some();
        let spend = match (used_at, replaced_by) {
            (None, _) => Some(old_hash.to_string()),
            (Some(used), Some(issued)) if now - used <= REFRESH_RETRY_GRACE_MS => Some(issued),
            (Some(_), _) => None,
        };
        let spent = match &spend {
            Some(token) => DB::rows_affected(
                &sqlx::query(
                    "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
                )
                .bind(token.clone())
                .bind(now)
                .execute(&mut *tx)
                .await?,
            ),
            None => 0,
        };
        if spent != 1 && !retry && spend.is_some() {
            // Seen unused, spent meanwhile by a concurrent request of the same phone: that
            // request wins; this one is refused, nothing revoked.
            return Ok(Err(RefreshRefusal::AlreadyUsed));
        }
        if spent != 1 {
            sqlx::query("UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(session_id.clone())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            insert_audit(
                &mut tx,
                &Actor::system(),
                "refresh_reused",
                "session",
                &session_id,
                serde_json::json!({ "device_id": device_id, "session_revoked": true }),
            )
            .await?;
            tx.commit().await?;
            self.sessions.forget();
            return Ok(Err(RefreshRefusal::AlreadyUsed));
        }
        if !retry {
            // The retry of a lost answer works once: its old token keeps pointing at the
            // token now spent, so presenting it again is a replay.
            sqlx::query("UPDATE refresh_tokens SET replaced_by = $2 WHERE token_hash = $1")
                .bind(old_hash.to_string())
                .bind(new_hash.to_string())
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(new_hash.to_string())
        .bind(session_id.clone())
        .bind(new_expires_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id = $1")
            .bind(session_id.clone())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE id = $1");
        let session = sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql))
            .bind(session_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Ok(session.into()))
    }

    async fn get_session(&self, id: &str) -> StoreResult<Session> {
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE id = $1");
        Ok(sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await?
            .into())
    }

    async fn session_user(&self, session_id: &str) -> StoreResult<(Session, User)> {
        let generation = match self.sessions.get(session_id) {
            Ok(kept) => return Ok(kept),
            Err(generation) => generation,
        };
        let row = sqlx::query(
            "SELECT s.id, s.user_id, s.device_id, s.created_at, s.last_seen_at, s.revoked_at, \
             s.revoke_kind, s.erased_at, s.unsent, \
             u.username, u.full_name, u.role, u.area_id, u.active, u.password_hash, s.device_name \
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = $1",
        )
        .bind(session_id.to_string())
        .fetch_one(&self.pool)
        .await?;
        let session = SessionRow {
            id: row.try_get(0)?,
            user_id: row.try_get(1)?,
            device_id: row.try_get(2)?,
            created_at: row.try_get(3)?,
            last_seen_at: row.try_get(4)?,
            revoked_at: row.try_get(5)?,
            revoke_kind: row.try_get(6)?,
            erased_at: row.try_get(7)?,
            unsent: row.try_get(8)?,
            device_name: row.try_get(15)?,
        };
        let user = UserRow {
            id: session.user_id.clone(),
            username: row.try_get(9)?,
            full_name: row.try_get(10)?,
            role: row.try_get(11)?,
            area_id: row.try_get(12)?,
            active: row.try_get(13)?,
            password_hash: row.try_get(14)?,
        }
        .into_user()?;
        let session = Session::from(session);
        self.sessions.keep(generation, &session, &user);
        Ok((session, user))
    }

    async fn list_sessions(&self, user_id: &str) -> StoreResult<Vec<Session>> {
        let sql =
            format!("SELECT {SESSION_COLS} FROM sessions WHERE user_id = $1 ORDER BY created_at");
        Ok(sqlx::query_as::<_, SessionRow>(sqlx::AssertSqlSafe(sql))
            .bind(user_id.to_string())
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Session::from)
            .collect())
    }

    async fn revoke_device(
        &self,
        actor: &Actor,
        user_id: &str,
        device_id: &str,
        kind: Option<RevokeKind>,
        now: i64,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        // Erasing reaches sessions already signed out too (the phone still holds their
        // data); signing out never softens an erase asked before.
        let sql = if kind == Some(RevokeKind::Erase) {
            "UPDATE sessions SET revoked_at = COALESCE(revoked_at, $3), revoke_kind = $4 \
             WHERE user_id = $1 AND device_id = $2 AND erased_at IS NULL \
             AND (revoke_kind IS NULL OR revoke_kind <> $4)"
        } else {
            "UPDATE sessions SET revoked_at = $3, revoke_kind = $4 \
             WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL"
        };
        let n = DB::rows_affected(
            &sqlx::query(sql)
                .bind(user_id.to_string())
                .bind(device_id.to_string())
                .bind(now)
                .bind(kind.map(|k| k.as_str().to_string()))
                .execute(&mut *tx)
                .await?,
        );
        insert_audit(
            &mut tx,
            actor,
            "revoke",
            "device",
            &format!("{user_id}/{device_id}"),
            serde_json::json!({ "sessions_revoked": n, "kind": kind }),
        )
        .await?;
        tx.commit().await?;
        self.sessions.forget();
        Ok(n)
    }

    async fn confirm_erased(
        &self,
        token_hash: &str,
        device_id: &str,
        unsent: u32,
        now: i64,
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let session: Option<String> = sqlx::query_scalar(
            "SELECT s.id FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id \
             WHERE t.token_hash = $1 AND s.device_id = $2 AND s.revoke_kind = $3 \
             AND s.erased_at IS NULL",
        )
        .bind(token_hash.to_string())
        .bind(device_id.to_string())
        .bind(RevokeKind::Erase.as_str().to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(session) = session else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE sessions SET erased_at = $2, unsent = $3, last_seen_at = $2 WHERE id = $1",
        )
        .bind(session.clone())
        .bind(now)
        .bind(i64::from(unsent))
        .execute(&mut *tx)
        .await?;
        insert_audit(
            &mut tx,
            &Actor {
                user_id: None,
                device_id: Some(device_id.to_string()),
            },
            "erased",
            "session",
            &session,
            serde_json::json!({ "unsent_erased": unsent }),
        )
        .await?;
        tx.commit().await?;
        self.sessions.forget();
        Ok(true)
    }

    async fn name_device(&self, session_id: &str, name: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sessions SET device_name = $2 WHERE id = $1")
            .bind(session_id.to_string())
            .bind(name.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.sessions.forget();
        Ok(())
    }

    async fn device_seen(
        &self,
        session_id: &str,
        unsent: Option<u32>,
        now: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $2, unsent = COALESCE($3, unsent) WHERE id = $1",
        )
        .bind(session_id.to_string())
        .bind(now)
        .bind(unsent.map(i64::from))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        self.sessions.seen(session_id, now, unsent);
        Ok(())
    }

    async fn revoke_sessions(
        &self,
        actor: &Actor,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let n = DB::rows_affected(
            &sqlx::query(
                "UPDATE sessions SET revoked_at = $2 \
                 WHERE user_id = $1 AND revoked_at IS NULL AND id <> $3",
            )
            .bind(user_id.to_string())
            .bind(now)
            .bind(keep.unwrap_or("").to_string())
            .execute(&mut *tx)
            .await?,
        );
        insert_audit(
            &mut tx,
            actor,
            "revoke",
            "sessions",
            user_id,
            serde_json::json!({ "sessions_revoked": n }),
        )
        .await?;
        tx.commit().await?;
        self.sessions.forget();
        Ok(n)
    }

    async fn sign_in_lock(&self, username: &str, now: i64) -> StoreResult<Option<i64>> {
        let until: Option<i64> =
            sqlx::query_scalar("SELECT locked_until FROM sign_in_failures WHERE username = $1")
                .bind(username.to_string())
                .fetch_optional(&self.pool)
                .await?;
        Ok(until.filter(|u| *u > now))
    }

    async fn sign_in_failed(
        &self,
        username: &str,
        address: &str,
        policy: &SignInPolicy,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO sign_in_failures (username, failures, last_failed_at) VALUES ($1, 1, $2) \
             ON CONFLICT (username) DO UPDATE \
             SET failures = sign_in_failures.failures + 1, last_failed_at = $2 \
             RETURNING failures",
        )
        .bind(username.to_string())
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        let until = policy.locked_until(failures, now);
        if let Some(u) = until {
            sqlx::query("UPDATE sign_in_failures SET locked_until = $2 WHERE username = $1")
                .bind(username.to_string())
                .bind(u)
                .execute(&mut *tx)
                .await?;
        }
        // Failures of a day ago are forgotten, so the table stays small.
        sqlx::query("DELETE FROM sign_in_failures WHERE last_failed_at < $1 AND locked_until < $2")
            .bind(now - 24 * 3600 * 1000)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        insert_audit(
            &mut tx,
            &Actor::system(),
            "sign_in_failed",
            "user",
            username,
            serde_json::json!({ "address": address, "failures": failures, "locked_until": until }),
        )
        .await?;
        tx.commit().await?;
        Ok(until)
    }

    async fn sign_in_cleared(&self, username: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sign_in_failures WHERE username = $1")
            .bind(username.to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn locked_accounts(&self, now: i64) -> StoreResult<Vec<LockedAccount>> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT username, failures, last_failed_at, locked_until FROM sign_in_failures \
             WHERE locked_until > $1 ORDER BY username",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(username, failures, last_failed_at, locked_until)| LockedAccount {
                    username,
                    failures,
                    last_failed_at,
                    locked_until,
                },
            )
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::user::Role;

    fn session(id: &str) -> (Session, User) {
        let user = User {
            id: "u1".into(),
            username: "canbo01".into(),
            full_name: "Lò Văn Sình".into(),
            role: Role::Cadre,
            area_id: "v1".into(),
            active: true,
        };
        let session = Session {
            id: id.into(),
            user_id: "u1".into(),
            device_id: "phone".into(),
            created_at: 0,
            last_seen_at: 0,
            revoked_at: None,
            revoke_kind: None,
            erased_at: None,
            unsent: 0,
            device_name: String::new(),
        };
        (session, user)
    }

    /// A session read before a revocation is never kept after it: the lookup that raced
    /// the revocation answers once from what it read, the next lookup asks the database.
    #[test]
    fn a_lookup_that_raced_a_revocation_is_not_kept() {
        let kept = KeptSessions::new();
        let (s, u) = session("s1");
        let generation = kept.get("s1").expect_err("nothing kept yet");
        kept.keep(generation, &s, &u);
        assert!(kept.get("s1").is_ok(), "kept after a lookup");
        kept.forget();
        let generation = kept.get("s1").expect_err("forgotten at a revocation");
        // Another lookup began before the next revocation and ends after it.
        kept.forget();
        kept.keep(generation, &s, &u);
        assert!(
            kept.get("s1").is_err(),
            "a read from before the revocation is not kept"
        );
    }
}
