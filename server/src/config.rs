//! Command line and environment configuration of the `donghanh` binary.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "donghanh",
    version,
    about = "Đồng Hành: accompanying poor households out of poverty"
)]
pub struct Config {
    /// Database: `sqlite://path/to/file.db` (default, under the data dir) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Where the SQLite file and the generated JWT secret live.
    #[arg(long, env = "DONGHANH_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Secret that signs access tokens. When absent, one is generated once and kept in the
    /// data dir; several servers sharing one PostgreSQL must be given the same secret.
    #[arg(
        long,
        env = "DONGHANH_JWT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub jwt_secret: Option<String>,

    /// Write logs as JSON lines (for log collectors) instead of text.
    #[arg(long, env = "DONGHANH_LOG_JSON", global = true)]
    pub log_json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the API and the web app (the default).
    Serve(ServeArgs),
    /// Create the demo commune (Đồng Vương-like) in an empty database and print its users.
    Demo {
        /// Communes of the province: the demo commune and more shaped like it, each with its
        /// villages, staff, households, reviews, accompaniment and household documents.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=200))]
        communes: u16,
        /// Households of each commune (the demo commune's 1,329 by default; a commune since
        /// the 2025 reform has about 8,000), in the demo commune's proportions.
        #[arg(long, default_value_t = 1329, value_parser = clap::value_parser!(u16).range(100..=20000))]
        households_per_commune: u16,
    },
    /// Rebuild the read model (households, members, reviews, visits, support) from the
    /// household documents.
    RebuildReadModel,
    /// List the households whose codes are one code once compared without letter case,
    /// surrounding spaces or Unicode form (exits 1 when there are any).
    CheckCodes,
    /// Print how many bytes the household documents take in the database.
    StorageStats,
    /// Copy the database to a file while the server keeps serving (SQLite), or dump it
    /// with `pg_dump` (PostgreSQL).
    Backup {
        /// The backup file to write (must not exist).
        #[arg(long)]
        to: PathBuf,
    },
    /// Print every commune's movement table for a period (each area and category: start,
    /// inflows, outflows, end, and the check start + inflows − outflows − end = 0).
    Movements {
        /// The report's year.
        #[arg(long)]
        year: i32,
        /// `annual` or `half-year`.
        #[arg(long, default_value = "annual")]
        period: String,
    },
    /// Recovery: create an administrator, or make an existing user an active administrator
    /// with a new password (read from standard input, one line), ending its sessions.
    Admin {
        /// The administrator's username.
        #[arg(long)]
        username: String,
        /// The full name of a new administrator.
        #[arg(long)]
        full_name: Option<String>,
    },
    /// Restore a backup into a new database (SQLite: no file yet; PostgreSQL: empty).
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "DONGHANH_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// The built web app (`cargo xtask dist`), served at `/`.
    #[arg(long, env = "DONGHANH_STATIC_DIR", default_value = "dist")]
    pub static_dir: PathBuf,

    /// Create the demo commune first if the database has no users.
    #[arg(long)]
    pub demo_if_empty: bool,

    /// Served behind a TLS reverse proxy (see README): the client's address is the last
    /// one in `X-Forwarded-For`, and HSTS is sent when `X-Forwarded-Proto` is `https`.
    /// Only with a proxy that sets both; otherwise clients could forge their address.
    #[arg(long, env = "DONGHANH_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// Serve `GET /metrics` (Prometheus text) to requests carrying this bearer token; off
    /// when absent. Use a long random value.
    #[arg(long, env = "DONGHANH_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Seconds between two passes that count again the provinces' stale report parts, so
    /// that a province's report finds them counted (`report_keeper`); 0 turns it off.
    #[arg(long, env = "DONGHANH_KEEP_REPORTS_EVERY", default_value_t = 120,
        value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub keep_reports_every: u64,
}

impl Default for ServeArgs {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
            static_dir: "dist".into(),
            demo_if_empty: false,
            trust_proxy: false,
            metrics_token: None,
            keep_reports_every: 120,
        }
    }
}

/// Bytes a configured JWT secret needs at least.
pub const MIN_JWT_SECRET: usize = 32;

impl Config {
    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("donghanh.db").display()))
    }

    /// The configured secret, or the one kept in the data dir (created on first use). A
    /// configured secret shorter than `MIN_JWT_SECRET` bytes is refused: HS256 tokens
    /// signed with a short secret can be forged by guessing it.
    pub fn jwt_secret(&self) -> std::io::Result<Vec<u8>> {
        if let Some(s) = &self.jwt_secret {
            if s.len() < MIN_JWT_SECRET {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!(
                        "--jwt-secret must be at least {MIN_JWT_SECRET} bytes (it has {}); \
                         e.g. `openssl rand -base64 48`",
                        s.len()
                    ),
                ));
            }
            return Ok(s.as_bytes().to_vec());
        }
        let path = self.data_dir.join("jwt-secret");
        match std::fs::read(&path) {
            Ok(s) if s.len() >= 32 => Ok(s),
            _ => {
                std::fs::create_dir_all(&self.data_dir)?;
                let secret = crate::auth::tokens::new_refresh_token().into_bytes();
                write_private(&path, &secret)?;
                Ok(secret)
            }
        }
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_jwt_secret_is_refused_at_start() {
        let short = Config::parse_from(["donghanh", "--jwt-secret", "geheim"]);
        let e = short.jwt_secret().unwrap_err();
        assert!(e.to_string().contains("at least 32 bytes"), "{e}");
        let long = Config::parse_from(["donghanh", "--jwt-secret", &"k".repeat(32)]);
        assert_eq!(long.jwt_secret().unwrap().len(), 32);
    }
}
