//! A bound on each user's heavy requests (imports, reports, whole-commune reads) running at
//! once: one user's slow requests cannot take every pooled connection and blocking thread,
//! so everyone else — including that user's own light requests — is still answered.
//! Beyond the bound the request is refused at once with 429 and `Retry-After`.

use crate::auth::CurrentUser;
use crate::error::AppError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Heavy requests of one user running at once (a console page loads two or three).
pub const PER_USER: usize = 3;

/// Heavy requests running, per user.
#[derive(Debug, Default)]
pub struct HeavyGate {
    running: Mutex<HashMap<String, usize>>,
}

/// Held while a heavy request runs; dropping it (the request answered, cancelled or timed
/// out) lets the next one in.
#[derive(Debug)]
pub struct HeavyTurn {
    gate: Arc<HeavyGate>,
    user_id: String,
}

impl HeavyGate {
    /// A turn for `me`, or 429 when `me` already runs `PER_USER` heavy requests.
    pub fn enter(self: &Arc<Self>, me: &CurrentUser) -> Result<HeavyTurn, AppError> {
        self.enter_as(&me.user.id)
    }

    /// A turn for the user whose id is `user_id` (the gate counts by user, whatever the
    /// session or device).
    pub fn enter_as(self: &Arc<Self>, user_id: &str) -> Result<HeavyTurn, AppError> {
        let mut running = self.running.lock().expect("not poisoned");
        let n = running.entry(user_id.to_owned()).or_default();
        if *n >= PER_USER {
            return Err(AppError::TooMany {
                code: "too_many_heavy_requests",
                message: shared::Text::new(
                    "Bạn đang có nhiều yêu cầu lớn (báo cáo, nhập tệp) chưa xong; hãy chờ chúng xong rồi thử lại.",
                    "You have several large requests (reports, imports) still running; wait for them to finish, then try again.",
                ),
                retry_after: 5,
            });
        }
        *n += 1;
        Ok(HeavyTurn {
            gate: self.clone(),
            user_id: user_id.to_owned(),
        })
    }
}

impl Drop for HeavyTurn {
    fn drop(&mut self) {
        let mut running = self.gate.running.lock().expect("not poisoned");
        if let Some(n) = running.get_mut(&self.user_id) {
            *n -= 1;
            if *n == 0 {
                running.remove(&self.user_id);
            }
        }
    }
}
