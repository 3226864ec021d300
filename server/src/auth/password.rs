//! Password hashing with argon2id, off the async runtime and bounded: each hash holds
//! about 19 MiB for tens of milliseconds, so at most one per core runs at a time and the
//! rest wait their turn. Unknown usernames are checked against a dummy hash, so a sign-in
//! costs the same whether the username exists or not. New passwords must be long enough
//! (`shared::user::MIN_PASSWORD_CHARS`, checked with the rest of the form) and not common
//! or easily guessed (zxcvbn, here only: its word lists would weigh on the phone app).

use crate::error::AppError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use shared::{Text, ValidationErrors};
use std::sync::{LazyLock, OnceLock};
use tokio::sync::Semaphore;

static HASHING: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

async fn bounded<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    let _turn = HASHING
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(e.to_string()))
}

pub async fn hash(password: String) -> Result<String, AppError> {
    bounded(move || hash_blocking(&password)).await?
}

pub fn hash_blocking(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(e.to_string()))
}

/// A hash of a random password with the same parameters as real ones.
fn dummy() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking(&crate::auth::tokens::new_refresh_token()).expect("argon2 hashes")
    })
}

/// Whether `password` matches the stored PHC string; `None` (an unknown username) runs
/// the same work against a dummy hash and never matches. A malformed hash never matches.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AppError> {
    bounded(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy().to_string());
        let matches = PasswordHash::new(&stored)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        known && matches
    })
    .await
}

/// Checks a new password is not common or guessable from the user's own names
/// (`inputs`); its length is checked with the rest of the form.
pub fn check_new(password: &str, inputs: &[&str]) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    if zxcvbn::zxcvbn(password, inputs).score() < zxcvbn::Score::Three {
        e.push(
            "password",
            "too_common",
            Text::new(
                "Mật khẩu quá phổ biến hoặc dễ đoán; hãy chọn mật khẩu khác (ví dụ vài từ ghép lại).",
                "This password is too common or easy to guess; choose another (for example a few words together).",
            ),
        );
    }
    e.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_common_passwords_are_refused() {
        assert!(check_new("1234567890", &[]).is_err());
        assert!(check_new("password123", &[]).is_err());
        assert!(check_new("qwertyuiop", &[]).is_err());
        assert!(check_new("nguyenvana1", &["nguyenvana"]).is_err());
        assert!(check_new("DongHanh@2024", &[]).is_ok());
        assert!(check_new("trâu vàng cày ruộng sớm", &[]).is_ok());
    }
}
