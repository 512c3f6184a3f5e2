//! The admin's pages in a real browser (headless Chromium over WebDriver)
//! against `kapchart serve`: an admin signs up, adds a therapist on the
//! users page and reads the setup code shown once; the therapist signs
//! up with it; the admin sees their last sign-in, disables them, and
//! their next sign-in is refused; the admin issues a checkpoint, rotates
//! the signing key (confirmed) and issues another, signed by the new key,
//! and `kapchart verify` finds both intact; on the settings page an admin
//! sets the identity (a bad NPI marked first) and schedules a fee
//! schedule. axe-core runs on every page;
//! screenshots of each are written to target/browser-screenshots/.

mod browser;

use browser::{Browser, PASSWORD, Practice, sign_in, sign_in_through_store, sign_up};
use kapchart_store::access::AccessAction;

#[tokio::test]
async fn an_admin_adds_a_therapist_disables_them_rotates_the_key_and_issues_checkpoints() {
    let practice = Practice::sqlite();
    let admin = practice.create_user("adm-lee", "admin");
    let browser = Browser::open(&practice).await;

    // The admin's home is the users page.
    let admin_secret = sign_up(&browser, "adm-lee", admin.setup_code(), PASSWORD).await;
    assert_eq!(browser.path().await, "/admin/users");
    assert_eq!(browser.h1().await, "Users");
    browser.axe("admin-users").await;
    browser.screenshot("admin-users").await;

    // Add a therapist: the setup code is shown once, on the answer.
    browser.fill("user_id", "t-new").await;
    browser.fill("display_name", "Dana New").await;
    browser.fill("role", "therapist").await;
    browser.submit().await;
    assert_eq!(browser.h1().await, "User added");
    let setup_code = browser.text("#setup-code").await.trim().to_owned();
    assert!(setup_code.starts_with("su_"), "{setup_code:?}");
    browser.axe("admin-user-added").await;
    browser.screenshot("admin-user-added").await;
    browser.click_link("Back to the users").await;
    assert!(!browser.body_text().await.contains(&setup_code));
    browser.click_button("Sign out").await;

    // The therapist signs up with it and lands on their own home.
    let therapist_secret = sign_up(&browser, "t-new", &setup_code, PASSWORD).await;
    assert_eq!(browser.path().await, "/therapist");
    browser.click_button("Sign out").await;

    // The admin sees the sign-in and disables the account.
    sign_in(&browser, "adm-lee", PASSWORD, &admin_secret).await;
    browser.goto("/admin/users").await;
    let rows = browser.texts("tbody tr").await;
    let row = rows
        .iter()
        .find(|r| r.starts_with("t-new"))
        .unwrap_or_else(|| panic!("no row of t-new: {rows:?}"));
    assert!(
        row.contains("Password and second factor") && !row.contains("Never"),
        "{row:?}"
    );
    browser.click_button("Disable t-new").await;
    assert!(
        browser.text(".notice").await.contains("t-new is disabled"),
        "{}",
        browser.describe().await
    );
    browser.axe("admin-user-disabled").await;
    browser.screenshot("admin-user-disabled").await;
    browser.click_button("Sign out").await;

    // Their sign-in is refused on the page.
    browser.goto("/sign-in").await;
    browser.fill("user_id", "t-new").await;
    browser.fill("password", PASSWORD).await;
    browser.submit().await;
    assert!(browser.path().await.starts_with("/sign-in"));
    assert!(!browser.path().await.starts_with("/sign-in/second-factor"));
    assert!(
        browser
            .body_text()
            .await
            .contains("The user id or password is wrong."),
        "{}",
        browser.describe().await
    );
    let _ = therapist_secret;

    // Checkpoints and keys.
    sign_in(&browser, "adm-lee", PASSWORD, &admin_secret).await;
    browser.click_link("Checkpoints").await;
    assert_eq!(browser.h1().await, "Checkpoints");
    browser.axe("admin-checkpoints-empty").await;
    browser.click_button("Issue a checkpoint now").await;
    assert!(
        browser
            .text(".notice")
            .await
            .contains("Checkpoint 1 is signed")
    );
    browser.axe("admin-checkpoints").await;
    browser.screenshot("admin-checkpoints").await;
    let first_key_id = browser.text("tbody tr:first-child td:last-child").await;

    browser.click_link("Signing keys").await;
    assert_eq!(browser.h1().await, "Signing keys");
    browser.axe("admin-keys-unpublished").await;
    // Unconfirmed: refused, the box marked.
    browser.click_button("Rotate the key").await;
    assert!(browser.field_error("confirm").await.is_some());
    browser.axe("admin-keys-unconfirmed").await;
    browser.fill("confirm", "yes").await;
    browser.submit().await;
    assert!(
        browser.text(".notice").await.contains("key 2 signs"),
        "{}",
        browser.describe().await
    );
    assert_eq!(browser.texts("tbody tr").await.len(), 2);
    browser.axe("admin-keys").await;
    browser.screenshot("admin-keys").await;

    browser.click_link("Checkpoints").await;
    browser.click_button("Issue a checkpoint now").await;
    assert!(
        browser
            .text(".notice")
            .await
            .contains("Checkpoint 2 is signed")
    );
    let second_key_id = browser.text("tbody tr:first-child td:last-child").await;
    assert_ne!(first_key_id, second_key_id, "signed by the new key");
    browser.close().await;

    // Both checkpoints verify, each under its published key.
    let verify = practice.run(&["verify"]);
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    let summary = String::from_utf8_lossy(&verify.stdout);
    assert!(
        summary.contains(", 2 checkpoints and ") && summary.ends_with(": intact\n"),
        "{summary}"
    );

    // Every change is in the access log, by the admin, from the pages.
    let log = practice.access_log().await;
    let by_admin: Vec<&str> = log
        .iter()
        .filter(|r| r.entry.actor.user_id.as_str() == "adm-lee")
        .filter(|r| matches!(r.entry.action, AccessAction::Add | AccessAction::Change))
        .filter(|r| r.entry.source.starts_with("web POST /admin/"))
        .map(|r| r.entry.purpose.as_str())
        .collect();
    assert_eq!(by_admin.len(), 3, "{by_admin:#?}");
    assert_eq!(by_admin[0], "accounts: add t-new as therapist");
    assert_eq!(by_admin[1], "accounts: disable t-new and revoke its tokens");
    assert!(by_admin[2].starts_with("signing keys: rotate to key 2"));
    assert!(
        log.iter()
            .filter(|r| r.entry.actor.user_id.as_str() == "t-new")
            .any(|r| r.entry.action == AccessAction::SignInFailed
                && r.entry.purpose == "sign-in failed: account disabled")
    );
    assert!(log.iter().all(|r| !r.entry.purpose.contains(&setup_code)));
}

#[tokio::test]
async fn an_admin_sets_the_identity_and_schedules_a_fee_schedule_on_the_settings_page() {
    let practice = Practice::sqlite();
    practice.create_user("adm-lee", "admin");
    let browser = Browser::open(&practice).await;
    sign_in_through_store(&browser, &practice, "adm-lee", "admin").await;
    browser.goto("/admin/users").await;
    browser.click_link("Settings").await;
    assert_eq!(browser.h1().await, "Settings");
    assert!(browser.body_text().await.contains("Not set"));
    browser.axe("admin-settings").await;
    browser.screenshot("admin-settings").await;

    // A failed check digit: the NPI is marked, what was typed kept.
    let identity = [
        ("name", "Harbor KAP Clinic"),
        ("line1", "100 Harbor Way"),
        ("city", "San Francisco"),
        ("state", "CA"),
        ("zip", "94110"),
        ("phone", "(415) 555-0123"),
        ("tax_id", "12-3456789"),
        ("place_of_service", "11"),
        ("time_zone", "America/Los_Angeles"),
        ("npi", "1234567890"),
    ];
    for (name, value) in identity {
        browser.fill(name, value).await;
    }
    // (Two forms have an NPI: the button names which is sent.)
    browser.click_button("Set the identity").await;
    let error = browser.field_error("npi").await.unwrap_or_default();
    assert!(error.contains("check digit"), "{error:?}");
    assert_eq!(browser.field_value("name").await, "Harbor KAP Clinic");
    browser.axe("admin-settings-refused").await;
    browser.screenshot("admin-settings-refused").await;

    browser.fill("npi", "1234567893").await;
    browser.click_button("Set the identity").await;
    assert!(
        browser.text(".notice").await.contains("identity is set"),
        "{}",
        browser.describe().await
    );
    assert!(browser.body_text().await.contains("America/Los_Angeles"));

    // A fee schedule a month from now: scheduled, not yet in force.
    let from = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    browser.fill("fee_exploration", "1,250.50").await;
    browser.fill("effective_from", &from).await;
    browser.submit().await;
    assert!(
        browser
            .text(".notice")
            .await
            .contains("fee schedule version is adopted"),
        "{}",
        browser.describe().await
    );
    let text = browser.body_text().await;
    assert!(
        text.contains(&format!("Scheduled: takes effect on {from}")) && text.contains("$1250.50"),
        "{text}"
    );
    browser.axe("admin-settings-scheduled").await;
    browser.screenshot("admin-settings-scheduled").await;
    browser.close().await;
}
