//! `rootguard demo` on a fast timeline: complaints and both suspensions
//! appear, .xh's DS fix is allowed, and both suspensions are lifted by
//! themselves; the pages are served.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

async fn demo_shows_suspensions_imposed_and_lifted() {
    let dir = tempfile::tempdir().unwrap();
    let lab = dir.path().join("lab");
    std::fs::create_dir(&lab).unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("zones/lab");
    for f in ["root.zone", "profile.toml", "registry.json"] {
        std::fs::copy(src.join(f), lab.join(f)).unwrap();
    }
    let port = crate::support::unique_port();
    let spec = std::fs::read_to_string(src.join("lab.toml")).unwrap();
    std::fs::write(
        lab.join("lab.toml"),
        spec.replace("port = 5300", &format!("port = {port}")),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .args([
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--sweep-secs",
            "1",
            "--silent-after",
            "2",
            "--key-roll-after",
            "3",
            "--ds-fix-after",
            "12",
            "--servers-back-after",
            "14",
        ])
        .arg("--lab")
        .arg(&lab)
        .arg("--store")
        .arg(dir.path().join("demo.sqlite"))
        .env_remove("ROOTGUARD_STORE")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("demo ended early").unwrap();
        if let Some(b) = line.strip_prefix("rootguard: listening on ") {
            break b.to_string();
        }
    };
    let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = log.clone();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            sink.lock().unwrap().push_str(&(l + "\n"));
        }
    });
    let client = reqwest::Client::new();
    let mut seen_held = false;
    let mut seen_withheld = false;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body = client
            .get(format!("{base}/api/v1/suspensions"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        seen_held |= body.contains("hold-delegation");
        seen_withheld |= body.contains("withhold-ds");
        if seen_held && seen_withheld && body == "[]" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "suspensions not imposed and lifted in time: held {seen_held}, withheld {seen_withheld}, now {body}\n{}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let page = client.get(format!("{base}/")).send().await.unwrap();
    assert!(page.status().is_success());
    let text = log.lock().unwrap().clone();
    assert!(text.contains("change request decided: ALLOWED"), "{text}");
    assert!(text.contains(".xg's name servers go silent"), "{text}");
    assert!(text.contains(".xh rolls to a new key"), "{text}");
    assert!(text.contains(".xg's name servers go silent"), "{text}");
    assert!(text.contains(".xh rolls to a new key"), "{text}");
    assert!(text.contains(".xg's name servers come back"), "{text}");
    let _ = child.kill();
    let _ = child.wait();
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![crate::support::asynch(
        "demo::demo_shows_suspensions_imposed_and_lifted",
        demo_shows_suspensions_imposed_and_lifted,
    )]
}
