//! The admin's settings page over real HTTP on both engines: the standard
//! versions listed; the identity, a provider, a policy version and a fee
//! schedule version set through the forms (a local time converted in the
//! practice's time zone, dollars to exact cents, a resubmission applied
//! once) and shown with what takes effect when; a bad NPI named with the
//! typed values kept; a change that would reach back refused by its rule;
//! other roles and forms without the CSRF token refused; a refusal writes
//! nothing.

use kapchart_domain::Role;
use kapchart_e2e::api::{ApiApp, ok};
use kapchart_e2e::pages::{Page, PageClient};
use kapchart_e2e::*;

on_both_engines!(
    the_forms_change_the_settings_and_the_page_shows_what_takes_effect_when,
    bad_values_and_retroactive_changes_are_refused_and_write_nothing,
    other_roles_and_forms_without_the_csrf_token_are_refused,
);

const IDENTITY: [(&str, &str); 11] = [
    ("name", "Harbor KAP Clinic"),
    ("line1", "100 Harbor Way"),
    ("line2", "Suite 2"),
    ("city", "San Francisco"),
    ("state", "CA"),
    ("zip", "94110"),
    ("phone", "(415) 555-0123"),
    ("npi", "1234567893"),
    ("tax_id", "12-3456789"),
    ("place_of_service", "11"),
    ("time_zone", "America/Los_Angeles"),
];

const PROVIDER: [(&str, &str); 8] = [
    ("user", "t-rivera"),
    ("role", "therapist"),
    ("name", "Sam Rivera"),
    ("credentials", "LMFT"),
    ("npi", "1245319599"),
    ("licence_number", "LMFT-12345"),
    ("licence_state", "CA"),
    ("active", "yes"),
];

/// A policy from `date` at `time` (the practice's local time).
fn policy<'a>(date: &'a str, time: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("effective_date", date),
        ("effective_time", time),
        ("bp_systolic", "135"),
        ("bp_diastolic", "88"),
        ("min_days_between_explorations", "10"),
        ("integration_window_days", "5"),
        ("max_explorations", "6"),
        ("idle_sign_out_minutes", "20"),
    ]
}

/// A fee schedule from `date`: explorations $1,250.50 with two codes.
fn fees(date: &str) -> Vec<(&str, &str)> {
    vec![
        ("effective_from", date),
        ("fee_intake", "200"),
        ("codes_intake", "90791"),
        ("fee_preparation", "150.00"),
        ("codes_preparation", "90837"),
        ("fee_exploration", "$1,250.50"),
        ("codes_exploration", "90837, 99354"),
        ("fee_integration", "180.5"),
        ("codes_integration", "90837"),
        ("fee_ongoing_care", "175"),
        ("codes_ongoing_care", ""),
    ]
}

/// The hidden command id of `form` on a rendered page.
fn command_id(page: &Page, form: &str) -> String {
    let at = page
        .html
        .find(&format!("action=\"/admin/settings/{form}\""))
        .expect("the form");
    let rest = &page.html[at..];
    let marker = "name=\"command_id\" value=\"";
    let start = rest.find(marker).expect("a command id") + marker.len();
    rest[start..].chars().take_while(|c| *c != '"').collect()
}

/// Posts `fields` to the settings form `form`; it must redirect back.
async fn change(admin: &PageClient, form: &str, fields: &[(&str, &str)]) {
    let page = admin.post(&format!("/admin/settings/{form}"), fields).await;
    assert_eq!(page.status, 303, "{form}: {}", page.html);
    assert_eq!(
        page.location.as_deref(),
        Some(format!("/admin/settings?done={form}").as_str())
    );
}

async fn the_forms_change_the_settings_and_the_page_shows_what_takes_effect_when(url: &str) {
    let app = ApiApp::spawn(url).await;
    app.on(0);
    let admin = app.signed_in("adm-lee", Role::Admin).await;
    let token = app.user("adm-api", Role::Admin).await;

    // The standard settings: version 1 of each, in force; no identity.
    let page = admin.get("/admin/settings").await;
    assert_eq!(page.status, 200, "{}", page.html);
    page.shows("<h1>Settings</h1>")
        .shows("href=\"/admin/settings\"")
        .shows("Not set")
        .shows("<h2 id=\"policies-now\">Policy versions</h2>")
        .shows("<th scope=\"row\">1</th>")
        .shows("In force")
        .shows("140/90")
        .shows("$175.00")
        .shows("No change is recorded yet")
        .shows("name=\"csrf\"")
        .hides("takes effect on");

    change(&admin, "identity", &IDENTITY).await;
    let page = admin.get("/admin/settings?done=identity").await;
    page.shows("The practice&#39;s identity is set.")
        .shows("Harbor KAP Clinic")
        .shows("100 Harbor Way, Suite 2, San Francisco, CA 94110")
        .shows("415-555-0123")
        .shows("America/Los_Angeles")
        .shows("PracticeIdentitySet")
        .shows("adm-lee");

    change(&admin, "provider", &PROVIDER).await;
    admin
        .get("/admin/settings")
        .await
        .shows("Sam Rivera")
        .shows("1245319599")
        .shows("LMFT-12345 (CA)")
        .shows("ProviderSet");

    // 09:00 on 2026-01-08 in Los Angeles is 17:00 UTC.
    change(&admin, "policy", &policy("2026-01-08", "09:00")).await;
    // Explorations at $1,250.50: exactly 125050 cents.
    let form = admin.get("/admin/settings").await;
    let id = command_id(&form, "fees");
    let mut fields = fees("2026-01-09");
    fields.push(("command_id", &id));
    change(&admin, "fees", &fields).await;
    // The same form sent again is the same change: applied once.
    let events = app.events().await;
    change(&admin, "fees", &fields).await;
    assert_eq!(app.events().await, events);

    let page = admin.get("/admin/settings").await;
    page.shows("Scheduled: takes effect on 2026-01-08 09:00 PST")
        .shows("135/88")
        .shows("Scheduled: takes effect on 2026-01-09")
        .shows("$1250.50 (90837, 99354)")
        .shows("$175.00 (no codes)")
        .shows("PolicyAdopted")
        .shows("FeeScheduleAdopted");

    let r = app.get(&token, "/api/v1/practice").await;
    ok(&r, "settings");
    assert_eq!(
        r.body["policies"][1]["effective_from"],
        "2026-01-08T17:00:00Z"
    );
    assert_eq!(r.body["policies"][1]["bp_threshold"]["systolic"], 135);
    assert_eq!(r.body["policies"][1]["idle_sign_out_minutes"], 20);
    assert_eq!(r.body["fee_schedules"][1]["exploration"], 125_050);
    assert_eq!(r.body["fee_schedules"][1]["integration"], 18_050);
    assert_eq!(
        r.body["fee_schedules"][1]["codes"]["exploration"],
        serde_json::json!(["90837", "99354"])
    );
    assert_eq!(r.body["providers"][0]["npi"], "1245319599");
    let history = app.get(&token, "/api/v1/practice/history").await;
    ok(&history, "history");
    assert_eq!(history.body.as_array().map(Vec::len), Some(4));

    // Once the day comes, the fee schedule is the one in force.
    // (The session has been idle for days: a new one.)
    app.on(4);
    let admin = app.signed_in("adm-kim", Role::Admin).await;
    let page = admin.get("/admin/settings").await;
    page.hides("Scheduled: takes effect on 2026-01-09")
        .shows("Superseded");
    app.stop().await;
}

async fn bad_values_and_retroactive_changes_are_refused_and_write_nothing(url: &str) {
    let app = ApiApp::spawn(url).await;
    app.on(0);
    let admin = app.signed_in("adm-lee", Role::Admin).await;
    let before = app.events().await;

    // A failed check digit: named by its field, the typed values kept.
    let mut identity = IDENTITY.to_vec();
    identity[7] = ("npi", "1234567890");
    let page = admin.post("/admin/settings/identity", &identity).await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("Organizational NPI: ")
        .shows("check digit")
        .shows("role=\"alert\" id=\"identity-error\"")
        .shows("aria-invalid=\"true\" aria-describedby=\"identity-error\"")
        .shows("value=\"1234567890\"")
        .shows("value=\"Harbor KAP Clinic\"")
        .shows("value=\"100 Harbor Way\"");
    assert_eq!(app.events().await, before);

    // An amount that is not dollars and cents, and a bad CPT code: named.
    let mut bad = fees("2026-01-09");
    bad[1] = ("fee_intake", "12.345");
    let page = admin.post("/admin/settings/fees", &bad).await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("Intake fee: Enter an amount in dollars and cents")
        .shows("value=\"12.345\"");
    let mut bad = fees("2026-01-09");
    bad[6] = ("codes_exploration", "90837, nope");
    let page = admin.post("/admin/settings/fees", &bad).await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("Exploration CPT codes: ")
        .shows("value=\"90837, nope\"");
    // A policy number that is not a whole number.
    let mut bad = policy("2026-01-08", "09:00");
    bad[6] = ("max_explorations", "six");
    let page = admin.post("/admin/settings/policy", &bad).await;
    assert_eq!(page.status, 400, "{}", page.html);
    page.shows("Dosed explorations, at most: Enter a whole number.");
    assert_eq!(app.events().await, before);

    // Fees from today (a day already begun): the rule refuses it.
    let page = admin
        .post("/admin/settings/fees", &fees("2026-01-05"))
        .await;
    assert_eq!(page.status, 422, "{}", page.html);
    page.shows("settings.retroactive")
        .shows("never from a day already begun")
        .shows("value=\"2026-01-05\"")
        .shows("value=\"$1,250.50\"");
    // A policy from this morning (UTC until the identity is set).
    let page = admin
        .post("/admin/settings/policy", &policy("2026-01-05", "09:00"))
        .await;
    assert_eq!(page.status, 422, "{}", page.html);
    page.shows("settings.retroactive");
    assert_eq!(app.events().await, before);
    app.stop().await;
}

async fn other_roles_and_forms_without_the_csrf_token_are_refused(url: &str) {
    let app = ApiApp::spawn(url).await;
    app.on(0);
    let admin = app.signed_in("adm-lee", Role::Admin).await;
    let before = app.events().await;
    let forms: [(&str, Vec<(&str, &str)>); 4] = [
        ("identity", IDENTITY.to_vec()),
        ("provider", PROVIDER.to_vec()),
        ("policy", policy("2026-01-08", "09:00")),
        ("fees", fees("2026-01-09")),
    ];
    for (id, role) in [
        ("t-one", Role::Therapist),
        ("p-one", Role::Prescriber),
        ("fd-one", Role::FrontDesk),
        ("au-one", Role::Auditor),
    ] {
        let other = app.signed_in(id, role).await;
        let page = other.get("/admin/settings").await;
        assert_eq!(page.status, 403, "{id}");
        for (form, fields) in &forms {
            let page = other.post(&format!("/admin/settings/{form}"), fields).await;
            assert_eq!(page.status, 403, "{id} {form}");
        }
        other.get("/").await.hides("href=\"/admin/settings\"");
    }
    // Without the session's CSRF token, or with a wrong one.
    for (form, fields) in &forms {
        let path = format!("/admin/settings/{form}");
        let page = admin.post_raw(&path, fields).await;
        assert_eq!(page.status, 403, "{form}");
        let mut wrong = vec![("csrf", "wrong")];
        wrong.extend_from_slice(fields);
        let page = admin.post_raw(&path, &wrong).await;
        assert_eq!(page.status, 403, "{form}");
    }
    assert_eq!(app.events().await, before);
    app.stop().await;
}
