//! `donghanh`: reads configuration and starts the server (or creates the demo commune).

use clap::Parser;
use server::config::{Command, Config, ServeArgs};
use server::{AppState, app_with, demo, store};
use std::process::ExitCode;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    if let Err(e) = server::metrics::init_tracing("info,sqlx=warn,tower_http=info", config.log_json)
    {
        eprintln!("donghanh: logs: {e}");
    }
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("donghanh: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(&config.data_dir)?;
    let url = config.database_url();
    // Before connecting: a restore needs a database that does not exist yet.
    match &config.command {
        Some(Command::Backup { to }) => {
            let started = std::time::Instant::now();
            server::backup::backup(&url, to)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "Đã sao lưu vào / backed up to {} in {:.1} s",
                to.display(),
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        Some(Command::Restore { from }) => {
            let started = std::time::Instant::now();
            server::backup::restore(&url, from)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "Đã khôi phục từ / restored from {} in {:.1} s",
                from.display(),
                started.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        _ => {}
    }
    // Serving answers requests, each within the statement budget; the other commands are
    // an administrator's batch jobs (a province's demo, a rebuild) and may run longer.
    let budget = match &config.command {
        None | Some(Command::Serve(_)) => store::STATEMENT_BUDGET,
        Some(_) => store::BATCH_BUDGET,
    };
    let store = store::connect_with_budget(&url, budget).await?;
    tracing::info!(backend = store.backend(), "database ready");
    match config.command.clone() {
        Some(Command::Demo {
            communes,
            households_per_commune,
        }) => {
            let size = demo::Size {
                communes: communes.into(),
                households_per_commune: households_per_commune.into(),
            };
            let report =
                demo::create_province(store.as_ref(), demo::today_for_demo(), size).await?;
            println!("{report}");
            Ok(())
        }
        Some(Command::RebuildReadModel) => {
            let n = server::rebuild::read_model(store.as_ref()).await?;
            store.analyze().await?;
            println!(
                "Đã dựng lại {n} hộ từ tài liệu / rebuilt {n} households from their documents"
            );
            Ok(())
        }
        Some(Command::CheckCodes) => {
            let groups = server::codes::collisions(store.as_ref()).await?;
            print!("{}", server::codes::text(&groups));
            if !groups.is_empty() {
                std::process::exit(1);
            }
            Ok(())
        }
        Some(Command::StorageStats) => {
            let (docs, bytes) = store.docs().doc_storage().await?;
            println!(
                "{docs} household documents, {bytes} B stored = {:.0} B per household",
                bytes as f64 / docs.max(1) as f64
            );
            Ok(())
        }
        Some(Command::Movements { year, period }) => {
            let period = match period.as_str() {
                "annual" => shared::report::Period::Annual,
                "half-year" | "half_year" => shared::report::Period::HalfYear,
                other => return Err(format!("unknown period {other}: annual or half-year").into()),
            };
            let table = server::export::movement_text(store.as_ref(), year, period)
                .await
                .map_err(|e| e.to_string())?;
            print!("{table}");
            if table.contains("CHECK FAILED") {
                return Err("a figure does not add up".into());
            }
            Ok(())
        }
        Some(Command::Admin {
            username,
            full_name,
        }) => {
            eprintln!("Mật khẩu mới (một dòng) / new password (one line):");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
            let password = line.trim_end_matches(['\r', '\n']).to_string();
            let done = server::recovery::administrator(
                store.as_ref(),
                &username,
                full_name.as_deref(),
                password,
            )
            .await
            .map_err(|e| {
                let body = e.body();
                let fields: Vec<String> =
                    body.fields.iter().map(|f| f.message.vi.clone()).collect();
                format!(
                    "{} {} / {}",
                    body.message.vi,
                    fields.join(" "),
                    body.message.en
                )
            })?;
            println!(
                "{}",
                match done {
                    server::recovery::Recovered::Created =>
                        format!("Đã tạo quản trị viên / administrator created: {username}"),
                    server::recovery::Recovered::Reset => format!(
                        "Đã đặt lại mật khẩu và quyền quản trị / password and administrator role reset: {username}"
                    ),
                }
            );
            Ok(())
        }
        Some(Command::Backup { .. } | Command::Restore { .. }) => Ok(()),
        Some(Command::Serve(args)) => serve(&config, store, args).await,
        None => serve(&config, store, ServeArgs::default()).await,
    }
}

async fn serve(
    config: &Config,
    store: store::DynStore,
    args: ServeArgs,
) -> Result<(), Box<dyn std::error::Error>> {
    if args.demo_if_empty && store.count_users().await? == 0 {
        let report = demo::create(store.as_ref(), demo::today_for_demo()).await?;
        println!("{report}");
    }
    let mut state = AppState::new(store, &config.jwt_secret()?);
    state.metrics_token = args
        .metrics_token
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(std::sync::Arc::from);
    let edge = server::edge::Edge {
        trust_proxy: args.trust_proxy,
        ..Default::default()
    };
    let mut sign_in = server::auth::throttle::SignIn::default();
    sign_in.trust_proxy = args.trust_proxy;
    state.sign_in = std::sync::Arc::new(sign_in);
    let static_dir = args
        .static_dir
        .join("index.html")
        .exists()
        .then(|| args.static_dir.clone());
    if static_dir.is_none() {
        tracing::warn!(dir = %args.static_dir.display(), "web app not built; run `cargo xtask dist`");
    }
    let keeper = (args.keep_reports_every > 0).then(|| {
        server::report_keeper::spawn(
            state.store.clone(),
            std::time::Duration::from_secs(args.keep_reports_every),
        )
    });
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    tracing::info!("serving on http://{}", listener.local_addr()?);
    println!("Đồng Hành is serving on http://{}", listener.local_addr()?);
    server::edge::serve(listener, app_with(state, static_dir, edge), edge, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    if let Some(keeper) = keeper {
        keeper.abort();
    }
    Ok(())
}
