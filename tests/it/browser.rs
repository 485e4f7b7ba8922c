//! The web view in a real browser: tests/web/browser.py drives Debian's headless Chromium
//! through WebDriver (selenium, in a venv made from tests/web/requirements.txt). A missing
//! browser is a failure, not a skip: CI installs `chromium` and `chromium-driver`.
//!
//! The script's checks: lines appear and the view follows; scrolling up pauses and the button
//! (or End) resumes; filter, exclude, regex, case, highlight-only and level toggles; log text
//! (HTML, script, ANSI colours) is shown as text and runs nothing; a cut connection resumes
//! with no duplicate or gap; the page keeps 10,000 lines of 50,000; the source chooser; the
//! download holds the lines shown; the Stop button (confirmed) ends rtail; an ended input
//! shows "ended"; the JS heap stays flat for a minute at 10,000 lines/s. The screenshot is
//! left at `target/tmp/browser/page.png`.

use std::path::PathBuf;
use std::process::Command;

use crate::util::{self, FileLock};

#[test]
fn the_page_in_a_real_browser() {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let python = util::python_venv(
        "browser-venv",
        "tests/web/requirements.txt",
        "RTAIL_TEST_PYTHON",
        "the browser tests",
    );
    // It keeps both cores busy for a minute: not at the same time as the stress tests.
    let _one_at_a_time = FileLock::acquire(&target.join("stress.lock"));
    let out_dir = target.join("browser");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/web/browser.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg("--rtail")
        .arg(util::rtail_bin())
        .arg("--out")
        .arg(&out_dir)
        .env("SE_OFFLINE", "true")
        .output()
        .expect("run tests/web/browser.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the browser checks failed (screenshots in {}):\n{stdout}\n{stderr}",
        out_dir.display()
    );
    assert!(out_dir.join("page.png").exists(), "no screenshot was saved");
}
