//! The server as a process of its own, for tests that kill it (the crash drill): the
//! production router and connection loop (`server::app_with`, `server::edge::serve`) on
//! a database URL, a port and a JWT secret, with the sign-in throttle opened for the
//! test's many sign-ins.
//!
//! `serve DATABASE_URL LISTEN_ADDR JWT_SECRET`

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, listen, secret] = &args[..] else {
        eprintln!("usage: serve DATABASE_URL LISTEN_ADDR JWT_SECRET");
        std::process::exit(2);
    };
    let store = server::store::connect(url).await.expect("database");
    let mut state = server::AppState::new(store, secret.as_bytes());
    state.sign_in = std::sync::Arc::new(server::auth::throttle::SignIn::new(
        1_000_000,
        std::time::Duration::from_millis(1),
        Default::default(),
    ));
    let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
    let edge = server::edge::Edge::default();
    println!("ready");
    server::edge::serve(
        listener,
        server::app_with(state, None, edge),
        edge,
        std::future::pending(),
    )
    .await
    .expect("serve");
}
