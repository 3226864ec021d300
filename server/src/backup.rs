//! `donghanh backup` and `donghanh restore`. SQLite: an online, consistent copy taken
//! while the server keeps serving (`VACUUM INTO`, one read transaction, so no write is
//! half in it), restored only into a database that does not exist yet, then checked
//! (`PRAGMA integrity_check`) and brought to the current schema. PostgreSQL: the
//! documented `pg_dump --format=custom` and `pg_restore` into an empty database.

use std::path::{Path, PathBuf};
use std::process::Command;

pub type BackupResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// The file of a `sqlite://` URL.
pub fn sqlite_path(url: &str) -> BackupResult<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .ok_or_else(|| format!("not a SQLite URL: {url}"))?;
    let file = rest.split('?').next().unwrap_or_default();
    if file.is_empty() || file == ":memory:" {
        return Err(format!("no database file in {url}").into());
    }
    Ok(PathBuf::from(file))
}

/// Writes a consistent copy of the database at `url` to `to` (which must not exist).
pub async fn backup(url: &str, to: &Path) -> BackupResult<()> {
    if to.exists() {
        return Err(format!("{} already exists; choose a new file", to.display()).into());
    }
    if is_postgres(url) {
        return run(Command::new("pg_dump")
            .args(["--format=custom", "--no-owner", "--file"])
            .arg(to)
            .arg(url));
    }
    let source = sqlite_path(url)?;
    if !source.exists() {
        return Err(format!("no database at {}", source.display()).into());
    }
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&source)
        .read_only(true);
    let mut conn = sqlx::ConnectOptions::connect(&options).await?;
    sqlx::query("VACUUM INTO ?")
        .bind(to.to_string_lossy().to_string())
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Restores the backup `from` into the database at `url`, which must be new (SQLite: no
/// file yet; PostgreSQL: an empty database), then brings it to the current schema.
pub async fn restore(url: &str, from: &Path) -> BackupResult<()> {
    if !from.exists() {
        return Err(format!("no backup at {}", from.display()).into());
    }
    if is_postgres(url) {
        // Only into a database with no tables at all: nothing of ours or anyone else's
        // is ever dropped or mixed with the backup.
        let pool = sqlx::PgPool::connect(url).await?;
        let tables: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")
                .fetch_one(&pool)
                .await?;
        pool.close().await;
        if tables > 0 {
            return Err("the database is not empty; restore into a new, empty database".into());
        }
        run(Command::new("pg_restore")
            .args(["--no-owner", "--exit-on-error", "--dbname"])
            .arg(url)
            .arg(from))?;
        // pg_restore brings no planner statistics: gathered before the first request.
        crate::store::connect_with_budget(url, crate::store::BATCH_BUDGET)
            .await?
            .analyze()
            .await?;
        return Ok(());
    }
    let target = sqlite_path(url)?;
    if target.exists() {
        return Err(format!(
            "{} already exists; restore into a new file (move the old one away first)",
            target.display()
        )
        .into());
    }
    // Checked before it takes the database's place.
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(from)
        .read_only(true);
    let mut conn = sqlx::ConnectOptions::connect(&options).await?;
    let check: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if check != "ok" {
        return Err(format!("the backup is damaged: {check}").into());
    }
    drop(conn);
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let partial = target.with_extension("restoring");
    std::fs::copy(from, &partial)?;
    std::fs::File::open(&partial)?.sync_all()?;
    std::fs::rename(&partial, &target)?;
    // Migrations a newer version added run now.
    crate::store::connect(url).await?;
    Ok(())
}

fn run(c: &mut Command) -> BackupResult<()> {
    let program = c.get_program().to_string_lossy().to_string();
    let status = c
        .status()
        .map_err(|e| format!("{program}: {e} (install the PostgreSQL client tools)"))?;
    if !status.success() {
        return Err(format!("{program} failed: {status}").into());
    }
    Ok(())
}
