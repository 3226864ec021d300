//! What every field screen is given once someone is signed in: who, and the state of the
//! phone's copy. Its own module so the screens read it without importing the app's frame
//! that draws them.

use crate::engine::Status;
use leptos::prelude::*;
use shared::Text;
use shared::user::User;

/// Who is signed in and what the screens show about the phone's copy. Ready before the
/// working copy is: the household list is drawn from the stored list rows alone.
#[derive(Clone)]
pub struct Field {
    pub user: User,
    pub status: Status,
    /// The working copy: `None` while it opens, then open or why it could not.
    pub opened: RwSignal<Option<Result<(), Text>>>,
}

pub fn use_field() -> Field {
    expect_context::<Field>()
}
