//! The real-browser test harness: `kapchart serve` (the real binary) on a
//! random port over a fresh database, driven by headless Chromium through
//! ChromeDriver (WebDriver, with `fantoccini`), with axe-core run in the
//! page and screenshots written under `target/browser-screenshots/`.
//!
//! A browser test is an integration test of this crate that says
//! `mod browser;` and:
//!
//! ```ignore
//! let practice = Practice::sqlite();                  // fresh database, server started
//! let browser = Browser::open(&practice).await;       // ChromeDriver + headless Chromium
//! let user = practice.create_user("t-rivera", "therapist");
//! let secret = sign_up(&browser, "t-rivera", user.setup_code(), PASSWORD).await;
//! browser.goto("/therapist").await;
//! assert_eq!(browser.h1().await, "Today and this week");
//! browser.axe("therapist-today").await;               // zero serious or critical violations
//! browser.screenshot("therapist-today").await;        // target/browser-screenshots/therapist-today.png
//! let log = practice.access_log().await;              // every entry of the access log
//! browser.close().await;
//! ```
//!
//! Where the tools are: `KAPCHART_CHROMIUM`, `KAPCHART_CHROMEDRIVER` and
//! `KAPCHART_AXE` (set by `cargo xtask test`, which installs them), else
//! Debian's `/usr/bin/chromium` and `/usr/bin/chromedriver` and the
//! axe-core that `cargo xtask test` installs under `target/browser-tools/`.
//! A missing tool fails the test, saying what to install; nothing is
//! skipped.
//!
//! No sleeps: the server is ready when it prints its `listening on` line,
//! ChromeDriver when it prints its port and `/status` answers; a click that
//! leaves the page returns once the next page has loaded.
#![allow(dead_code, unreachable_pub)]

mod chrome;
mod evidence;
mod flows;
mod practice;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

// Each test binary uses some of these.
#[allow(unused_imports)]
pub use chrome::Browser;
#[allow(unused_imports)]
pub use flows::{
    PASSWORD, sign_in, sign_in_for, sign_in_through_store, sign_up, totp_code, totp_code_at,
    wrong_totp_code,
};
#[allow(unused_imports)]
pub use practice::{NewUser, Practice};

/// Where the browser tests' tools are.
#[derive(Debug)]
pub struct Tools {
    /// Chromium.
    pub chromium: PathBuf,
    /// ChromeDriver (the same version as Chromium).
    pub chromedriver: PathBuf,
    /// axe-core's browser bundle, injected into pages by [`Browser::axe`].
    pub axe: PathBuf,
}

/// The tools, found once per test binary; a missing one fails the test
/// with what to install.
pub fn tools() -> &'static Tools {
    static TOOLS: OnceLock<Tools> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let axe_default = target_dir()
            .join("browser-tools")
            .join("node_modules/axe-core/axe.min.js");
        Tools {
            chromium: tool(
                "KAPCHART_CHROMIUM",
                Path::new("/usr/bin/chromium"),
                "Chromium",
            ),
            chromedriver: tool(
                "KAPCHART_CHROMEDRIVER",
                Path::new("/usr/bin/chromedriver"),
                "ChromeDriver",
            ),
            axe: tool("KAPCHART_AXE", &axe_default, "axe-core (axe.min.js)"),
        }
    })
}

/// The tool named by `var`, else at `default`; panics saying how to get
/// it when it is not there.
fn tool(var: &str, default: &Path, what: &str) -> PathBuf {
    let (path, from) = match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(path) => (PathBuf::from(path), format!("named by {var}")),
        None => (default.to_owned(), format!("the default; {var} is not set")),
    };
    assert!(
        path.is_file(),
        "the browser tests need {what}, and {} ({from}) does not exist. Run the tests with \
         `cargo xtask test`, which installs Debian's chromium and chromium-driver (as root) and \
         axe-core (npm ci into target/browser-tools/) and points the tests at them, or set {var}.",
        path.display()
    );
    path
}

/// The workspace's target directory (`CARGO_TARGET_DIR` or `target/`):
/// the parent of the integration tests' `CARGO_TARGET_TMPDIR`.
pub fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).to_owned()
}

/// Where [`Browser::screenshot`] writes: `target/browser-screenshots/`.
pub fn screenshot_dir() -> PathBuf {
    target_dir().join("browser-screenshots")
}
