//! The Python package (`python/`, issue 21): build its wheel, install it into a venv, and run the
//! pytest suite `python/tests` against the installed package.
//!
//! One test, so the wheel is built once per run:
//! 1. a venv under the cargo target dir with `python/requirements-test.txt` (pytest, maturin),
//!    made on first use and reused while that file and the base interpreter are unchanged
//!    (`RTAIL_TEST_PYTHON` names the interpreter, default `python3`);
//! 2. `maturin build --release` in `python/`, every run: cargo's own freshness check makes it
//!    well under a second when nothing changed. It builds into the usual `target/release/`, so
//!    `.cargo/config.toml` applies as for `cargo build --release` (the static binary); the wheel
//!    goes to `target/tmp/python-wheel/`;
//! 3. `pip install --force-reinstall --no-deps` of that wheel into the venv;
//! 4. `python -m pytest -q python/tests` with the venv's python (its `bin/` first on PATH, as an
//!    activated venv), from a temp dir, not `python/`, so `import rtail` is the installed package
//!    (test_packaging.py checks that). Any exit status but 0 fails, 5 (no test collected)
//!    included, with pytest's whole output. `RTAIL_PYTEST_ARGS` adds arguments (split on white
//!    space), e.g. `RTAIL_PYTEST_ARGS="-k wait_for -x" cargo test --test it python`.
//!
//! pytest runs in a process group of its own; once it exited, no process may be left in that
//! group (an rtail that outlived the Python process that started it), and a pytest still running
//! after [`PYTEST_TIMEOUT`] is killed with its group and fails the test.
//!
//! The test holds the stress tests' lock (`target/tmp/stress.lock`, tests/it/stress.rs) all along:
//! the release build keeps both cores busy, and the suite has timing assertions of its own (a
//! `fail_on` raised within 1 s), so the two do not run at the same time.
//!
//! PyPI must be reachable to make the venv; without it the test fails and says so, it does not
//! skip.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, FileLock, KillGroupOnDrop};

/// The longest the pytest suite may run before it is killed and the test fails.
const PYTEST_TIMEOUT: Duration = Duration::from_secs(600);

#[test]
fn pytest_suite_against_the_installed_wheel() {
    // One run at a time (another cargo test process), and not beside the stress tests.
    let _ours = FileLock::acquire(&target_tmp().join("python.lock"));
    let _stress = FileLock::acquire(&target_tmp().join("stress.lock"));

    let started = Instant::now();
    let venv = make_venv();
    let venv_done = started.elapsed();
    let wheel = build_wheel(&venv);
    let build_done = started.elapsed();
    install_wheel(&venv, &wheel);
    let install_done = started.elapsed();
    let summary = run_pytest(&venv);
    eprintln!(
        "python: venv {:.1?}, wheel build {:.1?}, install {:.1?}, pytest {:.1?}: {summary}",
        venv_done,
        build_done - venv_done,
        install_done - build_done,
        started.elapsed() - install_done
    );
}

fn target_tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("python")
}

/// A command with the environment every step gets: util::scrub's, nothing that would make Python
/// or pytest load other code or options, and none of what cargo sets for a test process about
/// this crate (the inner cargo of maturin must not take it for its own).
fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut cmd = Command::new(program);
    util::scrub(&mut cmd);
    for var in [
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PYTHONUSERBASE",
        "PYTHONWARNINGS",
        "PYTHONBREAKPOINT",
        "VIRTUAL_ENV",
        "PYTEST_ADDOPTS",
        "PYTEST_PLUGINS",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
        "PYTEST_THEME",
        "RTAIL_BINARY",
        "LD_LIBRARY_PATH",
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
    ] {
        cmd.env_remove(var);
    }
    for (var, _) in std::env::vars_os() {
        if var.to_str().is_some_and(|v| v.starts_with("CARGO_PKG_") || v.starts_with("CARGO_BIN_")) {
            cmd.env_remove(var);
        }
    }
    // Keep python/ free of __pycache__ (and pytest's rewritten-assertion caches).
    cmd.env("PYTHONDONTWRITEBYTECODE", "1");
    cmd.stdin(Stdio::null());
    cmd
}

/// Run to completion; panic with `what`, `hint` and the whole output if it fails.
fn run(cmd: &mut Command, what: &str, hint: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}. {hint}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what} failed ({}). {hint}\ncommand: {cmd:?}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    format!("{stdout}{stderr}")
}

/// The venv's directory, with requirements-test.txt installed: made under the cargo target dir
/// and reused while requirements-test.txt and the base interpreter are the same.
fn make_venv() -> PathBuf {
    let venv = target_tmp().join("python-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("rtail-stamp.txt");
    let requirements = python_dir().join("requirements-test.txt");
    let base = std::env::var("RTAIL_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let hint = format!(
        "The Python package's tests need Python 3.9+ with its venv module (`{base}`; set \
         RTAIL_TEST_PYTHON to use another)."
    );
    let base_version =
        run(command(&base).args(["-c", "import sys; print(sys.executable, sys.version)"]), "python", &hint);
    let wanted = format!(
        "{base_version}{}",
        fs::read_to_string(&requirements).expect("read python/requirements-test.txt")
    );
    if python.exists() && fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) {
        return venv;
    }
    let _ = fs::remove_dir_all(&venv);
    run(command(&base).args(["-m", "venv"]).arg(&venv), "python -m venv", &hint);
    run(
        command(&python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q"])
            .args(["--timeout", "20", "--retries", "2", "-r"])
            .arg(&requirements),
        "pip install -r python/requirements-test.txt",
        &format!(
            "The packages come from PyPI, which must be reachable the first time (the venv at {} \
             is reused afterwards).",
            venv.display()
        ),
    );
    fs::write(&stamp, wanted).expect("write the venv stamp");
    venv
}

/// `maturin build --release` in python/; returns the wheel, the only file in the output dir.
fn build_wheel(venv: &Path) -> PathBuf {
    let out_dir = target_tmp().join("python-wheel");
    let _ = fs::remove_dir_all(&out_dir);
    fs::create_dir_all(&out_dir).expect("create the wheel dir");
    run(
        command(venv.join("bin/maturin"))
            .args(["build", "--release", "--out"])
            .arg(&out_dir)
            .current_dir(python_dir()),
        "maturin build --release (python/pyproject.toml)",
        "",
    );
    let wheels: Vec<PathBuf> = fs::read_dir(&out_dir)
        .expect("read the wheel dir")
        .map(|e| e.expect("wheel dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    assert_eq!(wheels.len(), 1, "maturin should have built one wheel into {}: {wheels:?}", out_dir.display());
    wheels.into_iter().next().unwrap()
}

fn install_wheel(venv: &Path, wheel: &Path) {
    run(
        command(venv.join("bin/python"))
            .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q"])
            .args(["--force-reinstall", "--no-deps"])
            .arg(wheel),
        "pip install the wheel",
        "",
    );
}

/// Run the suite; returns pytest's last line. Panics with its whole output unless it exits 0.
fn run_pytest(venv: &Path) -> String {
    let workdir = tempfile::tempdir().expect("temp dir");
    let log_path = workdir.path().join("pytest.log");
    let log = File::create(&log_path).expect("create the pytest log");
    let bin = venv.join("bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path =
        std::env::join_paths(std::iter::once(bin.clone()).chain(std::env::split_paths(&path))).expect("PATH");
    let extra = std::env::var("RTAIL_PYTEST_ARGS").unwrap_or_default();

    let mut cmd = command(bin.join("python"));
    cmd.args(["-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider"])
        .args(extra.split_whitespace())
        .arg(python_dir().join("tests"))
        .current_dir(workdir.path())
        .env("PATH", path)
        .env("VIRTUAL_ENV", venv)
        .stdout(log.try_clone().expect("dup the log"))
        .stderr(log);
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot run pytest: {cmd:?}: {e}"));
    let pgid = child.id() as i32;
    let _cleanup = KillGroupOnDrop(pgid);

    let deadline = Instant::now() + PYTEST_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for pytest") {
            break Some(status);
        }
        if Instant::now() >= deadline {
            // SAFETY: kill(2) on the process group this test created.
            unsafe { libc::kill(-pgid, libc::SIGKILL) };
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = fs::read_to_string(&log_path).unwrap_or_else(|e| format!("(cannot read the log: {e})"));
    let Some(status) = status else {
        panic!("pytest python/tests still ran after {PYTEST_TIMEOUT:?} and was killed\n{output}");
    };
    match status.code() {
        Some(0) => {}
        Some(5) => panic!("pytest python/tests collected no test (exit status 5)\n{output}"),
        _ => panic!("pytest python/tests failed ({status})\n{output}"),
    }

    // rtail dies with its parent: once pytest has exited, nothing may be left in its group.
    let until = Instant::now() + Duration::from_secs(5);
    let mut left = util::live_in_group(pgid);
    while !left.is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
        left = util::live_in_group(pgid);
    }
    assert!(left.is_empty(), "processes outlived pytest (5 s after it exited): {left:#?}\n{output}");

    output.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string()
}
