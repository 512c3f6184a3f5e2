//! What a browser test leaves as evidence: axe-core's findings on a page
//! (a failing check names every serious or critical violation with its
//! nodes) and screenshots and PDFs under `target/browser-screenshots/`.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::chrome::{HEIGHT, WIDTH};
use super::{Browser, screenshot_dir, tools};

/// The tallest full-page screenshot.
const MAX_SCREENSHOT_HEIGHT: u32 = 12_000;

impl Browser {
    /// Runs axe-core in the page and fails on any violation of impact
    /// serious or critical, printing each with its nodes (and keeping a
    /// screenshot `axe-failed-PAGE.png`). Lesser violations are printed.
    pub async fn axe(&self, page_name: &str) {
        let blocking = self.axe_violations(page_name).await;
        if !blocking.is_empty() {
            let path = self.path().await;
            self.screenshot(&format!("axe-failed-{page_name}")).await;
            let report: Vec<String> = blocking.iter().map(describe_violation).collect();
            panic!(
                "axe: {} serious or critical violation(s) on {page_name} ({path}):\n{}",
                blocking.len(),
                report.join("\n")
            );
        }
    }

    /// Runs axe-core (injected from `axe.min.js`) in the page: the
    /// violations of impact serious or critical, each with its rule `id`,
    /// `impact`, `help`, `helpUrl` and `nodes` (`target`, `html`,
    /// `summary`). Lesser violations are printed, not returned.
    pub async fn axe_violations(&self, page_name: &str) -> Vec<Value> {
        let loaded = self
            .script(
                &format!("{}\nreturn typeof window.axe;", axe_source()),
                vec![],
            )
            .await;
        assert_eq!(
            loaded,
            json!("object"),
            "axe-core did not load in {page_name}"
        );
        let result = self
            .client()
            .execute_async(AXE_RUN, vec![])
            .await
            .unwrap_or_else(|e| panic!("axe.run on {page_name}: {e}"));
        if let Some(error) = result.get("error") {
            panic!("axe.run failed on {page_name}: {error}");
        }
        let violations = result["violations"].as_array().cloned().unwrap_or_default();
        let (blocking, lesser): (Vec<Value>, Vec<Value>) = violations
            .into_iter()
            .partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));
        for v in &lesser {
            eprintln!(
                "axe: {page_name}: {} ({}): {}",
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or("")
            );
        }
        blocking
    }

    /// Writes a screenshot of the whole page (not only the window) to
    /// `target/browser-screenshots/NAME.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let height = self
            .script(
                "return Math.ceil(Math.max(document.documentElement.scrollHeight, \
                 document.body ? document.body.scrollHeight : 0));",
                vec![],
            )
            .await
            .as_u64()
            .and_then(|h| u32::try_from(h).ok())
            .unwrap_or(HEIGHT)
            .clamp(HEIGHT, MAX_SCREENSHOT_HEIGHT);
        self.client()
            .set_window_size(WIDTH, height)
            .await
            .expect("resizing the window");
        let png = self.client().screenshot().await.expect("a screenshot");
        self.client()
            .set_window_size(WIDTH, HEIGHT)
            .await
            .expect("resizing the window");
        write_artifact(name, "png", &png)
    }

    /// Prints the page to PDF (as its print stylesheet lays it out) at
    /// `target/browser-screenshots/NAME.pdf`; returns its path.
    pub async fn print_pdf(&self, name: &str) -> PathBuf {
        let pdf = self
            .client()
            .print(fantoccini::wd::PrintConfiguration::default())
            .await
            .expect("printing the page");
        write_artifact(name, "pdf", &pdf)
    }
}

/// `axe.run` on the document, answering the violations with their nodes.
const AXE_RUN: &str = r"
const done = arguments[arguments.length - 1];
window.axe.run(document, { resultTypes: ['violations'] })
  .then((r) => done({
    violations: r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, summary: n.failureSummary })),
    })),
  }))
  .catch((e) => done({ error: String((e && e.stack) || e) }));
";

/// axe-core's browser bundle, read once.
fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = &tools().axe;
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    })
}

/// A violation as lines: rule, impact, help, and each node.
fn describe_violation(v: &Value) -> String {
    let mut text = format!(
        "- {} ({}): {} <{}>",
        v["id"].as_str().unwrap_or("?"),
        v["impact"].as_str().unwrap_or("?"),
        v["help"].as_str().unwrap_or(""),
        v["helpUrl"].as_str().unwrap_or("")
    );
    for node in v["nodes"].as_array().into_iter().flatten() {
        text.push_str(&format!(
            "\n    at {}: {}\n      {}",
            node["target"],
            node["html"].as_str().unwrap_or(""),
            node["summary"]
                .as_str()
                .unwrap_or("")
                .replace('\n', "\n      ")
        ));
    }
    text
}

/// `name` made safe as a file name.
fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn write_artifact(name: &str, extension: &str, bytes: &[u8]) -> PathBuf {
    let dir = screenshot_dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let path = dir.join(format!("{}.{extension}", file_name(name)));
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    path
}
