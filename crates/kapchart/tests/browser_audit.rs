//! The auditor's flow in a real browser (headless Chromium over
//! WebDriver) against `kapchart serve`: a sample practice written by
//! `kapchart demo` and checkpointed by `kapchart checkpoint`; the auditor
//! lands on verification at a glance, opens a client's complete history
//! from it, the chart as it stood after an entry, the access log report
//! (filtered by user, sorted by a column heading) and the
//! controlled-substances and protocol-adherence reports, by the
//! navigation. axe-core runs on every page visited (no serious or
//! critical violation) and each is screenshotted. The access log holds
//! the auditor's reads of the client, and nothing for the pages that
//! show no record.

mod browser;

use std::collections::HashSet;

use browser::{Browser, Practice, sign_in_through_store};
use kapchart_store::access::AccessAction;

/// Runs axe-core and takes a screenshot, once per page name
/// (`target/browser-screenshots/audit-NAME.png`).
async fn check(browser: &Browser, checked: &mut HashSet<String>, name: &str) {
    if checked.insert(name.to_owned()) {
        let name = format!("audit-{name}");
        browser.axe(&name).await;
        browser.screenshot(&name).await;
    }
}

/// The `href` of the first element matching `css`.
async fn href(browser: &Browser, css: &str) -> String {
    let script = format!(
        "const a = document.querySelector({}); return a ? a.getAttribute('href') : null;",
        serde_json::to_string(css).expect("a string")
    );
    match browser.script(&script, Vec::new()).await.as_str() {
        Some(href) => href.to_owned(),
        None => panic!("no {css} on {}", browser.describe().await),
    }
}

#[tokio::test]
async fn an_auditor_verifies_reads_a_history_the_access_log_and_the_reports() {
    let practice = Practice::sqlite();
    let demo = practice.run(&["demo", "--clients", "3"]);
    assert!(
        demo.status.success(),
        "kapchart demo: {}",
        String::from_utf8_lossy(&demo.stderr)
    );
    let checkpoint = practice.run(&["checkpoint"]);
    assert!(
        checkpoint.status.success(),
        "kapchart checkpoint: {}",
        String::from_utf8_lossy(&checkpoint.stderr)
    );
    practice.create_user("au-smith", "auditor");
    let browser = Browser::open(&practice).await;
    sign_in_through_store(&browser, &practice, "au-smith", "auditor").await;
    let mut checked = HashSet::new();

    // Home: verification at a glance.
    browser.goto("/").await;
    assert_eq!(browser.path().await, "/audit");
    assert_eq!(browser.h1().await, "Verification");
    let text = browser.body_text().await;
    assert!(text.contains("Intact."), "{text}");
    assert!(
        text.contains("The latest checkpoint holds every history as it is now."),
        "{text}"
    );
    assert!(browser.exists("a[href='/audit/checkpoints.json']").await);
    check(&browser, &mut checked, "verification").await;
    let before = practice.access_log().await.len();

    // A client's complete history, from the chains table.
    let history = href(&browser, "main table a[href^='/audit/clients/']").await;
    let client = history.trim_start_matches("/audit/clients/").to_owned();
    browser.goto(&history).await;
    assert_eq!(browser.h1().await, format!("Complete history of {client}"));
    assert!(browser.exists("#entry-1").await);
    let text = browser.body_text().await;
    assert!(
        text.contains("Every entry's hash matches its content"),
        "{text}"
    );
    assert!(text.contains("The bundle holds entries 1 to"), "{text}");
    assert!(
        browser
            .exists(&format!("a[href='/audit/clients/{client}/bundle.json']"))
            .await
    );
    check(&browser, &mut checked, "history").await;

    // The chart as it stood after entry 1.
    browser
        .click_link("The chart as it stood after entry 1")
        .await;
    assert!(
        browser
            .path()
            .await
            .starts_with(&format!("/clients/{client}?as_of=")),
        "{}",
        browser.path().await
    );
    assert!(
        browser.h1().await.ends_with("chart"),
        "{}",
        browser.h1().await
    );
    check(&browser, &mut checked, "chart-as-of").await;

    // The access log report: filtered by user, sorted by action.
    browser.click_link("Access log").await;
    assert_eq!(browser.h1().await, "Access log");
    check(&browser, &mut checked, "access").await;
    browser.fill("user", "au-smith").await;
    browser.submit().await;
    assert!(
        browser.path().await.contains("user=au-smith"),
        "{}",
        browser.path().await
    );
    let users = browser.texts("main tbody tr td:nth-child(4)").await;
    assert!(!users.is_empty(), "{}", browser.body_text().await);
    assert!(users.iter().all(|u| u == "au-smith"), "{users:?}");
    browser.click_link("Action").await;
    assert!(
        browser.path().await.contains("sort=action"),
        "{}",
        browser.path().await
    );
    assert!(browser.exists("th[aria-sort='ascending']").await);
    check(&browser, &mut checked, "access-sorted").await;

    // The compliance reports, by the navigation.
    browser.click_link("Controlled substances").await;
    assert_eq!(browser.h1().await, "Controlled substances");
    assert!(
        browser.exists("main table").await,
        "{}",
        browser.body_text().await
    );
    check(&browser, &mut checked, "controlled-substances").await;
    browser.click_link("Protocol adherence").await;
    assert_eq!(browser.h1().await, "Protocol adherence");
    check(&browser, &mut checked, "protocol").await;
    browser.close().await;

    // The history and the chart were logged, as queries of the client;
    // the access log report and verification logged nothing.
    let log = practice.access_log().await;
    let mine: Vec<_> = log
        .iter()
        .skip(before)
        .filter(|r| r.entry.actor.user_id.as_str() == "au-smith")
        .collect();
    let of_client: Vec<&str> = mine
        .iter()
        .filter(|r| r.entry.client_id.as_ref().map(|c| c.as_str()) == Some(client.as_str()))
        .map(|r| r.entry.source.as_str())
        .collect();
    assert!(
        of_client
            .iter()
            .any(|s| s.starts_with(&format!("web GET /audit/clients/{client} from "))),
        "{of_client:#?}"
    );
    assert!(
        of_client
            .iter()
            .any(|s| s.starts_with(&format!("web GET /clients/{client}?as_of="))),
        "{of_client:#?}"
    );
    assert!(mine.iter().all(|r| r.entry.action == AccessAction::Query));
    assert!(
        mine.iter()
            .all(|r| !r.entry.source.contains("/audit/access")
                && !r.entry.source.starts_with("web GET /audit from")),
        "{mine:#?}"
    );
}
