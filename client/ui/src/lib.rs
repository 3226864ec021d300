//! What both browser apps share — the field app on phones and the commune console — so
//! they sign in, speak to the server and switch language the same way:
//!
//! - `login`: the sign-in form;
//! - `device`: the name this device signs in under;
//! - `api`: requests with the session's token and the server's own error bodies;
//! - `session`: the signed-in session, the device id and the language, kept on the device;
//! - `text`: the current language for every component.

pub mod api;
pub mod device;
pub mod login;
pub mod session;
pub mod text;

/// Opens another page of the product (the console from the field app and back).
pub fn go_to(path: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
}
