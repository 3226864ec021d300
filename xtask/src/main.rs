//! `cargo xtask <command>`: the scripts a developer and CI both run.
//!
//! - `dist`: build the web app to `dist/` (wasm32, `wasm-release` profile, JS glue).
//! - `run`: install the wasm target, build everything, create the demo commune if the
//!   database is empty and serve on http://127.0.0.1:8080.
//! - `test [--require-pg]`: install what the tests need and run every test.
//! - `rest-fuzz [examples]`: schemathesis over `/api/openapi.json` signed in as each role
//!   (also a step of `test`).
//! - `lint`: rustfmt check and clippy `-D warnings` on native and wasm32.
//! - `bench sync [--postgres URL] [--binaries DIR]`: the sync benchmark: a release server
//!   on a fresh SQLite demo commune, simulated phones (the `sim` binary of `tests`), the
//!   server's CPU per change, peak memory and storage per household.
//! - `bench app`: the web app's download size and, in Chromium with a slowed CPU, a fresh
//!   1,500-household pull into IndexedDB and the list's render time (`tests/benches/app.rs`).
//! - `bench console`: the commune dashboard and the province overview on a province of 100
//!   communes, served and drawn in Chromium (`tests/benches/console.rs`).
//! - `bench report`: the annual report exported as XLSX, for the demo commune and for a
//!   province of 100 communes (`tests/benches/report.rs`).

use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

mod parallel;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("dist") => dist().map(|_| ()),
        Some("run") => run(&args[1..]),
        Some("test") => test(args.iter().any(|a| a == "--require-pg")),
        Some("lint") => lint(),
        // Cargo's runner for the wasm32 test binaries (`wasm_browser_tests`).
        Some("wasm-test-runner") => wasm_bindgen_cli::wasm_bindgen_test_runner::run_cli_with_args(
            std::env::args_os().skip(1),
        )
        .map_err(|e| format!("{e:#}").into()),
        Some("fuzz") => fuzz(
            args.get(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(FUZZ_SECONDS),
        ),
        Some("rest-fuzz") => rest_fuzz(
            args.get(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(REST_FUZZ_EXAMPLES),
        ),
        Some("bench") if args.get(1).map(String::as_str) == Some("sync") => bench_sync(&args[2..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("app") => bench_app(),
        Some("bench") if args.get(1).map(String::as_str) == Some("console") => bench_console(),
        Some("bench") if args.get(1).map(String::as_str) == Some("report") => bench_report(),
        Some("bench") if args.get(1).map(String::as_str) == Some("province") => bench_province(),
        _ => {
            eprintln!(
                "usage: cargo xtask <dist | run | test [--require-pg] | lint | fuzz [seconds] | rest-fuzz [examples] | bench sync [--postgres URL] [--binaries DIR] [sim args] | bench app | bench console | bench report | bench province>"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace this run was started in. `cargo run` tells the running program its
/// manifest directory; the compile-time value is only a fallback, since one build of xtask
/// may serve several checkouts that share a target directory (as CI's cache does).
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

fn status(mut c: Command) -> Result {
    eprintln!("$ {c:?}");
    let s = c.status()?;
    if s.success() {
        Ok(())
    } else {
        Err(format!("{c:?} failed: {s}").into())
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

/// `rustup target add wasm32-unknown-unknown`, when rustup manages the toolchain.
fn ensure_wasm_target() -> Result {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output();
    match installed {
        Ok(o)
            if String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == WASM_TARGET) =>
        {
            Ok(())
        }
        Ok(_) => {
            let mut c = Command::new("rustup");
            c.args(["target", "add", WASM_TARGET]);
            status(c)
        }
        Err(_) => {
            eprintln!("rustup not found; assuming the {WASM_TARGET} target is installed");
            Ok(())
        }
    }
}

/// Builds the web apps into `dist/` and returns that directory: the field app at its root,
/// the commune console in `dist/console/` (a bundle of its own, so the field app's download
/// does not grow with it).
///
/// The field app is split (`client/src/later.rs`): its first screen loads from
/// `client_bg.wasm`, and the code behind its `#[lazy]` split points from the chunk files
/// that `wasm_split_cli_support` cuts out and `__wasm_split.js` loads on demand. The split
/// reads the linker's relocations, so the field app alone is linked with `--emit-relocs`
/// (through `cargo rustc`, which passes the flag to the final crate only and leaves every
/// dependency's build as it is).
fn dist() -> Result<PathBuf> {
    ensure_wasm_target()?;
    let mut c = cargo();
    c.args([
        "build",
        "-p",
        "console",
        "--target",
        WASM_TARGET,
        "--profile",
        "wasm-release",
    ]);
    status(c)?;
    let mut c = cargo();
    c.args([
        "rustc",
        "-p",
        "client",
        "--lib",
        "--target",
        WASM_TARGET,
        "--profile",
        "wasm-release",
        "--",
        "-Clink-arg=--emit-relocs",
    ]);
    status(c)?;
    let out = root().join("dist");
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    let built = target_dir().join(WASM_TARGET).join("wasm-release");

    // The field app: split, then its main module through wasm-bindgen.
    std::fs::create_dir_all(&out)?;
    let input = std::fs::read(built.join("client.wasm"))?;
    let split_dir = target_dir().join("wasm-split");
    std::fs::create_dir_all(&split_dir)?;
    let main_wasm = split_dir.join("client.wasm");
    let split = wasm_split_cli_support::transform({
        let mut o = wasm_split_cli_support::Options::new(&input);
        o.output_dir = &out;
        o.main_out_path = &main_wasm;
        o.main_module = "./client.js";
        o.link_name = SPLIT_LOADER;
        o
    })
    .map_err(|e| format!("splitting the field app: {e:?}"))?;
    bindgen(&main_wasm, &out, true)?;
    copy_dir(&root().join("client").join("static"), &out)?;
    let mut chunks: Vec<String> = split
        .split_modules
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    chunks.sort();
    for c in &chunks {
        strip_names(&out.join(c))?;
    }
    let chunks = stamp_chunks(&out, &chunks)?;
    let size = |f: &str| std::fs::metadata(out.join(f)).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "client built in {} ({} bytes of wasm for the first screen, {} in {} chunks loaded after it)",
        out.display(),
        size("client_bg.wasm"),
        chunks.iter().map(|c| size(c)).sum::<u64>(),
        chunks.len() - 1
    );

    // The console, whole.
    let console = out.join("console");
    std::fs::create_dir_all(&console)?;
    bindgen(&built.join("console.wasm"), &console, false)?;
    copy_dir(
        &root().join("client").join("console").join("static"),
        &console,
    )?;
    eprintln!(
        "console built in {} ({} bytes of wasm)",
        console.display(),
        size("console/console_bg.wasm")
    );
    stamp_service_worker(&out, &chunks)?;
    precompress(&out)?;
    Ok(out)
}

/// Writes every text and wasm file of `dir` brotli- (quality 11) and gzip-compressed
/// beside it (`x.wasm.br`, `x.wasm.gz`), which the server sends to browsers that accept
/// them: compressed once here, at a quality no per-request compression can afford. One
/// thread per core: quality 11 takes seconds per megabyte.
fn precompress(dir: &Path) -> Result {
    let mut files = Vec::new();
    compressible(dir, &mut files)?;
    files.sort_by_key(|f| std::cmp::Reverse(std::fs::metadata(f).map(|m| m.len()).unwrap_or(0)));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| -> std::result::Result<(), String> {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(f) = files.get(i) else {
                            return Ok(());
                        };
                        compress_one(f).map_err(|e| format!("{}: {e}", f.display()))?;
                    }
                })
            })
            .collect();
        workers.into_iter().try_for_each(|w| {
            w.join()
                .map_err(|_| "a compression thread panicked".to_string())?
        })
    })?;
    Ok(())
}

fn compressible(dir: &Path, out: &mut Vec<PathBuf>) -> Result {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let path = e.path();
        if e.file_type()?.is_dir() {
            compressible(&path, out)?;
        } else if matches!(
            path.extension().and_then(|x| x.to_str()),
            Some("wasm" | "js" | "css" | "html" | "webmanifest" | "json")
        ) {
            out.push(path);
        }
    }
    Ok(())
}

fn compress_one(path: &Path) -> std::io::Result<()> {
    use std::io::Write;
    let bytes = std::fs::read(path)?;
    let mut br = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut br, &params)?;
    std::fs::write(with_suffix(path, "br"), br)?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes)?;
    std::fs::write(with_suffix(path, "gz"), gz.finish()?)?;
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".");
    s.push(suffix);
    PathBuf::from(s)
}

/// Drops a split chunk's function names (and producer notes): the split keeps them, and
/// they would be most of what a phone downloads for the chunk (wasm-bindgen drops them
/// from the main module).
fn strip_names(path: &Path) -> Result {
    let bytes = std::fs::read(path)?;
    let mut module = wasm_encoder::Module::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        let payload = payload?;
        if let wasmparser::Payload::CustomSection(c) = &payload
            && matches!(c.name(), "name" | "producers")
        {
            continue;
        }
        if let Some((id, range)) = payload.as_section() {
            module.section(&wasm_encoder::RawSection {
                id,
                data: &bytes[range.start as usize..range.end as usize],
            });
        }
    }
    std::fs::write(path, module.finish())?;
    Ok(())
}

/// Names the chunks and their loader after this build, so a chunk is only ever loaded by
/// the main module it was cut from: a phone holding one build's main module never fetches
/// another build's chunk (which would run against the wrong memory layout), whatever the
/// caches between it and the server keep. Returns the new names, the loader's last.
fn stamp_chunks(out: &Path, chunks: &[String]) -> Result<Vec<String>> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    std::fs::read(out.join("client_bg.wasm"))?.hash(&mut h);
    for c in chunks {
        std::fs::read(out.join(c))?.hash(&mut h);
    }
    let stamp = format!("{:012x}", h.finish() & 0xffff_ffff_ffff);
    let loader_name = SPLIT_LOADER.trim_start_matches("./");
    let mut loader = std::fs::read_to_string(out.join(loader_name))?;
    let mut named = Vec::new();
    for c in chunks {
        let stem = c.trim_end_matches(".wasm");
        let new = format!("{stem}-{stamp}.wasm");
        std::fs::rename(out.join(c), out.join(&new))?;
        loader = loader.replace(&format!("\"./{c}\""), &format!("\"./{new}\""));
        named.push(new);
    }
    let new_loader = format!("__wasm_split-{stamp}.js");
    std::fs::write(out.join(&new_loader), loader)?;
    std::fs::remove_file(out.join(loader_name))?;
    let glue = std::fs::read_to_string(out.join("client.js"))?;
    std::fs::write(
        out.join("client.js"),
        // Only the JS import: the wasm's own import names stay as the split wrote them.
        glue.replace(
            &format!("from \"{SPLIT_LOADER}\""),
            &format!("from \"./{new_loader}\""),
        ),
    )?;
    named.push(new_loader);
    Ok(named)
}

/// The module the split field app imports its chunk loaders from (written by the split).
const SPLIT_LOADER: &str = "./__wasm_split.js";

/// wasm-bindgen's JS glue for one app. A split app keeps the linker's exports the chunks
/// link against, and its symbol names as the split wrote them.
fn bindgen(wasm: &Path, to: &Path, split: bool) -> Result {
    let name = wasm
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .out_name(&name)
        .web(true)?
        .omit_default_module_path(false)
        .keep_lld_exports(split)
        .demangle(!split)
        // Function names are ~1.6 MB that phones would download for nothing.
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(to)?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result {
    std::fs::create_dir_all(to)?;
    for f in std::fs::read_dir(from)? {
        let f = f?;
        if f.file_type()?.is_dir() {
            copy_dir(&f.path(), &to.join(f.file_name()))?;
        } else {
            std::fs::copy(f.path(), to.join(f.file_name()))?;
        }
    }
    Ok(())
}

/// Names the service worker's cache after a hash of every built file, so a new build is a
/// new version that phones fetch and offer to reload into, and lists the field app's
/// split chunks among the files it keeps for offline use.
fn stamp_service_worker(out: &Path, chunks: &[String]) -> Result {
    use std::hash::{DefaultHasher, Hash, Hasher};
    fn walk(dir: &Path, h: &mut DefaultHasher) -> Result {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<std::io::Result<_>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            if e.file_type()?.is_dir() {
                // The console is not part of the field app's offline shell.
                if e.file_name() != "console" {
                    walk(&e.path(), h)?;
                }
            } else if e.file_name() != "sw.js" {
                e.file_name().hash(h);
                std::fs::read(e.path())?.hash(h);
            }
        }
        Ok(())
    }
    let mut h = DefaultHasher::new();
    walk(out, &mut h)?;
    let sw = out.join("sw.js");
    let text = std::fs::read_to_string(&sw)?;
    let listed: String = chunks.iter().map(|c| format!("\n  \"/{c}\",")).collect();
    std::fs::write(
        &sw,
        text.replace("__DONGHANH_BUILD__", &format!("{:016x}", h.finish()))
            .replace("\n  // __DONGHANH_CHUNKS__", &listed),
    )?;
    Ok(())
}

fn run(extra: &[String]) -> Result {
    let dist = dist()?;
    let mut c = cargo();
    c.args(["build", "--release", "-p", "server", "--bin", "donghanh"]);
    status(c)?;
    let mut s = Command::new(target_dir().join("release").join("donghanh"));
    s.current_dir(root())
        .arg("serve")
        .arg("--demo-if-empty")
        .arg("--static-dir")
        .arg(&dist)
        .args(extra);
    status(s)
}

/// Whether something listens at the host and port of a `postgres://` URL.
fn pg_reachable(url: &str) -> bool {
    let rest = url.split("://").nth(1).unwrap_or("");
    let host_port = rest
        .rsplit('@')
        .next()
        .unwrap_or("")
        .split('/')
        .next()
        .unwrap_or("");
    let hp = if host_port.contains(':') {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    };
    hp.to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok())
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Chromium and chromedriver from Debian's packages, when missing and installable.
fn ensure_browser() -> bool {
    if have("chromedriver") && (have("chromium") || have("chromium-browser")) {
        return true;
    }
    let root_user = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if root_user && have("apt-get") {
        eprintln!("installing chromium and chromium-driver from Debian's packages");
        let ok = Command::new("sh")
            .args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver"])
            .status()
            .is_ok_and(|s| s.success());
        return ok && have("chromedriver");
    }
    false
}

/// Node.js and the npm packages of the JavaScript interop client (`tests/js`), installed
/// from the lock file.
fn ensure_js() -> Result {
    if !have("node") || !have("npm") {
        let root_user = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
        if !(root_user && have("apt-get")) {
            return Err("Node.js and npm are needed for the automerge interop test".into());
        }
        eprintln!("installing nodejs and npm from Debian's packages");
        let mut c = Command::new("sh");
        c.args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm"]);
        status(c)?;
    }
    let js = root().join("tests").join("js");
    if !js.join("node_modules/@automerge/automerge").exists() {
        let mut c = Command::new("npm");
        c.current_dir(&js)
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
        status(c)?;
    }
    Ok(())
}

/// The runner cargo starts for a wasm32 test binary: this program as
/// `wasm-bindgen-test-runner` (the library behind it, of the app's `wasm-bindgen` version,
/// is built with this program: no separate install of the tool).
fn wasm_test_runner() -> Result<String> {
    let me = std::env::current_exe()?;
    let me = me.to_str().ok_or("this program's path is not UTF-8")?;
    if me.contains(char::is_whitespace) {
        // Cargo splits a runner given in the environment at spaces.
        return Err(format!("the wasm tests' runner path holds a space: {me}").into());
    }
    Ok(format!("{me} wasm-test-runner"))
}

/// The sync core's tests compiled to WebAssembly and run in headless Chromium.
fn wasm_browser_tests() -> Result {
    let runner = wasm_test_runner()?;
    let driver = Command::new("sh")
        .args(["-c", "command -v chromedriver"])
        .output()?;
    let mut c = cargo();
    c.current_dir(root().join("shared"))
        .args([
            "test",
            "-p",
            "shared",
            "--target",
            WASM_TARGET,
            "--test",
            "wasm_sync",
        ])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner)
        .env(
            "CHROMEDRIVER",
            String::from_utf8_lossy(&driver.stdout).trim(),
        )
        .env("WASM_BINDGEN_TEST_TIMEOUT", "120");
    status(c)
}

/// Runs one step of a longer task and prints how long it took, so CI's log shows where
/// its time goes.
fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let out = f();
    eprintln!(
        "step {name}: {:.0} s{}",
        started.elapsed().as_secs_f64(),
        if out.is_ok() { "" } else { " (failed)" }
    );
    out
}

fn test(require_pg: bool) -> Result {
    let started = Instant::now();
    step("tools (wasm target, Node packages, Chromium)", || {
        ensure_wasm_target()?;
        ensure_js()
    })?;
    let browser = ensure_browser();
    let pg_url = std::env::var("DATABASE_URL_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let pg = pg_reachable(&pg_url);
    if !pg && require_pg {
        return Err(format!("PostgreSQL is required but not reachable at {pg_url}").into());
    }
    let dist = if browser {
        Some(step("web app build (cargo xtask dist)", dist)?)
    } else {
        None
    };

    let mut envs = vec![
        ("DATABASE_URL_PG".to_string(), pg_url.clone()),
        ("DONGHANH_REQUIRE_JS".into(), "1".into()),
    ];
    if pg {
        envs.push(("DONGHANH_REQUIRE_PG".into(), "1".into()));
    }
    if let Some(d) = &dist {
        envs.push(("DONGHANH_DIST".into(), d.display().to_string()));
        envs.push(("DONGHANH_REQUIRE_BROWSER".into(), "1".into()));
    }
    let mut build = cargo();
    build.arg("test").args(NATIVE_PACKAGES);
    let mut doc = cargo();
    doc.arg("test").args(NATIVE_PACKAGES).arg("--doc");
    step("workspace tests (build and run)", || {
        Ok(parallel::run(build, doc, &envs, 2)?)
    })?;
    if browser {
        step("sync core in the browser (wasm)", wasm_browser_tests)?;
    }
    // The REST fuzzing is one Python process and a server mostly waiting on it, and the
    // fuzzer runs on one core: side by side, each fills the core the other leaves idle.
    step("REST fuzzing and fuzzing, side by side", || {
        let done: std::result::Result<(), String> = std::thread::scope(|s| {
            let fuzzing = s.spawn(|| {
                step("fuzzing (cargo fuzz)", || fuzz(FUZZ_SECONDS)).map_err(|e| e.to_string())
            });
            let rest = step("REST fuzzing (schemathesis)", || {
                rest_fuzz(REST_FUZZ_EXAMPLES)
            })
            .map_err(|e| e.to_string());
            let fuzzing = fuzzing
                .join()
                .unwrap_or_else(|_| Err("the fuzzing thread panicked".into()));
            rest.and(fuzzing)
        });
        Ok(done?)
    })?;
    eprintln!(
        "all tests passed in {:.0?}: SQLite yes, PostgreSQL {}, browser {}",
        started.elapsed(),
        if pg { "yes" } else { "SKIPPED (not reachable)" },
        if browser {
            "yes"
        } else {
            "SKIPPED (no chromium/chromedriver)"
        },
    );
    Ok(())
}

/// The packages whose tests run natively (the web apps' crates are WebAssembly).
const NATIVE_PACKAGES: [&str; 7] = [
    "--workspace",
    "--exclude",
    "client",
    "--exclude",
    "console",
    "--exclude",
    "ui",
];

/// Examples schemathesis generates per operation and role in `cargo xtask test`.
const REST_FUZZ_EXAMPLES: u32 = 10;
/// The schemathesis release the REST fuzzing was written against (PyPI).
const SCHEMATHESIS_VERSION: &str = "4.32.5";
/// The demo commune's password and one user of each role.
const DEMO_PASSWORD: &str = "DongHanh@2024";
const DEMO_ROLES: [(&str, &str); 5] = [
    ("canbo01", "cadre"),
    ("congchuc", "commune officer"),
    ("chutich", "commune leader"),
    ("tinh", "province viewer"),
    ("quantri", "administrator"),
];

/// schemathesis in a Python virtual environment inside the target directory (so CI's
/// cache keeps it), installed from PyPI when missing.
fn schemathesis() -> Result<PathBuf> {
    let venv = target_dir().join("tools").join("schemathesis");
    let bin = venv.join("bin").join("schemathesis");
    let wanted = format!("schemathesis, version {SCHEMATHESIS_VERSION}");
    let installed = Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(&wanted));
    if installed {
        return Ok(bin);
    }
    let python = ["python3", "python"]
        .into_iter()
        .find(|p| have(p))
        .ok_or("Python 3 is needed for the REST fuzzing (schemathesis)")?;
    let venv_works = Command::new(python)
        .args(["-c", "import venv, ensurepip"])
        .status()
        .is_ok_and(|s| s.success());
    if !venv_works && have("apt-get") {
        eprintln!("installing python3-venv from Debian's packages");
        let mut c = Command::new("sh");
        c.args(["-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv"]);
        status(c)?;
    }
    let mut c = Command::new(python);
    c.args(["-m", "venv", "--clear"]).arg(&venv);
    status(c)?;
    let mut c = Command::new(venv.join("bin").join("pip"));
    c.args(["install", "--quiet", "--disable-pip-version-check"])
        .arg(format!("schemathesis=={SCHEMATHESIS_VERSION}"));
    status(c)?;
    Ok(bin)
}

/// One plain HTTP/1.1 request to the server at `port` (xtask needs no HTTP client):
/// the status code and the body.
fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    let code = answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("no HTTP answer to {method} {path}"))?;
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    // Answers this server throttles say when to come back.
    if code == 429 {
        let wait = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("retry-after:")
                    .map(|v| v.trim().to_string())
            })
            .and_then(|v| v.parse().ok())
            .unwrap_or(5);
        return Err(Busy(wait).into());
    }
    Ok((code, body.to_string()))
}

/// The server asked to come back after this many seconds (HTTP 429).
#[derive(Debug)]
struct Busy(u64);

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "throttled for {} s", self.0)
    }
}

impl std::error::Error for Busy {}

/// Signs `username` in to the server at `port` and returns the access token.
fn sign_in(port: u16, username: &str, device: &str) -> Result<String> {
    let body = format!(
        r#"{{"username":"{username}","password":"{DEMO_PASSWORD}","device_id":"{device}"}}"#
    );
    // The fuzzing of sign-in itself may have used up this address's attempts for a while.
    let mut tries = 0;
    let answer = loop {
        match http(port, "POST", "/api/auth/login", None, &body) {
            Err(e) if tries < 10 => match e.downcast_ref::<Busy>() {
                Some(Busy(wait)) => {
                    tries += 1;
                    std::thread::sleep(Duration::from_secs((*wait).min(120)));
                }
                None => return Err(e),
            },
            other => break other?.1,
        }
    };
    let token = answer
        .split(r#""access_token":""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| format!("signing in as {username} failed: {answer}"))?;
    Ok(token.to_string())
}

/// Operations that end the session they are called with.
const SESSION_ENDING: &str = "^/auth/logout$|/devices/[^/]+/revoke$";

/// One schemathesis run against the server at `port`, signed in with `token`, on every
/// operation but those ending the session (`--exclude-path-regex`) or on those alone
/// (`--include-path-regex`).
fn fuzz_run(port: u16, token: &str, examples: u32, ending: &str) -> Command {
    let mut c = Command::new(target_dir().join("tools/schemathesis/bin/schemathesis"));
    c.arg("run")
        .arg(format!("http://127.0.0.1:{port}/api/openapi.json"))
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args([ending, SESSION_ENDING])
        .args(["--max-examples", &examples.to_string()])
        .args(["--workers", "1", "--seed", "20261130"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args([
            "-c",
            "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        ])
        .args(["--no-color", "--output-truncate", "true"]);
    c
}

/// REST fuzzing signed in: schemathesis generates requests for every operation of
/// `/api/openapi.json` with a token of each role, each role against its own fresh copy of
/// the demo commune (one role's writes cannot hide another's answers). A failure is any
/// 5xx, an undocumented status code, or a body that does not match the documented schema.
fn rest_fuzz(examples: u32) -> Result {
    schemathesis()?;
    // The server as the tests built it: the same packages and targets give the same
    // features, so only its binary is linked here (`-p server` alone would resolve other
    // features and build the dependencies again).
    let mut c = cargo();
    c.arg("build")
        .args(NATIVE_PACKAGES)
        .args(["--bins", "--tests"]);
    status(c)?;
    let bin = target_dir().join("debug").join("donghanh");
    let work = std::env::temp_dir().join(format!("donghanh-rest-fuzz-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let demo = work.join("demo");
    std::fs::create_dir_all(&demo)?;
    let mut c = Command::new(&bin);
    c.arg("--data-dir")
        .arg(&demo)
        .arg("--database-url")
        .arg(format!("sqlite://{}/donghanh.db", demo.display()))
        .arg("demo")
        .stdout(std::process::Stdio::null());
    status(c)?;
    let started = Instant::now();
    let result = (|| -> Result {
        for (username, role) in DEMO_ROLES {
            let dir = work.join(username);
            std::fs::create_dir_all(&dir)?;
            std::fs::copy(demo.join("donghanh.db"), dir.join("donghanh.db"))?;
            let port = std::net::TcpListener::bind("127.0.0.1:0")?
                .local_addr()?
                .port();
            let mut server = Command::new(&bin)
                .arg("--data-dir")
                .arg(&dir)
                .arg("--database-url")
                .arg(format!("sqlite://{}/donghanh.db", dir.display()))
                .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
                .env("RUST_LOG", "error")
                .stdout(std::process::Stdio::null())
                .spawn()?;
            let run = (|| -> Result {
                let ready = (0..300).any(|_| {
                    std::thread::sleep(Duration::from_millis(100));
                    TcpStream::connect(("127.0.0.1", port)).is_ok()
                });
                if !ready {
                    return Err("the server did not start".into());
                }
                eprintln!("REST fuzzing as {username} ({role})");
                // Signing out and revoking a device (the fuzzer finds the session's own)
                // end the session the other operations are fuzzed with, so they run
                // last, with a session of their own.
                let token = sign_in(port, username, "rest-fuzz")?;
                status(fuzz_run(port, &token, examples, "--exclude-path-regex"))?;
                // The session must have lived through the run: otherwise most answers
                // were 401 and the run proved little.
                let (code, _) = http(port, "GET", "/api/auth/me", Some(&token), "")?;
                if code != 200 {
                    return Err(format!(
                        "the session ended during the run (GET /api/auth/me answered {code})"
                    )
                    .into());
                }
                let token = sign_in(port, username, "rest-fuzz-ending")?;
                status(fuzz_run(port, &token, examples, "--include-path-regex"))
            })();
            let _ = server.kill();
            let _ = server.wait();
            run.map_err(|e| format!("REST fuzzing as {username} ({role}): {e}"))?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&work);
    result?;
    eprintln!(
        "REST fuzzing: {} roles, no failure ({:.0?})",
        DEMO_ROLES.len(),
        started.elapsed()
    );
    Ok(())
}

/// Seconds of the bounded fuzz run in `cargo xtask test`, per target.
const FUZZ_SECONDS: u64 = 45;

/// The fuzz targets (`fuzz/`) and their committed seeds (`fuzz/seeds/<target>`): the write
/// core's (untrusted sync bytes through decoding and the admission gate) and the import's
/// (an import file through reading and the row check, each input within its budget).
const FUZZ_TARGETS: [&str; 2] = ["sync_request", "import_file"];

/// Runs one built fuzz target (`c`: `cargo fuzz run … <target>`) for `seconds` and prints
/// its output whole once it ends, so two targets run side by side do not mix their lines.
fn fuzz_one(c: &mut Command, target: &str, seconds: u64) -> std::result::Result<(), String> {
    // New inputs the fuzzer finds go to a scratch corpus, not into the committed seeds.
    let corpus =
        std::env::temp_dir().join(format!("donghanh-fuzz-{target}-{}", std::process::id()));
    std::fs::create_dir_all(&corpus).map_err(|e| e.to_string())?;
    let started = Instant::now();
    c.arg(&corpus)
        .arg(root().join("fuzz").join("seeds").join(target))
        .args([
            "--",
            &format!("-max_total_time={seconds}"),
            "-rss_limit_mb=1024",
            "-timeout=10",
        ]);
    let out = c.output();
    let _ = std::fs::remove_dir_all(&corpus);
    let out = out.map_err(|e| format!("fuzzing {target}: {e}"))?;
    eprintln!("──── fuzzing {target} ────");
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    if !out.status.success() {
        return Err(format!("fuzzing {target} failed ({})", out.status));
    }
    eprintln!(
        "fuzzing: {target} ran {seconds} s with no crash ({:.0?})",
        started.elapsed()
    );
    Ok(())
}

/// Each fuzz target run for `seconds` from its committed seeds: it must never panic,
/// abort, run an input longer than 10 s or use more than 1 GiB. Installs the nightly
/// toolchain and cargo-fuzz when missing.
fn fuzz(seconds: u64) -> Result {
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !nightly {
        let mut c = Command::new("rustup");
        c.args(["toolchain", "install", "nightly", "--profile", "minimal"]);
        status(c)?;
    }
    let has_fuzz = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_fuzz {
        let mut c = Command::new("cargo");
        // A debug build: cargo-fuzz only starts the fuzzer's build and run.
        c.args(["install", "cargo-fuzz", "--locked", "--debug"]);
        status(c)?;
    }
    // No AddressSanitizer: the targets and the code they reach are safe Rust, and what the
    // fuzzer hunts (panics, overflows, hangs, memory blow-ups) it finds without it; its
    // instrumented build took a third longer on a cold CI.
    let fuzz = |verb: &str| {
        let mut c = Command::new("cargo");
        c.current_dir(root())
            .args(["+nightly", "fuzz", verb, "--sanitizer", "none"]);
        c
    };
    // Every target built at once, then all run side by side: each fuzzer uses one core.
    status(fuzz("build"))?;
    let runs: Vec<std::result::Result<(), String>> = std::thread::scope(|s| {
        let runs: Vec<_> = FUZZ_TARGETS
            .iter()
            .map(|&target| {
                let mut c = fuzz("run");
                s.spawn(move || fuzz_one(c.arg(target), target, seconds))
            })
            .collect();
        runs.into_iter()
            .map(|r| {
                r.join()
                    .unwrap_or_else(|_| Err("a fuzzing thread panicked".into()))
            })
            .collect()
    });
    runs.into_iter()
        .collect::<std::result::Result<Vec<()>, String>>()?;
    Ok(())
}

fn lint() -> Result {
    ensure_wasm_target()?;
    step("format check", || {
        let mut c = cargo();
        c.args(["fmt", "--all", "--check"]);
        status(c)
    })?;
    step("clippy, native", || {
        let mut c = cargo();
        c.args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]);
        status(c)
    })?;
    step("clippy, wasm32", || {
        let mut c = cargo();
        c.args([
            "clippy",
            "-p",
            "client",
            "-p",
            "console",
            "-p",
            "ui",
            "-p",
            "shared",
            "--target",
            WASM_TARGET,
            "--",
            "-D",
            "warnings",
        ]);
        status(c)?;
        // The browser tests of the sync core, as WebAssembly.
        let mut c = cargo();
        c.args([
            "clippy",
            "-p",
            "shared",
            "--target",
            WASM_TARGET,
            "--test",
            "wasm_sync",
        ])
        .args(["--", "-D", "warnings"]);
        status(c)
    })
}

fn bench_app() -> Result {
    if !ensure_browser() {
        return Err("the app benchmark needs chromium and chromedriver".into());
    }
    let out = dist()?;
    let mut c = cargo();
    c.args(["bench", "-p", "tests", "--bench", "app"])
        .env("DONGHANH_DIST", out)
        .env("DONGHANH_REQUIRE_BROWSER", "1");
    status(c)
}

/// The console's benchmark: the commune dashboard and the province overview on a province
/// of 100 communes, on the server and in Chromium (`tests/benches/console.rs`).
fn bench_console() -> Result {
    if !ensure_browser() {
        return Err("the console benchmark needs chromium and chromedriver".into());
    }
    let out = dist()?;
    let mut c = cargo();
    c.args(["bench", "-p", "tests", "--bench", "console"])
        .env("DONGHANH_DIST", out)
        .env("DONGHANH_REQUIRE_BROWSER", "1");
    status(c)
}

/// The reports' benchmark: the annual report exported as XLSX for the demo commune and for
/// a province of 100 communes (`tests/benches/report.rs`).
fn bench_report() -> Result {
    let mut c = cargo();
    c.args(["bench", "-p", "tests", "--bench", "report"]);
    status(c)
}

/// The province benchmark: a commune's requests and the province's at 10 and 100 communes
/// on PostgreSQL, and the generic-plan check (`tests/benches/province.rs`).
fn bench_province() -> Result {
    let mut c = cargo();
    c.args(["bench", "-p", "tests", "--bench", "province"]);
    status(c)
}

/// `cmd` pinned to one CPU core with `taskset` when the machine has it, so the server and
/// the load generator do not share a core.
fn pinned(core: usize, program: &Path) -> Command {
    let has_taskset = Command::new("taskset").arg("-V").output().is_ok();
    if has_taskset {
        let mut c = Command::new("taskset");
        c.arg("-c").arg(core.to_string()).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// `bench sync [--postgres URL] [--binaries DIR] [sim args]`: release server(s) on a fresh demo commune
/// pinned to core 0, the simulator pinned to core 1, reading the servers' CPU time around
/// the storm. With `--postgres`, two server processes share that (emptied) database.
fn bench_sync(extra: &[String]) -> Result {
    let mut extra = extra.to_vec();
    // `--binaries DIR`: an earlier build's `donghanh` and `sim` (copied aside), to measure
    // before and after in one sitting.
    let dir = match extra.iter().position(|a| a == "--binaries") {
        Some(i) if i + 1 < extra.len() => {
            let dir = PathBuf::from(extra.remove(i + 1));
            extra.remove(i);
            dir
        }
        _ => {
            let mut c = cargo();
            c.args([
                "build",
                "--release",
                "-p",
                "server",
                "--bin",
                "donghanh",
                "-p",
                "tests",
                "--bin",
                "sim",
            ]);
            status(c)?;
            target_dir().join("release")
        }
    };
    let bin = dir.join("donghanh");
    let sim_bin = dir.join("sim");
    let pg = match extra.iter().position(|a| a == "--postgres") {
        Some(i) if i + 1 < extra.len() => {
            let url = extra.remove(i + 1);
            extra.remove(i);
            Some(url)
        }
        _ => None,
    };
    let data = std::env::temp_dir().join(format!("donghanh-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let db_url = match &pg {
        Some(url) => {
            reset_pg_database(url)?;
            url.clone()
        }
        None => format!("sqlite://{}/donghanh.db", data.display()),
    };
    std::fs::create_dir_all(&data)?;
    let mut demo = Command::new(&bin);
    demo.arg("--data-dir")
        .arg(&data)
        .arg("--database-url")
        .arg(&db_url)
        .arg("demo")
        .stdout(std::process::Stdio::null());
    status(demo)?;
    let count = if pg.is_some() { 2 } else { 1 };
    let mut servers = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..count {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = pinned(0, &bin)
            .arg("--data-dir")
            .arg(&data)
            .arg("--database-url")
            .arg(&db_url)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            // The simulated phones say their own addresses as a proxy would, so the
            // sign-in throttle sees 200 phones, not one attacker.
            .arg("--trust-proxy")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()?;
        let ready = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        servers.push(child);
        if !ready {
            for mut s in servers {
                let _ = s.kill();
            }
            return Err("the server did not start".into());
        }
        urls.push(format!("http://127.0.0.1:{port}"));
    }
    let result = (|| -> Result {
        let mut sim = pinned(1, &sim_bin);
        for u in &urls {
            sim.args(["--server", u]);
        }
        for s in &servers {
            sim.args(["--server-pid", &s.id().to_string()]);
        }
        sim.args(&extra);
        status(sim)?;
        for s in &servers {
            let proc_status = std::fs::read_to_string(format!("/proc/{}/status", s.id()))?;
            let peak = proc_status
                .lines()
                .find(|l| l.starts_with("VmHWM"))
                .unwrap_or("VmHWM: unknown");
            println!(
                "server peak memory (resident): {}",
                peak.trim_start_matches("VmHWM:").trim()
            );
        }
        Ok(())
    })();
    for mut s in servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    result?;
    let mut stats = Command::new(&bin);
    stats
        .arg("--data-dir")
        .arg(&data)
        .arg("--database-url")
        .arg(&db_url)
        .arg("storage-stats");
    status(stats)?;
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// Drops and recreates the database named in `url` (for the benchmark only).
fn reset_pg_database(url: &str) -> Result {
    let (server, name) = url
        .rsplit_once('/')
        .ok_or("a PostgreSQL URL ends with /database")?;
    for sql in [
        format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
        format!("CREATE DATABASE \"{name}\""),
    ] {
        let mut c = Command::new("psql");
        c.arg(format!("{server}/postgres")).args(["-c", &sql]);
        status(c)?;
    }
    Ok(())
}
