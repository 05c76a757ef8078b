//! Several `rootguard serve` instances on one PostgreSQL record
//! (`docs/RULES.md#replication`), as real processes on a throwaway cluster:
//! one leads, the other serves the API and pages from the shared record and
//! sends writers to the leader; the leader is killed with SIGKILL in the
//! middle of a sweep and the other takes over within two sweep intervals; a
//! leader that was paused while another was elected never writes again;
//! afterwards `audit verify --checkpoint` holds, every acknowledged event
//! is in the journal and none is written twice.

use std::time::{Duration, Instant};

use crate::support::{Daemon, RootZone, lab_dir, start_daemon_logged};

const OP: &str = "replication-operator-token-0123456789";
const INTERVAL: u64 = 2;

async fn get(base: &str, path: &str) -> (u16, String) {
    match reqwest::get(format!("{base}{path}")).await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

/// The value of an unlabelled gauge on `/metrics`.
async fn gauge(base: &str, name: &str) -> Option<i64> {
    let (_, text) = get(base, "/metrics").await;
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
}

/// Whether `base` shows a report of vantage `vb` at most `secs` old.
async fn reported(base: &str, secs: i64) -> bool {
    let (_, text) = get(base, "/api/v1/vantages").await;
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v["latest_window"]["vb"]["at"].as_str().is_some_and(|at| {
        rootguard::time::Timestamp::parse(at)
            .is_ok_and(|t| rootguard::time::Timestamp::now().secs_since(t) <= secs)
    })
}

async fn leads(base: &str) -> bool {
    gauge(base, "rootguard_leader").await == Some(1)
}

async fn suspension(base: &str, tld: &str) -> String {
    let (_, text) = get(base, &format!("/api/v1/tlds/{tld}")).await;
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    v["technical"]["suspension"]["state"]
        .as_str()
        .unwrap_or("none")
        .to_string()
}

async fn wait_for(what: &str, secs: u64, mut f: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        if f().await {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: not within {secs} s");
}

/// Lodges a complaint through `base`: the acknowledged event (sequence
/// number and hash), or the refusal's status and message.
async fn lodge(base: &str, text: &str) -> Result<(i64, String), (u16, String)> {
    let body = serde_json::json!({"action": "complaint-lodge", "tld": "xa",
        "category": "technical", "text": text});
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/actions"))
        .bearer_auth(OP)
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| (0, e.to_string()))?;
    let status = r.status().as_u16();
    let text = r.text().await.unwrap_or_default();
    if status != 200 {
        return Err((status, text));
    }
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    Ok((
        v["event"]["seq"].as_i64().unwrap(),
        v["event"]["hash"].as_str().unwrap().to_string(),
    ))
}

fn signal(d: &Daemon, sig: libc::c_int) {
    // SAFETY: signalling a child this test owns.
    unsafe {
        libc::kill(d.child.id() as libc::pid_t, sig);
    }
}

fn rootguard(store: &str, key: &std::path::Path, args: &[&str]) -> (i32, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .args(["--store", store])
        .args(args)
        .env("ROOTGUARD_GUARD_KEY", key)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

async fn two_daemons_on_one_postgresql_survive_the_loss_of_the_leader() {
    use rootguard::lab::{Faults, Lab, load_dir};
    let pg_dir = tempfile::tempdir().unwrap();
    let cluster = crate::support::postgres(pg_dir.path());
    let url = cluster.database("shared").unwrap();
    let names = ["xa", "xb", "xc", "xd", "xq"];
    let mut root = RootZone::new();
    for (i, n) in names.iter().enumerate() {
        root = root.tld(
            n,
            &[
                ("ns1", &format!("127.74.{}.1", i + 1)),
                ("ns2", &format!("127.75.{}.1", i + 1)),
            ],
        );
    }
    let (dir, port) = lab_dir(&root, "", None);
    let (spec, zone) = load_dir(dir.path()).unwrap();
    let lab = Lab::start(spec, &zone).await.unwrap();
    let d = dir.path();
    std::fs::write(d.join("profile.toml"), "disable = [\"ADDRESS-SCOPE\"]\n").unwrap();
    let config = d.join("rootguard.toml");
    let key = d.join("guard.key");
    // The one guard key, installed on every instance before they start.
    rootguard::store::checkpoint::SigningKey::create(&key, "rootguard").unwrap();
    std::fs::write(
        &config,
        format!(
            "store = \"{url}\"\nguard_key = \"{key}\"\nprofile = \"{profile}\"\n[zone]\nfile = \"{zone}\"\n[probe]\nport = {port}\nsource = \"127.0.0.2\"\nudp_timeout_ms = 400\nudp_retries = 1\ntcp_timeout_ms = 500\n[sweep]\ninterval_secs = {INTERVAL}\n[policy]\npersist_sweeps = 2\nclear_sweeps = 2\nauto_suspend = true\n[http]\nlisten = \"127.0.0.1:0\"\n[[http.tokens]]\nname = \"op\"\nsha256 = \"{op}\"\nrole = \"operator\"\n",
            key = key.display(),
            profile = d.join("profile.toml").display(),
            zone = d.join("root.zone").display(),
            op = rootguard::http::auth::token_hash(OP),
        ),
    )
    .unwrap();

    // A leads (it seeds the record); B follows and serves it.
    let a = crate::support::start_daemon_with(&config, Some(&d.join("a.log")), "rootguard=info");
    wait_for("A leads", 20, async || leads(&a.base).await).await;
    let b = start_daemon_logged(&config, Some(&d.join("b.log")));
    wait_for("B serves the shared record", 20, async || {
        get(&b.base, "/api/v1/tlds/xa").await.0 == 200
    })
    .await;
    assert_eq!(
        gauge(&b.base, "rootguard_leader").await,
        Some(0),
        "B follows"
    );
    // A vantage that knows both instances (the follower first): its
    // reports go to the leader.
    let (vkey, public) = crate::support::key(d, "vb");
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/actions", a.base))
        .bearer_auth(OP)
        .body(
            serde_json::json!({"action": "identity-register", "id": "vb", "kind": "vantage",
                   "person": "vantage vb", "key": public})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    let vconfig = d.join("vb.toml");
    std::fs::write(
        &vconfig,
        format!(
            "profile = \"{profile}\"\n[probe]\nport = {port}\nsource = \"127.0.0.3\"\nudp_timeout_ms = 400\nudp_retries = 1\ntcp_timeout_ms = 500\n[sweep]\ninterval_secs = {INTERVAL}\n[vantage]\ndaemon = \"{b}, {a}\"\nkey = \"{key}\"\n",
            profile = d.join("profile.toml").display(),
            b = b.base,
            a = a.base,
            key = vkey.display(),
        ),
    )
    .unwrap();
    let _vantage = crate::vantage::start_vantage(&vconfig);
    wait_for("the vantage reports to the leader", 30, async || {
        reported(&a.base, 2 * INTERVAL as i64).await
    })
    .await;
    wait_for("the follower shows the vantage's reports", 30, async || {
        reported(&b.base, 2 * INTERVAL as i64).await
    })
    .await;
    let mut acknowledged: Vec<(i64, String, String)> = Vec::new();
    for i in 0..5 {
        let text = format!("before the failover #{i}");
        let (seq, hash) = lodge(&a.base, &text).await.expect("the leader records");
        acknowledged.push((seq, hash, text));
        // The follower sends writers to the leader and writes nothing.
        let (status, message) = lodge(&b.base, "to the follower").await.unwrap_err();
        assert_eq!(status, 503, "{message}");
        assert!(message.contains(&a.base), "names the leader: {message}");
    }
    // A decides; B's readers see A's decisions.
    lab.set_faults(
        "ns1.xq.",
        Faults {
            silent: true,
            ..Faults::default()
        },
    );
    lab.set_faults(
        "ns2.xq.",
        Faults {
            silent: true,
            ..Faults::default()
        },
    );
    wait_for("xq suspended, as the follower shows", 60, async || {
        suspension(&b.base, "xq").await == "active"
    })
    .await;

    // SIGKILL A in the middle of a sweep (the silent .xq keeps each sweep
    // probing for over a second of the two), with writes in flight.
    let round = gauge(&a.base, "rootguard_term").await;
    assert!(round.is_some());
    let writer_base = a.base.clone();
    let in_flight = tokio::spawn(async move {
        let mut acks = Vec::new();
        for i in 0..1000 {
            let text = format!("in flight #{i}");
            match lodge(&writer_base, &text).await {
                Ok((seq, hash)) => acks.push((seq, hash, text)),
                Err(_) => break,
            }
        }
        acks
    });
    // A window is decided at D (its sweep took over a second, probing the
    // silent .xq); the next opens at D + 0.7 s and probes until about
    // D + 2 s: A is killed at D + 1.2 s, in the middle of that sweep.
    let decided = || {
        std::fs::read_to_string(d.join("a.log"))
            .unwrap_or_default()
            .matches("window decided")
            .count()
    };
    let before = decided();
    wait_for("a window decided", 20, async || decided() > before).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let a_term = gauge(&a.base, "rootguard_term").await.unwrap();
    signal(&a, libc::SIGKILL);
    let killed = Instant::now();
    acknowledged.extend(in_flight.await.unwrap());
    drop(a);
    wait_for("B takes over", 20, async || leads(&b.base).await).await;
    let takeover = killed.elapsed();
    assert!(
        takeover <= Duration::from_secs(2 * INTERVAL),
        "B took over after {takeover:?}, more than two sweep intervals"
    );
    let b_term = gauge(&b.base, "rootguard_term").await.unwrap();
    wait_for("the vantage reports to the new leader", 30, async || {
        reported(&b.base, INTERVAL as i64).await
    })
    .await;
    assert!(b_term > a_term, "a new term: {a_term} -> {b_term}");
    eprintln!("takeover after {takeover:?} (term {a_term} -> {b_term})");
    for i in 0..3 {
        let text = format!("after the failover #{i}");
        let (seq, hash) = lodge(&b.base, &text).await.expect("the new leader records");
        acknowledged.push((seq, hash, text));
    }
    // The new leader decides: .xq's servers return, the suspension is lifted.
    lab.set_faults("ns1.xq.", Faults::default());
    lab.set_faults("ns2.xq.", Faults::default());
    wait_for("xq lifted by the new leader", 60, async || {
        suspension(&b.base, "xq").await == "none"
    })
    .await;

    // A leader paused while another is elected never writes again.
    let c = start_daemon_logged(&config, Some(&d.join("c.log")));
    wait_for("C serves", 20, async || {
        get(&c.base, "/api/v1/tlds/xa").await.0 == 200
    })
    .await;
    signal(&b, libc::SIGSTOP);
    wait_for("C takes over from the paused B", 20, async || {
        leads(&c.base).await
    })
    .await;
    let c_term = gauge(&c.base, "rootguard_term").await.unwrap();
    signal(&b, libc::SIGCONT);
    wait_for("B steps down", 20, async || {
        gauge(&b.base, "rootguard_leader").await == Some(0)
    })
    .await;
    let (status, message) = lodge(&b.base, "to the deposed leader").await.unwrap_err();
    assert_eq!(status, 503, "{message}");
    tokio::time::sleep(Duration::from_secs(2 * INTERVAL)).await;
    let (code, _) = rootguard(&url, &key, &["audit", "verify"]);
    assert_eq!(code, 0);

    // The checkpoint an outsider kept, then the journal.
    let (status, note) = get(&c.base, "/api/v1/audit/checkpoint").await;
    assert_eq!(status, 200, "{note}");
    // Signed by the leader of its time, naming its term.
    assert!(
        [b_term, c_term]
            .iter()
            .any(|t| note.contains(&format!("\nterm {t}\n"))),
        "the checkpoint names the leader's term: {note}"
    );
    let kept = d.join("checkpoint.txt");
    std::fs::write(&kept, &note).unwrap();
    drop(b);
    drop(c);
    let key_arg = key.display().to_string();
    let (code, report) = rootguard(
        &url,
        &key,
        &[
            "audit",
            "verify",
            "--checkpoint",
            kept.to_str().unwrap(),
            "--guard-key",
            &key_arg,
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("\"first_bad\": null"), "{report}");
    let (code, export) = rootguard(&url, &key, &["audit", "export"]);
    assert_eq!(code, 0, "{export}");
    let events: Vec<serde_json::Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (seq, hash, text) in &acknowledged {
        let e = events
            .iter()
            .find(|e| e["seq"].as_i64() == Some(*seq))
            .unwrap_or_else(|| panic!("acknowledged event {seq} is lost"));
        assert_eq!(e["hash"].as_str(), Some(hash.as_str()), "event {seq}");
        let copies = events
            .iter()
            .filter(|e| e["payload"]["action"]["text"].as_str() == Some(text.as_str()))
            .count();
        assert_eq!(copies, 1, "{text:?} is written {copies} times");
    }
    // Terms never go back: nothing of a deposed term after a newer one.
    let terms: Vec<u64> = events
        .iter()
        .filter_map(|e| e["payload"]["term"].as_u64())
        .collect();
    assert!(
        terms.windows(2).all(|w| w[0] <= w[1]),
        "terms go back: {terms:?}"
    );
    assert!(terms.contains(&(b_term as u64)) && terms.last() == Some(&(c_term as u64)));
    eprintln!(
        "{} events, {} acknowledged writes, terms {a_term}, {b_term}, {c_term}",
        events.len(),
        acknowledged.len()
    );
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![crate::support::asynch(
        "replication::two_daemons_on_one_postgresql_survive_the_loss_of_the_leader",
        two_daemons_on_one_postgresql_survive_the_loss_of_the_leader,
    )]
}
