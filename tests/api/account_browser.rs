//! SPEC §3.9 in a real browser: Debian's Chromium, headless, driven through
//! chromedriver (`webdriver.rs`). Sign in, see two applications, revoke one, see it
//! gone, check through introspection that its tokens are dead and the other's alive,
//! then "sign out everywhere" kills the rest. Every page is checked with axe-core (no
//! serious or critical violation). With `REVOKD_SCREENSHOTS=DIR` (SQLite run) the
//! sign-in and applications pages are saved as PNGs at desktop and phone widths:
//! `REVOKD_SCREENSHOTS=docs/screenshots cargo test --test api account_browser`.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::account::{PASSWORD, Scene};
use crate::helpers::{Backend, Server, spawn_app};
use crate::webdriver::{Browser, chromium, require};

/// axe-core's `axe.min.js`: `REVOKD_AXE_CORE`, else installed now by `.ci/axe-core`
/// (npm, into `~/.cache`, pinned by `tests/axe-core/package-lock.json`).
fn axe_core() -> Result<String, String> {
    let path = match std::env::var("REVOKD_AXE_CORE") {
        Ok(path) => path,
        Err(_) => {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/axe-core");
            let out = std::process::Command::new(script)
                .output()
                .map_err(|e| format!("cannot run {script}: {e}"))?;
            if !out.status.success() {
                return Err(format!(
                    "{script} failed: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        }
    };
    std::fs::read_to_string(&path).map_err(|e| format!("cannot read axe-core at {path}: {e}"))
}

/// Runs axe-core in the page: the serious and critical violations, described.
async fn accessibility_violations(browser: &Browser, axe: &str) -> Vec<String> {
    let script = format!(
        "{axe}\nreturn axe.run(document, {{runOnly: {{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', \
         'wcag21aa', 'best-practice']}}}}).then(r => r.violations.filter(v => v.impact === 'serious' || \
         v.impact === 'critical').map(v => v.id + ': ' + v.help + ' at ' + v.nodes.map(n => n.target.join(' ')).join(', ')));"
    );
    let found = browser.execute(&script, json!([])).await;
    found
        .as_array()
        .unwrap_or_else(|| panic!("axe-core answered {found}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn assert_accessible(browser: &Browser, axe: &str, page: &str) {
    let violations = accessibility_violations(browser, axe).await;
    assert!(violations.is_empty(), "{page}: {violations:#?}");
}

/// Saves the page at desktop and phone widths as `DIR/{name}-desktop.png` and
/// `DIR/{name}-phone.png`, when `REVOKD_SCREENSHOTS=DIR`, from the SQLite run (whose
/// domain is `acme`).
async fn screenshots(browser: &Browser, backend: Backend, name: &str) {
    let Some(dir) = std::env::var_os("REVOKD_SCREENSHOTS").map(PathBuf::from) else {
        return;
    };
    if backend != Backend::Sqlite {
        return;
    }
    let dir = if dir.is_relative() {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir)
    } else {
        dir
    };
    std::fs::create_dir_all(&dir).expect("screenshot folder");
    for (suffix, width, mobile) in [("desktop", 1100, false), ("phone", 390, true)] {
        let png = browser.screenshot(width, mobile).await;
        std::fs::write(dir.join(format!("{name}-{suffix}.png")), png).expect("screenshot written");
    }
    browser.viewport(1280, 900, 1.0, false).await;
}

/// alice at two applications, in a fresh domain; for screenshots it reads `acme` (a
/// fresh SQLite store has that name free).
async fn browser_scene(server: &Server, backend: Backend) -> Scene {
    if backend == Backend::Sqlite && std::env::var_os("REVOKD_SCREENSHOTS").is_some() {
        let answer = server.admin_post("/admin/v1/domains", json!({"name": "acme"})).await;
        assert_eq!(answer.status, 201, "{}", answer.text);
        return scene_in(server, "acme").await;
    }
    scene_in(server, &server.create_domain().await).await
}

/// The applications `mail` and `photos`, each with a sign-in of alice's.
async fn scene_in(server: &Server, domain: &str) -> Scene {
    let client = |id: &str, scopes: Value| json!({"client_id": id, "grant_types": ["password", "refresh_token"], "scopes": scopes});
    let mail = server
        .create_client(domain, client("mail", json!(["openid", "email"])))
        .await;
    let photos = server
        .create_client(
            domain,
            client("photos", json!(["openid", "profile", "offline_access", "photos:read"])),
        )
        .await;
    server.create_user(domain, "alice", PASSWORD).await;
    let at_mail = server.login(domain, &mail, "alice", PASSWORD).await;
    let at_photos = server.login(domain, &photos, "alice", PASSWORD).await;
    Scene {
        domain: domain.to_owned(),
        mail,
        photos,
        at_mail,
        at_photos,
    }
}

async fn revoke_one_then_sign_out_everywhere(backend: Backend) {
    let Some((chromium, chromedriver)) = require(chromium(), "the account page browser test") else {
        return;
    };
    let Some(axe) = require(axe_core(), "the account page browser test (axe-core)") else {
        return;
    };
    let Some(app) = spawn_app(backend).await else { return };
    let scene = browser_scene(&app, backend).await;
    // An older sign-in at mail that mail itself ended: something in "Recent activity".
    let (_, old_refresh) = app.login(&scene.domain, &scene.mail, "alice", PASSWORD).await;
    let answer = app
        .revoke(
            &scene.domain,
            &scene.mail,
            &[("token", &old_refresh), ("revoke_level", "RELATED_TOKENS")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    let browser = Browser::start(&chromium, &chromedriver)
        .await
        .unwrap_or_else(|e| panic!("Chromium: {e}"));
    let home = app.url(&format!("/account?identityDomain={}", scene.domain));

    browser.goto(&home).await;
    browser.wait_for("Sign in").await;
    assert_accessible(&browser, &axe, "sign-in").await;
    screenshots(&browser, backend, "sign-in").await;
    browser.type_into("#username", "alice").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("button[type=submit].primary").await;

    let page = browser.wait_for("Applications with access").await;
    assert!(page.contains("mail") && page.contains("photos"), "{page}");
    assert!(browser.exists("a[aria-label='Revoke access for mail']").await, "{page}");
    assert!(
        browser.exists("a[aria-label='Revoke access for photos']").await,
        "{page}"
    );
    assert_accessible(&browser, &axe, "applications").await;
    screenshots(&browser, backend, "applications").await;

    browser.click("a[aria-label='Revoke access for photos']").await;
    browser.wait_for("Revoke access for photos?").await;
    assert_accessible(&browser, &axe, "confirm revoke").await;
    browser.click("form.actions button.danger").await;
    browser.wait_for("Access revoked").await;
    assert_accessible(&browser, &axe, "revoked").await;
    browser.click("main a.button").await;
    browser.wait_for("Applications with access").await;
    assert_eq!(browser.url().await, home);
    assert!(
        !browser.exists("a[aria-label='Revoke access for photos']").await,
        "photos is gone"
    );
    assert!(browser.exists("a[aria-label='Revoke access for mail']").await);
    assert_eq!(scene.alive(&app).await, [true, true, false, false]);

    browser.click("a[href*='sign-out-everywhere']").await;
    browser.wait_for("Sign out everywhere?").await;
    assert_accessible(&browser, &axe, "confirm sign out everywhere").await;
    browser.click("form.actions button.danger").await;
    browser.wait_for("You are signed out everywhere").await;
    assert_accessible(&browser, &axe, "signed out everywhere").await;
    assert_eq!(scene.alive(&app).await, [false; 4]);
    browser.goto(&home).await;
    browser.wait_for("id=\"password\"").await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_browser_sqlite() {
    revoke_one_then_sign_out_everywhere(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_browser_postgres() {
    revoke_one_then_sign_out_everywhere(Backend::Postgres).await;
}
