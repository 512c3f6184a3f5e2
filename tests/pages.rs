//! The pages' shared machinery over real HTTP on both engines: where a
//! signed-in user starts, the stylesheet, and what happens to a browser
//! with no session, a forged cookie, or a session idle past the limit.

use chrono::Duration;
use kapchart_domain::Role;
use kapchart_e2e::api::ApiApp;
use kapchart_e2e::*;
use kapchart_store::access::{self, AccessQuery};

on_both_engines!(
    each_role_starts_on_its_own_page,
    a_browser_without_a_live_session_is_sent_to_sign_in,
    an_idle_session_is_signed_out_and_logged,
    unknown_paths_get_a_page_or_json_by_where_they_are,
);

async fn each_role_starts_on_its_own_page(url: &str) {
    let app = ApiApp::spawn(url).await;
    for (id, role, home) in [
        ("t-rivera", Role::Therapist, "/therapist"),
        ("rx-chen", Role::Prescriber, "/prescriber"),
        ("fd-jones", Role::FrontDesk, "/desk"),
    ] {
        let browser = app.signed_in(id, role).await;
        let page = browser.get("/").await;
        assert_eq!(page.status, 303, "{id}");
        assert_eq!(page.location.as_deref(), Some(home), "{id}");
    }
    // Every answer forbids framing and sniffing, pages and errors alike.
    for path in [
        "/",
        "/static/kapchart.css",
        "/no/such/page",
        "/api/v1/schedule",
    ] {
        let reply = reqwest::get(format!("{}{path}", app.base))
            .await
            .expect("answers");
        let headers = reply.headers();
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .expect("ascii")
                .contains("frame-ancestors 'none'"),
            "{path}"
        );
    }
    let css = reqwest::get(format!("{}/static/kapchart.css", app.base))
        .await
        .expect("answers");
    assert_eq!(css.status().as_u16(), 200);
    assert!(
        css.text().await.expect("text").contains("@media print"),
        "the stylesheet has a print section"
    );
    app.stop().await;
}

async fn a_browser_without_a_live_session_is_sent_to_sign_in(url: &str) {
    let app = ApiApp::spawn(url).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    for cookie in [
        None,
        Some("kapchart_session=ks_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        Some("kapchart_session=kc_not-a-session"),
    ] {
        let mut request = http.get(format!("{}/", app.base));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let reply = request.send().await.expect("answers");
        assert_eq!(reply.status().as_u16(), 303, "{cookie:?}");
        assert_eq!(
            reply
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok()),
            Some("/sign-in"),
            "{cookie:?}"
        );
    }
    app.stop().await;
}

async fn an_idle_session_is_signed_out_and_logged(url: &str) {
    let app = ApiApp::spawn(url).await;
    let browser = app.signed_in("t-rivera", Role::Therapist).await;
    // Used within the limit: still signed in, and the limit restarts.
    app.at(app.now() + app.web_config.idle_limit - Duration::seconds(1));
    assert_eq!(
        browser.get("/").await.location.as_deref(),
        Some("/therapist")
    );
    app.at(app.now() + app.web_config.idle_limit - Duration::seconds(1));
    assert_eq!(
        browser.get("/").await.location.as_deref(),
        Some("/therapist")
    );
    // Past it: signed out, once, and the sign-out is in the access log.
    app.at(app.now() + app.web_config.idle_limit);
    let page = browser.get("/").await;
    assert_eq!(page.location.as_deref(), Some("/sign-in?ended=idle"));
    let page = browser.get("/").await;
    assert_eq!(page.location.as_deref(), Some("/sign-in"), "ended for good");
    let log = access::list(&app.db, &AccessQuery::default())
        .await
        .expect("access log");
    let sign_outs: Vec<_> = log
        .iter()
        .filter(|r| {
            r.entry.actor.user_id.as_str() == "t-rivera" && r.entry.purpose.contains("idle")
        })
        .collect();
    assert_eq!(sign_outs.len(), 1, "{log:#?}");
    app.stop().await;
}

async fn unknown_paths_get_a_page_or_json_by_where_they_are(url: &str) {
    let app = ApiApp::spawn(url).await;
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{}/no/such/page", app.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(page.status().as_u16(), 404);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );
    assert!(
        page.text()
            .await
            .expect("text")
            .contains("<h1>404 Not Found</h1>")
    );
    for (method, path, status, code) in [
        (
            reqwest::Method::GET,
            "/api/v1/no-such-route",
            404,
            "not_found",
        ),
        (
            reqwest::Method::DELETE,
            "/api/v1/schedule",
            405,
            "method_not_allowed",
        ),
    ] {
        let reply = http
            .request(method, format!("{}{path}", app.base))
            .send()
            .await
            .expect("answers");
        assert_eq!(reply.status().as_u16(), status, "{path}");
        let body: serde_json::Value = reply.json().await.expect("json");
        assert_eq!(body["error"]["code"], code, "{path}");
    }
    let wrong = http
        .delete(format!("{}/static/kapchart.css", app.base))
        .send()
        .await
        .expect("answers");
    assert_eq!(wrong.status().as_u16(), 405);
    app.stop().await;
}
