//! Authentication: argon2id passwords, short-lived JWT access tokens and long-lived,
//! device-bound, rotating refresh tokens that an administrator can revoke.

pub mod current;
pub mod password;
pub mod throttle;
pub mod tokens;

pub use current::CurrentUser;
pub use tokens::Keys;
