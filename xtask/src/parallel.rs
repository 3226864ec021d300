//! The native tests built once and run two test binaries at a time: most of a database,
//! server or browser test's time is waiting, so a second binary fills the core the first
//! leaves idle (CI's longest step). Each binary runs as `cargo test` would run it (in its
//! package's directory, the same environment); its output is printed whole when it ends,
//! and a failure fails the run once every binary has ended, naming those that failed.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::Instant;

/// The test binaries that take longest, started first so the others fill in beside them.
const LONGEST_FIRST: [&str; 8] = [
    "browser",
    "console",
    "field_app",
    "dashboard",
    "hardening",
    "crash",
    "backup",
    "conformance",
];

/// One test binary `cargo test --no-run` built.
struct Binary {
    name: String,
    path: PathBuf,
    package_dir: PathBuf,
}

/// Builds the tests with `build` (a `cargo test … --no-run` command) and returns the
/// test binaries it made, longest first.
fn built(mut build: Command) -> Result<Vec<Binary>, String> {
    build
        .arg("--no-run")
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    eprintln!("$ {build:?}");
    let out = build.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err("the tests did not build".into());
    }
    let mut binaries = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let (Some(path), true) = (
            msg["executable"].as_str(),
            msg["reason"] == "compiler-artifact" && msg["profile"]["test"] == true,
        ) else {
            continue;
        };
        let package_dir = PathBuf::from(msg["manifest_path"].as_str().unwrap_or_default())
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        let kind = msg["target"]["kind"][0].as_str().unwrap_or_default();
        let target = msg["target"]["name"].as_str().unwrap_or_default();
        binaries.push(Binary {
            name: format!("{target} ({kind})"),
            path: path.into(),
            package_dir,
        });
    }
    let rank = |b: &Binary| {
        LONGEST_FIRST
            .iter()
            .position(|n| b.name.starts_with(&format!("{n} (")))
            .unwrap_or(LONGEST_FIRST.len())
    };
    binaries.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.name.cmp(&b.name)));
    Ok(binaries)
}

/// Builds the tests with `build`, then runs every test binary with `envs`, `jobs` at a
/// time, and `doc` (the doc tests) beside them.
pub fn run(
    build: Command,
    doc: Command,
    envs: &[(String, String)],
    jobs: usize,
) -> Result<(), String> {
    let binaries = built(build)?;
    let mut queue: VecDeque<(String, Command)> = binaries
        .into_iter()
        .map(|b| {
            let mut c = Command::new(&b.path);
            c.current_dir(&b.package_dir)
                .env("CARGO_MANIFEST_DIR", &b.package_dir)
                .envs(envs.iter().map(|(k, v)| (k, v)));
            (b.name, c)
        })
        .collect();
    queue.push_back(("doc tests".into(), doc));
    let total = queue.len();
    let queue = Mutex::new(queue);
    let failed = Mutex::new(Vec::<String>::new());
    let print = Mutex::new(());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let Some((name, mut c)) =
                        queue.lock().map(|mut q| q.pop_front()).ok().flatten()
                    else {
                        return;
                    };
                    let started = Instant::now();
                    let out = c.output();
                    let _guard = print.lock();
                    eprintln!("──── {name}: {:.0} s ────", started.elapsed().as_secs_f64());
                    let ok = match out {
                        Ok(o) => {
                            eprint!("{}", String::from_utf8_lossy(&o.stdout));
                            eprint!("{}", String::from_utf8_lossy(&o.stderr));
                            o.status.success()
                        }
                        Err(e) => {
                            eprintln!("could not run: {e}");
                            false
                        }
                    };
                    if !ok && let Ok(mut f) = failed.lock() {
                        f.push(name);
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap_or_default();
    if failed.is_empty() {
        eprintln!("{total} test binaries passed");
        Ok(())
    } else {
        Err(format!("tests failed in: {}", failed.join(", ")))
    }
}
