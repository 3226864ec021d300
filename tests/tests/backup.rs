//! `donghanh backup` and `donghanh restore` on the demo commune, on SQLite (online copy
//! while a server is serving) and PostgreSQL (pg_dump / pg_restore): the restored
//! database holds every table row and every household document byte for byte, and a
//! restore never overwrites a database that has data.

use sqlx::Connection;
use std::collections::BTreeMap;
use std::time::Instant;
use tests::{Backend, TestDb, TestServer, on_both_backends};

/// Every table's rows as text, sorted, by table.
async fn tables(url: &str) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let names: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
                .fetch_all(&mut c)
                .await
                .unwrap();
        for t in names {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(x AS TEXT) FROM \"{t}\" x ORDER BY 1"
            )))
            .fetch_all(&mut c)
            .await
            .unwrap();
            out.insert(t, rows);
        }
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap();
        for t in names {
            let cols: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT name FROM pragma_table_info('{t}')"
            )))
            .fetch_all(&mut c)
            .await
            .unwrap();
            let row = cols
                .iter()
                .map(|c| format!("quote(\"{c}\")"))
                .collect::<Vec<_>>()
                .join(" || '|' || ");
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT {row} FROM \"{t}\" ORDER BY 1"
            )))
            .fetch_all(&mut c)
            .await
            .unwrap();
            out.insert(t, rows);
        }
    }
    out
}

async fn demo_login(srv: &TestServer) -> String {
    srv.login_with("congchuc", server::demo::PASSWORD, "office-pc")
        .await
}

async fn the_demo_commune_backs_up_and_restores_whole(b: Backend) {
    let Some(source) = TestDb::open(b).await else {
        return;
    };
    let store = source.store().await;
    server::demo::create(store.as_ref(), server::demo::today_for_demo())
        .await
        .unwrap();
    // Served while it is backed up.
    let srv = TestServer::start(store.clone(), None).await;
    let token = demo_login(&srv).await;
    let dir = std::env::temp_dir().join(format!("donghanh-backup-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("donghanh.backup");
    let started = Instant::now();
    let (backed_up, health) = tokio::join!(
        server::backup::backup(&source.url, &file),
        srv.http
            .get(srv.url("/api/households?limit=5"))
            .bearer_auth(&token)
            .send()
    );
    backed_up.unwrap();
    assert_eq!(health.unwrap().status(), 200, "the server kept serving");
    let backup_s = started.elapsed().as_secs_f64();
    // A second backup to the same file is refused, not overwritten.
    assert!(server::backup::backup(&source.url, &file).await.is_err());

    let Some(target) = TestDb::open(b).await else {
        return;
    };
    let started = Instant::now();
    server::backup::restore(&target.url, &file).await.unwrap();
    let restore_s = started.elapsed().as_secs_f64();
    eprintln!(
        "{b:?}: backup {backup_s:.1} s, restore {restore_s:.1} s, {} B",
        std::fs::metadata(&file).unwrap().len()
    );

    let (before, after) = (tables(&source.url).await, tables(&target.url).await);
    assert!(
        before["docs"].len() >= 1329,
        "every household has its document"
    );
    for (t, rows) in &before {
        assert_eq!(
            after.get(t).map(Vec::len),
            Some(rows.len()),
            "{t}: the same number of rows"
        );
        assert!(after[t] == *rows, "{t}: the same rows");
    }
    // The restored database serves: the documents open and the officer signs in.
    let restored = target.store().await;
    let some = restored
        .list_households(&server::store::HouseholdFilter {
            limit: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(some.len(), 3);
    for h in some {
        assert!(restored.docs().load_doc(&h.id).await.unwrap().is_some());
    }
    let srv2 = TestServer::start(restored, None).await;
    demo_login(&srv2).await;
    // A restore never replaces a database that has data.
    assert!(server::backup::restore(&target.url, &file).await.is_err());
    let _ = std::fs::remove_dir_all(&dir);
    source.cleanup().await;
    target.cleanup().await;
}

on_both_backends!(the_demo_commune_backs_up_and_restores_whole);
