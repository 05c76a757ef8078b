//! An acknowledged write survives `kill -9` at any moment: the real binary
//! records a burst of actions (`rootguard batch`), printing each event once
//! committed; it is killed repeatedly mid-burst, and after every restart
//! each acknowledged event is in the journal and the hash chain verifies.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rootguard"))
}

fn acknowledged_events_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("record.sqlite");
    let zone = concat!(env!("CARGO_MANIFEST_DIR"), "/zones/lab/root.zone");
    let out = bin()
        .args([
            "--store",
            store.to_str().unwrap(),
            "import",
            "--no-verify",
            "--root-zone",
            zone,
        ])
        .args(crate::support::operator_args(dir.path()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut acknowledged: Vec<i64> = Vec::new();
    for round in 0..8u64 {
        let mut child = bin()
            .args([
                "--store",
                store.to_str().unwrap(),
                "--key",
                dir.path().join("op.key").to_str().unwrap(),
                "batch",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            for i in 0..100_000 {
                let line = format!(
                    "{{\"action\":\"complaint-lodge\",\"tld\":\"xa\",\"category\":\"technical\",\"text\":\"burst {round} #{i}\"}}\n"
                );
                if stdin.write_all(line.as_bytes()).is_err() {
                    break;
                }
            }
        });
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Let it write for a while (varying per round), then kill -9.
        let deadline = Instant::now() + Duration::from_millis(150 + 70 * round);
        let mut this_round = 0;
        while Instant::now() < deadline {
            match lines.next() {
                Some(Ok(l)) => {
                    let v: serde_json::Value = serde_json::from_str(&l).unwrap();
                    acknowledged.push(v["seq"].as_i64().unwrap());
                    this_round += 1;
                }
                _ => break,
            }
        }
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait();
        let _ = writer.join();
        assert!(
            this_round > 0,
            "round {round}: nothing was acknowledged before the kill"
        );

        // After the restart: every acknowledged event is there, the chain verifies.
        let out = bin()
            .args(["--store", store.to_str().unwrap(), "audit", "verify"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "round {round}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let events = report["events"].as_i64().unwrap();
        let max_ack = *acknowledged.iter().max().unwrap();
        assert!(
            events >= max_ack,
            "round {round}: {events} events on disk, {max_ack} acknowledged"
        );
        let export = bin()
            .args(["--store", store.to_str().unwrap(), "audit", "export"])
            .output()
            .unwrap();
        let seqs: std::collections::HashSet<i64> = String::from_utf8_lossy(&export.stdout)
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["seq"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        for s in &acknowledged {
            assert!(
                seqs.contains(s),
                "round {round}: acknowledged event {s} is lost"
            );
        }
        // The ledger still replays.
        let show = bin()
            .args(["--store", store.to_str().unwrap(), "show", "tld", "xa"])
            .output()
            .unwrap();
        assert!(
            show.status.success(),
            "{}",
            String::from_utf8_lossy(&show.stderr)
        );
    }
    assert!(
        acknowledged.len() > 50,
        "only {} events acknowledged",
        acknowledged.len()
    );
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![crate::support::sync(
        "durability::acknowledged_events_survive_kill_9",
        acknowledged_events_survive_kill_9,
    )]
}
