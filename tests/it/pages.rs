//! The HTML pages in headless Chromium (Debian's `chromium`): the overview
//! and a ccTLD page load, every link on them works, and the test produces
//! screenshots of both (in `target/screenshots/`). `tests/run` installs
//! Chromium; without it this test skips, saying so, except in CI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;
use rootguard::lab::{Lab, load_dir};

fn chromium() -> Option<&'static str> {
    for c in ["chromium", "chromium-browser"] {
        if Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(c);
        }
    }
    crate::support::skip("chromium is not installed (bash tests/run installs it)")
}

fn headless(browser: &str, profile: &Path, args: &[&str], url: &str) -> std::process::Output {
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .unwrap()
}

fn hrefs(dom: &str) -> Vec<String> {
    dom.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

async fn pages_load_links_work_and_screenshots_are_taken() {
    let Some(browser) = chromium() else { return };
    let root = RootZone::new()
        .tld("xa", &[("ns1", "127.90.1.1"), ("ns2", "127.91.1.1")])
        .tld("xg", &[("ns1", "127.90.2.1"), ("ns2", "127.91.2.1")]);
    let (dir, port) = lab_dir(
        &root,
        "[server.\"ns1.xg.\"]\nsilent = true\n[server.\"ns2.xg.\"]\nsilent = true\n",
        None,
    );
    let (spec, zone) = load_dir(dir.path()).unwrap();
    let lab = Lab::start(spec, &zone).await.unwrap();
    let d = dir.path();
    std::fs::write(d.join("profile.toml"), "disable = [\"ADDRESS-SCOPE\"]\n").unwrap();
    let config = d.join("rootguard.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{}\"\nprofile = \"{}\"\n[zone]\nfile = \"{}\"\n[sweep]\ninterval_secs = 1\n[probe]\nport = {port}\nudp_timeout_ms = 300\nudp_retries = 1\ntcp_timeout_ms = 400\n[policy]\npersist_sweeps = 2\nclear_sweeps = 2\n[http]\nlisten = \"127.0.0.1:0\"\n{}",
            d.join("r.sqlite").display(),
            d.join("profile.toml").display(),
            d.join("root.zone").display(),
            crate::support::OPERATOR_TOKEN
        ),
    )
    .unwrap();
    let daemon = start_daemon(&config);
    let base = daemon.base.clone();
    let client = reqwest::Client::new();
    // Wait until .xg is suspended, so the pages show a complaint and a suspension.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let body = client
            .get(format!("{base}/api/v1/suspensions"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if body.contains("hold-delegation") {
            break;
        }
        assert!(Instant::now() < deadline, "no suspension: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let profile = tempfile::tempdir().unwrap();
    let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for (page, name, must) in [
        ("/", "overview", ".xg"),
        ("/tld/xg", "tld-xg", "HoldDelegation"),
    ] {
        let url = format!("{base}{page}");
        let dom = headless(browser, profile.path(), &["--dump-dom"], &url);
        let dom = String::from_utf8_lossy(&dom.stdout).into_owned();
        assert!(dom.contains(must), "{page} lacks {must}: {dom}");
        let links = hrefs(&dom);
        assert!(!links.is_empty(), "{page} has no links");
        for link in links {
            let target = if link.starts_with('/') {
                format!("{base}{link}")
            } else {
                link.clone()
            };
            let status = client.get(&target).send().await.unwrap().status();
            assert!(status.is_success(), "{page}: link {link} gives {status}");
        }
        let file = shots.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&file);
        let out = headless(
            browser,
            profile.path(),
            &[
                "--window-size=1280,900",
                &format!("--screenshot={}", file.display()),
            ],
            &url,
        );
        let png = std::fs::read(&file).unwrap_or_else(|_| {
            panic!(
                "no screenshot of {page}: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 5_000,
            "{page}: screenshot of {} bytes",
            png.len()
        );
        eprintln!("screenshot of {page}: {}", file.display());
    }
    // The filters work without JavaScript.
    let filtered = client
        .get(format!("{base}/?verdict=threat"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        filtered.contains("/tld/xg") && !filtered.contains("/tld/xa\""),
        "{filtered}"
    );
    drop(daemon);
    lab.shutdown().await;
}

/// Reflected markup (docs/RULES.md#pages): a URL whose path carries an
/// element with an event handler loads in Chromium as text; the handler,
/// which would replace the page's body, never runs.
async fn reflected_markup_runs_no_script_in_chromium() {
    let Some(browser) = chromium() else { return };
    let root = RootZone::new().tld("xa", &[("ns1", "127.92.1.1"), ("ns2", "127.93.1.1")]);
    let (dir, port) = lab_dir(&root, "", None);
    let d = dir.path();
    let config = d.join("rootguard.toml");
    std::fs::write(
        &config,
        format!(
            "store = \"{}\"\n[zone]\nfile = \"{}\"\n[sweep]\ninterval_secs = 60\n[probe]\nport = {port}\nudp_timeout_ms = 200\nudp_retries = 1\ntcp_timeout_ms = 200\n[http]\nlisten = \"127.0.0.1:0\"\n{}",
            d.join("r.sqlite").display(),
            d.join("root.zone").display(),
            crate::support::OPERATOR_TOKEN
        ),
    )
    .unwrap();
    let daemon = start_daemon(&config);
    let profile = tempfile::tempdir().unwrap();
    for payload in [
        "%3Cimg%20src=x%20onerror=%22document.body.innerHTML='XSS-RAN'%22%3E",
        "%3Cscript%3Edocument.body.innerHTML='XSS-RAN'%3C%2Fscript%3E",
    ] {
        let url = format!("{}/tld/{payload}", daemon.base);
        let out = headless(browser, profile.path(), &["--dump-dom"], &url);
        let dom = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            dom.contains("is not a watched ccTLD"),
            "{url}: the page did not load or a script replaced it: {dom}"
        );
        assert!(
            !dom.contains("<img") && !dom.contains("<script"),
            "{url}: markup from the URL became an element: {dom}"
        );
    }
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::asynch(
            "pages::pages_load_links_work_and_screenshots_are_taken",
            pages_load_links_work_and_screenshots_are_taken,
        ),
        crate::support::asynch(
            "pages::reflected_markup_runs_no_script_in_chromium",
            reflected_markup_runs_no_script_in_chromium,
        ),
    ]
}
