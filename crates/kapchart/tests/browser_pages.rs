//! The pages every visitor meets, in a real browser (headless Chromium
//! over WebDriver) against `kapchart serve`: where a browser without a
//! session lands, the error page with the stylesheet applied (axe-core,
//! keyboard focus, screenshots), and a session given to the browser.
//!
//! Needs Chromium, ChromeDriver and axe-core: `cargo xtask test` installs
//! them (see `tests/browser/mod.rs`).

mod browser;

use browser::{Browser, Practice, screenshot_dir, sign_in_through_store};
use kapchart_store::access::AccessAction;
use serde_json::json;

/// A browser with no session that opens the practice's address lands on
/// the sign-in page.
#[tokio::test]
async fn a_browser_without_a_session_is_sent_to_sign_in() {
    let practice = Practice::sqlite();
    let browser = Browser::open(&practice).await;
    browser.goto("/").await;
    assert_eq!(browser.path().await, "/sign-in");
    browser.close().await;
}

/// A path that is no page shows the error page, not JSON: one `<h1>`
/// naming the status, the message as an alert, a way back, the
/// stylesheet applied; axe-core finds no serious or critical violation;
/// the first Tab focuses the skip link, which shows with a visible focus
/// ring; the screenshot is written.
#[tokio::test]
async fn the_error_page_is_styled_accessible_and_keyboard_usable() {
    let practice = Practice::sqlite();
    let browser = Browser::open(&practice).await;
    browser.goto("/no-such-page").await;

    assert_eq!(browser.h1().await, "404 Not Found");
    assert_eq!(browser.title().await, "404 Not Found · kapchart");
    assert_eq!(browser.find_all("h1").await.len(), 1);
    let alert = browser.text("[role=alert]").await;
    assert!(alert.starts_with("There is no"), "{alert:?}");
    assert!(browser.exists("main a[href=\"/\"]").await);
    let lang = browser
        .script("return document.documentElement.lang;", vec![])
        .await;
    assert_eq!(lang, json!("en"));

    // The embedded stylesheet loaded and applies: the body's text has the
    // stylesheet's ink colour (#1b1f24), not the browser's black.
    let styled = browser
        .script(
            "const sheets = [...document.styleSheets];
             return {
               sheets: sheets.map((s) => new URL(s.href).pathname),
               rules: sheets.reduce((n, s) => n + s.cssRules.length, 0),
               ink: getComputedStyle(document.body).color,
             };",
            vec![],
        )
        .await;
    assert_eq!(styled["sheets"], json!([kapchart_web::STYLESHEET_PATH]));
    assert!(styled["rules"].as_u64().unwrap_or(0) > 10, "{styled}");
    assert_eq!(styled["ink"], json!("rgb(27, 31, 36)"));

    browser.axe("error-404").await;
    let shot = browser.screenshot("error-404").await;
    assert!(shot.starts_with(screenshot_dir()));
    assert_png(&shot);

    // Keyboard: the first Tab lands on the skip link, shown on screen with
    // the focus ring.
    browser.press_tab().await;
    let (tag, text, href) = browser.focused().await;
    assert_eq!(
        (tag.as_str(), text.as_str(), href.as_deref()),
        ("a", "Skip to main content", Some("#main"))
    );
    let focus = browser
        .script(
            "const a = document.activeElement;
             const style = getComputedStyle(a);
             const box = a.getBoundingClientRect();
             return { outline: style.outlineStyle, width: style.outlineWidth, top: box.top };",
            vec![],
        )
        .await;
    assert_eq!(focus["outline"], json!("solid"), "{focus}");
    assert_eq!(focus["width"], json!("3px"), "{focus}");
    assert!(
        focus["top"].as_f64().unwrap_or(-1.0) >= 0.0,
        "on screen: {focus}"
    );
    browser.screenshot("error-404-skip-link-focused").await;
    browser.close().await;
}

/// The JSON API keeps its JSON 404 for paths under /api, beside the
/// pages' HTML one.
#[tokio::test]
async fn an_unknown_api_path_is_still_json() {
    let practice = Practice::sqlite();
    let response = reqwest::get(format!("{}/api/v1/nothing", practice.base()))
        .await
        .expect("the server answers");
    assert_eq!(response.status().as_u16(), 404);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], json!("not_found"));
    let response = reqwest::get(format!("{}/nothing", practice.base()))
        .await
        .expect("the server answers");
    assert_eq!(response.status().as_u16(), 404);
    let kind = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(kind.starts_with("text/html"), "{kind}");
}

/// The harness's own pieces: `kapchart user add` makes the account (its
/// token printed, the change in the access log), and a browser given a
/// session for it is taken from `/` to the home page of its role; on
/// SQLite and on PostgreSQL.
async fn a_browser_with_a_session_goes_to_its_roles_home(practice: Practice) {
    let user = practice.create_user("fd-jones", "front_desk");
    assert!(user.token.starts_with("kc_"), "{user:?}");
    let log = practice.access_log().await;
    assert!(
        log.iter().any(|r| r.entry.action == AccessAction::Add
            && r.entry.source == "cli user add"
            && r.entry.actor.user_id.as_str() == "local-kc-browser"),
        "{log:#?}"
    );

    let browser = Browser::open(&practice).await;
    sign_in_through_store(&browser, &practice, "fd-jones", "front_desk").await;
    browser.goto("/").await;
    assert_eq!(
        browser.path().await,
        kapchart_web::page::home_of(kapchart_domain::Role::FrontDesk)
    );
    browser.close().await;
}

#[tokio::test]
async fn a_browser_with_a_session_goes_to_its_roles_home_sqlite() {
    a_browser_with_a_session_goes_to_its_roles_home(Practice::sqlite()).await;
}

#[tokio::test]
async fn a_browser_with_a_session_goes_to_its_roles_home_postgres() {
    let db = kapchart_testkit::postgres().await;
    // The server is stopped (the practice dropped) before the database
    // is removed.
    a_browser_with_a_session_goes_to_its_roles_home(Practice::on(&db.url)).await;
    db.cleanup().await;
}

/// A PNG file: its signature.
fn assert_png(path: &std::path::Path) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 1000,
        "{} is not a PNG",
        path.display()
    );
}

/// axe-core really runs in the page: an image without a text alternative
/// and an unlabelled field, added to the error page, are found (rules
/// `image-alt` and `label`, critical), with the offending nodes.
#[tokio::test]
async fn axe_finds_what_a_page_gets_wrong() {
    let practice = Practice::sqlite();
    let browser = Browser::open(&practice).await;
    browser.goto("/no-such-page").await;
    browser
        .script(
            "const main = document.querySelector('main');
             main.insertAdjacentHTML('beforeend',
               '<img src=\"/static/kapchart.css\" id=\"bad-image\">' +
               '<form><input type=\"text\" id=\"bad-field\"></form>');",
            vec![],
        )
        .await;
    let violations = browser.axe_violations("error-404-broken").await;
    let found: Vec<(&str, String)> = violations
        .iter()
        .map(|v| (v["id"].as_str().unwrap_or("?"), v["nodes"].to_string()))
        .collect();
    for (rule, node) in [("image-alt", "#bad-image"), ("label", "#bad-field")] {
        assert!(
            found
                .iter()
                .any(|(id, nodes)| *id == rule && nodes.contains(node)),
            "{rule} on {node} not found: {found:?}"
        );
    }
    browser.close().await;
}

/// The harness fills every kind of field as a person would and submits the
/// form, waiting for the next page: a form (GET, so the next page's
/// address shows what was sent) added to the error page, with a text
/// field, a text area, a select, radio buttons, a checkbox, date and time
/// fields, and a field marked invalid with its error.
#[tokio::test]
async fn the_harness_fills_and_submits_forms_as_a_person_would() {
    let practice = Practice::sqlite();
    let browser = Browser::open(&practice).await;
    browser.goto("/no-such-page").await;
    browser
        .script(
            r#"document.querySelector('main').insertAdjacentHTML('beforeend', `
              <form method="get" action="/sent">
                <label for="f-name">Name</label>
                <input id="f-name" name="name" value="typed over"
                       aria-invalid="true" aria-describedby="f-name-error">
                <p id="f-name-error">Name: too short</p>
                <label for="f-note">Note</label><textarea id="f-note" name="note"></textarea>
                <label for="f-kind">Kind</label>
                <select id="f-kind" name="kind">
                  <option value="a">Alpha</option><option value="b">Beta</option>
                </select>
                <fieldset><legend>Route</legend>
                  <input type="radio" id="f-oral" name="route" value="oral" checked>
                  <label for="f-oral">Oral</label>
                  <input type="radio" id="f-im" name="route" value="im">
                  <label for="f-im">IM</label>
                </fieldset>
                <input type="checkbox" id="f-ok" name="ok" value="yes"><label for="f-ok">OK</label>
                <label for="f-day">Day</label><input type="date" id="f-day" name="day">
                <label for="f-at">At</label><input type="time" id="f-at" name="at">
                <button type="submit">Send</button>
              </form>`);"#,
            vec![],
        )
        .await;
    assert_eq!(
        browser.field_error("name").await.as_deref(),
        Some("Name: too short")
    );
    assert_eq!(browser.field_error("note").await, None);
    browser.fill("name", "Ada Lovelace").await;
    browser.fill("note", "two\nlines").await;
    browser.fill("kind", "Beta").await;
    browser.fill("route", "im").await;
    browser.fill("ok", "yes").await;
    browser.fill("day", "2026-03-01").await;
    browser.fill("at", "14:30").await;
    assert_eq!(browser.field_value("route").await, "im");
    assert_eq!(browser.field_value("day").await, "2026-03-01");
    browser.submit().await;
    assert_eq!(
        browser.path().await,
        "/sent?name=Ada+Lovelace&note=two%0D%0Alines&kind=b&route=im&ok=yes&day=2026-03-01&at=14%3A30"
    );
    assert_eq!(browser.h1().await, "404 Not Found");
    browser.close().await;
}

/// The harness's TOTP codes are RFC 6238's (its SHA-1 test vector: the
/// secret "12345678901234567890" at 59 s gives 94287082, of which an
/// authenticator shows the last six digits), and its wrong code is none of
/// the codes of now and the steps either side.
#[test]
fn the_harness_computes_rfc_6238_codes() {
    let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // base32 of "12345678901234567890"
    assert_eq!(browser::totp_code_at(secret, 59), "287082");
    assert_eq!(browser::totp_code_at(secret, 1_111_111_109), "081804");
    let wrong = browser::wrong_totp_code(secret);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    for t in [now - 30, now, now + 30] {
        assert_ne!(wrong, browser::totp_code_at(secret, t));
    }
    assert_eq!(wrong.len(), 6);
}
