//! The record's signed checkpoints (docs/RULES.md#checkpoints), through the
//! real binary: checkpoints are signed after every state change, an
//! inclusion proof checks against the checkpoint, and a checkpoint kept
//! outside the store detects a journal rewritten with every hash
//! recomputed, a cut tail, and an event appended without the guard's key.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rootguard::store::{MemoryHashes, leaf_data};
use rusqlite::{Connection, params};
use serde_json::Value;

use crate::support::*;

fn key_pair(dir: &Path, id: &str) -> (PathBuf, String) {
    crate::support::key(dir, id)
}

/// Runs the binary on `store`, signing with the operator's key beside it
/// (`op.key`, made by [`record`]) when there is one.
fn rg(store: &Path, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rootguard"));
    c.arg("--store").arg(store).args(args);
    let key = store.parent().unwrap().join("op.key");
    if key.exists() {
        c.env("ROOTGUARD_KEY", key);
    }
    c.output().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A record with a few state changes, and the checkpoint it published.
fn record(dir: &Path) -> (PathBuf, PathBuf) {
    let root = RootZone::new()
        .tld("xa", &[("ns1", "127.70.1.1"), ("ns2", "127.71.1.1")])
        .tld("xb", &[("ns1", "127.70.2.1"), ("ns2", "127.71.2.1")]);
    std::fs::write(dir.join("root.zone"), root.text()).unwrap();
    let store = dir.join("r.sqlite");
    let zone = dir.join("root.zone");
    let mut args = vec![
        "import",
        "--no-verify",
        "--root-zone",
        zone.to_str().unwrap(),
    ];
    let op = operator_args(dir);
    args.extend(op.iter().map(String::as_str));
    ok(&rg(&store, &args));
    for (tld, text) in [("xa", "one"), ("xb", "two"), ("xa", "three")] {
        ok(&rg(
            &store,
            &[
                "act",
                "complaint-lodge",
                "--tld",
                tld,
                "--category",
                "non-technical",
                "--text",
                text,
            ],
        ));
    }
    let note = ok(&rg(&store, &["audit", "checkpoint"]));
    let kept = dir.join("kept.checkpoint");
    std::fs::write(&kept, &note).unwrap();
    (store, kept)
}

fn verify(store: &Path, kept: &Path, key: &Path) -> (i32, Value) {
    let out = rg(
        store,
        &[
            "audit",
            "verify",
            "--checkpoint",
            kept.to_str().unwrap(),
            "--guard-key",
            key.to_str().unwrap(),
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v)
}

/// Rebuilds the hash chain and the Merkle tree of a tampered copy, as an
/// attacker holding the store file (but not the guard's key) would.
fn recompute_everything(conn: &Connection) {
    conn.execute_batch(
        "DROP TRIGGER IF EXISTS events_no_update; DROP TRIGGER IF EXISTS events_no_delete;
         DROP TRIGGER tree_no_update; DROP TRIGGER tree_no_delete; DELETE FROM tree;",
    )
    .unwrap();
    let rows: Vec<(i64, Vec<String>)> = conn
        .prepare(
            "SELECT seq, at, actor, role, kind, subject, section, payload FROM events ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                (1..8).map(|i| r.get::<_, String>(i).unwrap()).collect(),
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut prev = rootguard::store::GENESIS.to_string();
    let mut tree = MemoryHashes(Vec::new());
    for (seq, f) in rows {
        let event = rootguard::store::NewEvent {
            at: f[0].clone(),
            actor: f[1].clone(),
            role: f[2].clone(),
            kind: f[3].clone(),
            subject: f[4].clone(),
            section: f[5].clone(),
            payload: serde_json::from_str(&f[6]).unwrap(),
        };
        let hash = rootguard::store::event_hash(seq, &event, &prev);
        conn.execute(
            "UPDATE events SET prev_hash = ?1, hash = ?2 WHERE seq = ?3",
            params![prev, hash, seq],
        )
        .unwrap();
        tree.push(&leaf_data(
            seq, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &prev,
        ))
        .unwrap();
        prev = hash;
    }
    for (i, h) in tree.0.iter().enumerate() {
        conn.execute(
            "INSERT INTO tree (idx, hash) VALUES (?1, ?2)",
            params![i as i64, h.0.to_vec()],
        )
        .unwrap();
    }
}

fn checkpoints_are_signed_and_proofs_check() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept) = record(dir.path());
    let key = dir.path().join("r.sqlite.key");
    let vkey = ok(&rg(&store, &["audit", "key"])).trim().to_string();
    let note = std::fs::read_to_string(&kept).unwrap();
    let head = rootguard::store::checkpoint::verify(&note, &vkey).unwrap();
    assert_eq!(head.size, 4, "import and three complaints: {note}");
    let (code, v) = verify(&store, &kept, &key);
    assert_eq!(code, 0, "{v}");
    // An inclusion proof of event 2 checks against the checkpoint's root.
    let proof: Value = serde_json::from_str(&ok(&rg(&store, &["audit", "prove", "2"]))).unwrap();
    let hashes: Vec<tlog_tiles::Hash> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| tlog_tiles::Hash::parse_hash(h.as_str().unwrap()).unwrap())
        .collect();
    let leaf = tlog_tiles::Hash::parse_hash(proof["leaf_hash"].as_str().unwrap()).unwrap();
    tlog_tiles::check_record(&hashes, head.size, tlog_tiles::Hash(head.root), 1, leaf)
        .expect("the proof leads to the signed root");
    assert!(
        tlog_tiles::check_record(&hashes, head.size, tlog_tiles::Hash(head.root), 2, leaf).is_err(),
        "a proof for another position fails"
    );
    // The proof reveals hashes only.
    assert!(!proof.to_string().contains("one"), "{proof}");
    // Another key does not verify the checkpoint.
    let out = rg(
        &store,
        &[
            "audit",
            "verify",
            "--checkpoint",
            kept.to_str().unwrap(),
            "--verifier-key",
            "rootguard+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn a_rewritten_journal_is_detected_even_with_every_hash_recomputed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept) = record(dir.path());
    let key = dir.path().join("r.sqlite.key");
    let conn = Connection::open(&store).unwrap();
    conn.execute_batch("DROP TRIGGER events_no_update;")
        .unwrap();
    conn.execute(
        "UPDATE events SET payload = replace(payload, '\"two\"', '\"edited\"') WHERE seq = 3",
        [],
    )
    .unwrap();
    conn.execute_batch(
        "CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'x'); END;",
    )
    .unwrap();
    recompute_everything(&conn);
    drop(conn);
    // The chain alone no longer sees it.
    let plain = rg(&store, &["audit", "verify"]);
    assert_eq!(plain.status.code(), Some(0), "the chain was recomputed");
    let (code, v) = verify(&store, &kept, &key);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["first_bad"]["reason"]
            .as_str()
            .unwrap()
            .contains("rewritten"),
        "{v}"
    );
}

fn a_cut_tail_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept) = record(dir.path());
    let key = dir.path().join("r.sqlite.key");
    let conn = Connection::open(&store).unwrap();
    conn.execute_batch("DROP TRIGGER events_no_delete; DELETE FROM events WHERE seq = 4;")
        .unwrap();
    recompute_everything(&conn);
    drop(conn);
    let (code, v) = verify(&store, &kept, &key);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["first_bad"]["reason"]
            .as_str()
            .unwrap()
            .contains("removed from the end"),
        "{v}"
    );
    // The guard neither reads nor writes a journal that does not extend
    // what it signed: nothing is appended to the cut journal.
    let events = |store: &Path| {
        let c = Connection::open(store).unwrap();
        c.query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    let before = events(&store);
    for args in [
        &["show", "all"][..],
        &[
            "act",
            "complaint-lodge",
            "--tld",
            "xb",
            "--category",
            "technical",
            "--text",
            "x",
        ][..],
    ] {
        let out = rg(&store, args);
        assert_eq!(out.status.code(), Some(4), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("does not extend"));
    }
    assert_eq!(events(&store), before, "nothing appended to a cut journal");
    // Deleting the head kept beside the key does not let it sign blind.
    std::fs::remove_file(dir.path().join("r.sqlite.key.head")).unwrap();
    let out = rg(
        &store,
        &[
            "act",
            "complaint-lodge",
            "--tld",
            "xb",
            "--category",
            "technical",
            "--text",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(events(&store), before, "nothing appended without the head");
}

/// The guard's key is rotated by an event sealed with the old key; the
/// record then opens with the new key, the new key seals and signs, and a
/// checkpoint published before the rotation still verifies the journal
/// (with the old verifier key) as does one after it.
fn the_guard_key_rotates_by_an_event_sealed_with_the_old_key() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept) = record(dir.path());
    let key = dir.path().join("r.sqlite.key");
    let old = ok(&rg(&store, &["audit", "key"])).trim().to_string();
    let out: Value = serde_json::from_str(&ok(&rg(&store, &["audit", "rotate-key"]))).unwrap();
    assert_eq!(out["old"], old.as_str());
    let new = ok(&rg(&store, &["audit", "key"])).trim().to_string();
    assert_ne!(old, new);
    assert_eq!(out["new"], new.as_str());
    let export = ok(&rg(&store, &["audit", "export"]));
    assert!(export.contains("guard-key-rotated"));
    ok(&rg(
        &store,
        &[
            "act",
            "complaint-lodge",
            "--tld",
            "xb",
            "--category",
            "technical",
            "--text",
            "after",
        ],
    ));
    let all: Value = serde_json::from_str(&ok(&rg(&store, &["show", "all"]))).unwrap();
    assert_eq!(all["identities"]["rootguard"]["key"], new.as_str());
    // The checkpoint kept before the rotation, with the old key.
    let out = rg(
        &store,
        &[
            "audit",
            "verify",
            "--checkpoint",
            kept.to_str().unwrap(),
            "--verifier-key",
            &old,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The latest, with the new key.
    let latest = dir.path().join("latest.checkpoint");
    std::fs::write(&latest, ok(&rg(&store, &["audit", "checkpoint"]))).unwrap();
    let (code, v) = verify(&store, &latest, &key);
    assert_eq!(code, 0, "{v}");
    // A key that is not the record's is refused.
    let (_, stranger) = key_pair(dir.path(), "rootguard-x");
    let out = rg(
        &store,
        &[
            "audit",
            "verify",
            "--checkpoint",
            latest.to_str().unwrap(),
            "--verifier-key",
            &stranger,
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

/// Events of two histories, each sealed by the guard, spliced into one
/// journal do not link: the record refuses it.
fn a_spliced_journal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = record(dir.path());
    let conn = Connection::open(&store).unwrap();
    // Event 3's hash no longer is what event 4 links to.
    conn.execute_batch(
        "DROP TRIGGER events_no_update; UPDATE events SET prev_hash = hash WHERE seq = 4;",
    )
    .unwrap();
    drop(conn);
    let out = rg(&store, &["show", "all"]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not link"));
}

fn an_event_appended_without_the_key_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept) = record(dir.path());
    let key = dir.path().join("r.sqlite.key");
    let conn = Connection::open(&store).unwrap();
    let (at, payload): (String, String) = conn
        .query_row("SELECT at, payload FROM events WHERE seq = 4", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    conn.execute(
        "INSERT INTO events (seq, at, actor, role, kind, subject, section, payload, prev_hash, hash)
         VALUES (5, ?1, 'op', 'operator', 'complaint-lodge', 'tld:xa', 'x', ?2, 'x', 'x')",
        params![at, payload],
    )
    .unwrap();
    recompute_everything(&conn);
    drop(conn);
    assert_eq!(rg(&store, &["audit", "verify"]).status.code(), Some(0));
    let (code, v) = verify(&store, &kept, &key);
    assert_eq!(code, 1, "{v}");
    assert!(
        v["first_bad"]["reason"]
            .as_str()
            .unwrap()
            .contains("without the guard's key"),
        "{v}"
    );
    assert_eq!(v["first_bad"]["seq"], 5, "{v}");
}

/// The attack of the record issue's review: someone who can write the
/// store file but not read the key appends an event disguised as a steady
/// sweep whose recorded change makes them an operator and replaces .xa's
/// delegation, with every hash recomputed. The record refuses to load it,
/// no command is decided on it, the guard signs nothing over it, and
/// `audit verify --checkpoint` names it, also against the latest
/// checkpoint.
fn a_forged_change_is_never_applied_nor_signed() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept) = record(dir.path());
    let key = dir.path().join("r.sqlite.key");
    let (_, mallory) = key_pair(dir.path(), "mallory");
    let conn = Connection::open(&store).unwrap();
    let at: String = conn
        .query_row("SELECT at FROM events WHERE seq = 4", [], |r| r.get(0))
        .unwrap();
    let payload = serde_json::json!({
        "term": 1,
        "action": {"action": "sweep", "tld": "xa", "facts": {"at": at, "impaired": false, "findings": {}, "threat": null, "threat_detail": ""}},
        "result": {"effects": []},
        "change": {
            "identities": {"mallory": {"id": "mallory", "kind": "operator", "person": "Mallory",
                                       "key": mallory, "attested_by": "op", "registered": at}},
            "approved": {"xa": {"tld": "xa", "kind": "country-code", "manager": "Evil Corp",
                                 "ns": ["ns1.evil.example."], "glue": {}, "ds": [],
                                 "admin_contact": {"name": "", "organisation": "", "country": ""},
                                 "tech_contact": {"name": "", "organisation": "", "country": ""}}}
        }
    });
    conn.execute(
        "INSERT INTO events (seq, at, actor, role, kind, subject, section, payload, prev_hash, hash)
         VALUES (5, ?1, 'rootguard', 'guard', 'sweep', 'tld:xa', 'x', ?2, 'x', 'x')",
        params![at, payload.to_string()],
    )
    .unwrap();
    recompute_everything(&conn);
    drop(conn);
    // Reading and writing refuse the record (exit 4), naming the event.
    let out = rg(&store, &["show", "tld", "xa"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("event 5") && err.contains("not sealed"),
        "{err}"
    );
    let out = rg(
        &store,
        &[
            "act",
            "complaint-lodge",
            "--tld",
            "xb",
            "--category",
            "technical",
            "--text",
            "x",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    // A reader who cannot read the key checks the seals all the same,
    // with the guard key the record holds.
    std::fs::rename(&key, dir.path().join("moved.key")).unwrap();
    let out = rg(&store, &["show", "tld", "xa"]);
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::rename(dir.path().join("moved.key"), &key).unwrap();
    let checkpoints_before = ok(&rg(&store, &["audit", "checkpoint"]));
    assert!(
        checkpoints_before.contains("\n4\n"),
        "nothing signed over it: {checkpoints_before}"
    );
    let latest = dir.path().join("latest.checkpoint");
    std::fs::write(&latest, &checkpoints_before).unwrap();
    for checkpoint in [&kept, &latest] {
        let (code, v) = verify(&store, checkpoint, &key);
        assert_eq!(code, 1, "{v}");
        assert_eq!(v["first_bad"]["seq"], 5, "{v}");
        assert!(
            v["first_bad"]["reason"]
                .as_str()
                .unwrap()
                .contains("not sealed"),
            "{v}"
        );
    }
}

fn a_backup_taken_while_writing_restores() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept) = record(dir.path());
    let key = dir.path().join("r.sqlite.key");
    // A writer keeps appending while the copy is taken.
    let writer = {
        let store = store.clone();
        std::thread::spawn(move || {
            for i in 0..20 {
                ok(&rg(
                    &store,
                    &[
                        "act",
                        "complaint-lodge",
                        "--tld",
                        "xb",
                        "--category",
                        "non-technical",
                        "--text",
                        &format!("w{i}"),
                    ],
                ));
            }
        })
    };
    let copy = dir.path().join("copy.sqlite");
    ok(&rg(&store, &["backup", copy.to_str().unwrap()]));
    writer.join().unwrap();
    // The copy is a consistent prefix: it verifies against the kept
    // checkpoint and keeps working as a record (the key is kept apart).
    let (code, v) = verify(&copy, &kept, &key);
    assert_eq!(code, 0, "{v}");
    std::fs::copy(&key, dir.path().join("copy.sqlite.key")).unwrap();
    // The restored copy has no signed head beside its key while it holds
    // checkpoints of that key: the guard refuses to sign until an operator
    // adopts the copy's latest checkpoint.
    let refused = rg(
        &copy,
        &[
            "act",
            "complaint-lodge",
            "--tld",
            "xa",
            "--category",
            "non-technical",
            "--text",
            "before accepting the restore",
        ],
    );
    assert_eq!(refused.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("accept-restore"));
    ok(&rg(&copy, &["audit", "accept-restore"]));
    ok(&rg(
        &copy,
        &[
            "act",
            "complaint-lodge",
            "--tld",
            "xa",
            "--category",
            "non-technical",
            "--text",
            "after restore",
        ],
    ));
    let all: Value = serde_json::from_str(&ok(&rg(&copy, &["show", "all"]))).unwrap();
    assert!(all["complaints"].as_object().unwrap().len() >= 4, "{all}");
    let again = rg(&store, &["backup", copy.to_str().unwrap()]);
    assert_eq!(
        again.status.code(),
        Some(3),
        "an existing file is not overwritten"
    );
}

/// A record written by the previous format (schema version 1, before the
/// Merkle tree; `tests/data/records/record-v1.sqlite`, written by the
/// rootguard of that version with sweeps, a complaint, a gate decision and
/// a recorded refusal) is refused until `rootguard migrate` converts it;
/// then it reads as it did, keeps the old head hash in the log and a copy
/// of the old file.
fn a_record_in_the_previous_format_is_migrated_not_misread() {
    migrate_fixture(
        1,
        "66616e13dd0376b2d6aca038d447d0eeffda127480ba2258e361be0a0e80a7e6",
    );
    // Format 2 (the Merkle tree, no snapshots yet): the format-3 fixture's
    // journal and tree with the snapshot table of format 3 removed, which
    // is what format 2 stored.
    migrate_fixture(
        2,
        "c67e451029603c896660b9b129d8907e130a8a24c322c60eab6166dfc990289e",
    );
    migrate_fixture(
        3,
        "c67e451029603c896660b9b129d8907e130a8a24c322c60eab6166dfc990289e",
    );
}

/// Opens the fixture of format `version` (`tests/data/records/`): refused
/// until migrated; `migrate` needs a first operator; then the state reads
/// as that version showed it (`record-vN.show-all.json`), the old head is
/// in the log, the migration is signed, and the record takes new events.
fn migrate_fixture(version: u32, head: &str) {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("old.sqlite");
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/records");
    std::fs::copy(data.join(format!("record-v{version}.sqlite")), &store).unwrap();
    let out = rg(&store, &["show", "all"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rootguard migrate"), "{err}");
    // Without a first operator nothing is touched.
    let out = rg(&store, &["migrate"]);
    assert_eq!(out.status.code(), Some(3), "v{version}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--operator"),
        "v{version}"
    );
    assert_eq!(rg(&store, &["show", "all"]).status.code(), Some(3));
    let op = operator_args(dir.path());
    let mut args = vec!["migrate"];
    args.extend(op.iter().map(String::as_str));
    let report: Value = serde_json::from_str(&ok(&rg(&store, &args))).unwrap();
    assert_eq!(report["migrated"]["from"], version, "{report}");
    assert_eq!(report["first_bad"], Value::Null, "{report}");
    assert_eq!(report["migrated"]["head"], head, "{report}");
    assert!(
        dir.path()
            .join(format!("old.sqlite.format-v{version}"))
            .exists()
    );
    // The state reads as the old version showed it.
    let now: Value = serde_json::from_str(&ok(&rg(&store, &["show", "all"]))).unwrap();
    let then: Value = serde_json::from_str(
        &std::fs::read_to_string(data.join(format!("record-v{version}.show-all.json"))).unwrap(),
    )
    .unwrap();
    for key in ["approved", "cases", "decisions", "seeded"] {
        assert_eq!(now[key], then[key], "v{version} {key}");
    }
    for key in ["policy", "appeal_window_days"] {
        reads_as(&now["settings"][key], &then["settings"][key], key);
    }
    assert_eq!(
        now["complaints"]["1"]["text"], then["complaints"]["1"]["text"],
        "{now}"
    );
    for (tld, t) in then["technical"].as_object().unwrap() {
        assert_eq!(
            now["technical"][tld]["suspension"]["state"], t["suspension"]["state"],
            "v{version} {tld}"
        );
        assert_eq!(
            now["technical"][tld]["tracks"].as_object().map(|m| m.len()),
            t["tracks"].as_object().map(|m| m.len()),
            "v{version} {tld}"
        );
    }
    // The old head is in the new log and a checkpoint signs it; a second
    // migrate changes nothing; the operator acts on the migrated record.
    let export = ok(&rg(&store, &["audit", "export"]));
    assert!(export.contains(head) && export.contains("record-migrated"));
    let events = export.lines().count() as u64;
    let note = ok(&rg(&store, &["audit", "checkpoint"]));
    assert!(
        note.contains(&format!("\n{events}\n")),
        "v{version}: {note}"
    );
    let again: Value = serde_json::from_str(&ok(&rg(&store, &args))).unwrap();
    assert_eq!(again["migrated"], Value::Null);
    ok(&rg(&store, &["audit", "verify"]));
    ok(&rg(
        &store,
        &[
            "act",
            "complaint-lodge",
            "--tld",
            "xa",
            "--category",
            "non-technical",
            "--text",
            "after the migration",
        ],
    ));
    let after: Value = serde_json::from_str(&ok(&rg(&store, &["show", "all"]))).unwrap();
    assert_eq!(
        after["complaints"].as_object().unwrap().len(),
        then["complaints"].as_object().unwrap().len() + 1
    );
}

/// The fixture of the current format (4: events are facts, sealed;
/// `tests/data/records/record-v4.sqlite`, with its test guard key, the
/// guard's last signed head and an operator key) opens under this code as
/// it was written: the same state, a verified chain, every seal valid,
/// nothing to migrate, and it takes new events.
fn the_current_format_fixture_opens_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/records");
    let store = dir.path().join("r.sqlite");
    for (from, to) in [
        ("record-v4.sqlite", "r.sqlite"),
        ("record-v4.sqlite.key", "r.sqlite.key"),
        ("record-v4.sqlite.key.head", "r.sqlite.key.head"),
        ("record-v4.op.key", "op.key"),
    ] {
        std::fs::copy(data.join(from), dir.path().join(to)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path().join(to), std::fs::Permissions::from_mode(0o600))
                .unwrap();
        }
    }
    let now: Value = serde_json::from_str(&ok(&rg(&store, &["show", "all"]))).unwrap();
    let then: Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("record-v4.show-all.json")).unwrap(),
    )
    .unwrap();
    reads_as(&now, &then, "");
    let report: Value = serde_json::from_str(&ok(&rg(&store, &["migrate"]))).unwrap();
    assert_eq!(report["migrated"], Value::Null, "{report}");
    let note = ok(&rg(&store, &["audit", "checkpoint"]));
    let kept = dir.path().join("kept");
    std::fs::write(&kept, note).unwrap();
    let (code, v) = verify(&store, &kept, &dir.path().join("r.sqlite.key"));
    assert_eq!(code, 0, "{v}");
    ok(&rg(
        &store,
        &[
            "--now",
            "2026-01-02T00:00:00Z",
            "act",
            "complaint-lodge",
            "--tld",
            "xb",
            "--category",
            "technical",
            "--text",
            "after",
        ],
    ));
}

/// This module's tests.
/// Appends `payload` as event `seq` after the journal's last event, sealed
/// by `sealer` (not the guard's key), with the chain and the tree
/// recomputed: what someone who can write the store, but not read the
/// guard's key, can do.
#[allow(clippy::too_many_arguments)]
fn append_sealed(
    conn: &Connection,
    sealer: &rootguard::store::checkpoint::SigningKey,
    kind: &str,
    subject: &str,
    actor: &str,
    role: &str,
    payload: Value,
) {
    let (seq, prev, at): (i64, String, String) = conn
        .query_row(
            "SELECT seq, hash, at FROM events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let mut e = rootguard::store::NewEvent {
        at,
        actor: actor.into(),
        role: role.into(),
        kind: kind.into(),
        subject: subject.into(),
        section: "docs/RULES.md#append-only".into(),
        payload,
    };
    let seq = seq + 1;
    let bare = rootguard::store::event_hash(seq, &e, &prev);
    let seal = sealer.seal(&bare).unwrap();
    e.payload
        .as_object_mut()
        .unwrap()
        .insert("seal".into(), Value::String(seal));
    let hash = rootguard::store::event_hash(seq, &e, &prev);
    conn.execute(
        "INSERT INTO events (seq, at, actor, role, kind, subject, section, payload, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![seq, e.at, e.actor, e.role, e.kind, e.subject, e.section, e.payload.to_string(), prev, hash],
    )
    .unwrap();
}

/// The attack helper's finding on the record issue: a forged
/// "migration" that names its own guard key, sealed by that key, then an
/// operator registered under it. Only the first import or migration
/// names the guard's key: `audit verify --checkpoint` names the forged
/// migration.
fn a_forged_migration_cannot_bring_its_own_guard_key() {
    let dir = tempfile::tempdir().unwrap();
    let (store, kept) = record(dir.path());
    let key = dir.path().join("r.sqlite.key");
    let evil =
        rootguard::store::checkpoint::SigningKey::create(&dir.path().join("evil.key"), "rootguard")
            .unwrap();
    let (_, mallory) = key_pair(dir.path(), "mallory");
    let conn = Connection::open(&store).unwrap();
    let at: String = conn
        .query_row("SELECT at FROM events WHERE seq = 4", [], |r| r.get(0))
        .unwrap();
    let head: String = conn
        .query_row("SELECT hash FROM events WHERE seq = 4", [], |r| r.get(0))
        .unwrap();
    append_sealed(
        &conn,
        &evil,
        "record-migrated",
        "record",
        "rootguard",
        "guard",
        serde_json::json!({"term": 1,
            "action": {"action": "record-migrated", "from": 4, "to": 5, "head": head, "kept": "old"},
            "result": {},
            "change": {"identities": {"rootguard": {"id": "rootguard", "kind": "guard",
                "person": "rootguard", "key": evil.verifier_key, "attested_by": "rootguard", "registered": at}}}}),
    );
    append_sealed(
        &conn,
        &evil,
        "identity-register",
        "identity:mallory",
        "op",
        "operator",
        serde_json::json!({"term": 1,
            "action": {"action": "identity-register", "id": "mallory", "kind": "operator", "person": "Mallory", "key": mallory},
            "result": {"identity": "mallory", "kind": "operator"},
            "change": {"identities": {"mallory": {"id": "mallory", "kind": "operator", "person": "Mallory",
                "key": mallory, "attested_by": "op", "registered": at}}}}),
    );
    recompute_everything(&conn);
    drop(conn);
    refused_at(&store, &kept, &key, 5, "not sealed");
}

/// The attack helper's finding: a writer that holds the record open (the
/// daemon) signed a checkpoint over rows another hand appended after it
/// had loaded the journal. The guard signs only what its ledger admitted.
fn the_guard_never_signs_over_rows_it_did_not_admit() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = record(dir.path());
    let keyfile = dir.path().join("r.sqlite.key");
    let key = rootguard::store::checkpoint::SigningKey::load(&keyfile).unwrap();
    let ledger = rootguard::ledger::Ledger::open_sealed(&store, Some(&keyfile)).unwrap();
    let before = ledger.store().latest_checkpoint().unwrap().unwrap().size;
    assert_eq!(before, 4);
    let evil = rootguard::store::checkpoint::SigningKey::create(&dir.path().join("evil.key"), "x")
        .unwrap();
    let conn = Connection::open(&store).unwrap();
    append_sealed(
        &conn,
        &evil,
        "complaint-lodge",
        "tld:xa",
        "op",
        "operator",
        serde_json::json!({"term": 1, "action": {"action": "complaint-lodge", "tld": "xa",
            "category": "technical", "text": "forged"}, "result": {}, "change": {}}),
    );
    recompute_everything(&conn);
    drop(conn);
    let later = rootguard::time::Timestamp::now().plus_days(1);
    rootguard::app::sign_checkpoint(&ledger, &key, true, later).unwrap();
    let after = ledger.store().latest_checkpoint().unwrap().unwrap().size;
    assert_eq!(after, 4, "a checkpoint was signed over the forged row");
}

/// The attack helper's finding: an old record whose clock had been set
/// into the future (older formats let any caller set it) locked every
/// real-time writer out once migrated. The migrated record's clock is the
/// system clock; the set clock is flagged in the migration event.
fn a_migrated_record_keeps_the_system_clock() {
    let dir = tempfile::tempdir().unwrap();
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/records");
    let store = dir.path().join("old.sqlite");
    std::fs::copy(data.join("record-v3.sqlite"), &store).unwrap();
    {
        let conn = Connection::open(&store).unwrap();
        let (seq, prev): (i64, String) = conn
            .query_row(
                "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let e = rootguard::store::NewEvent {
            at: "2099-01-01T00:00:00Z".into(),
            actor: "anyone".into(),
            role: "public".into(),
            kind: "complaint-lodge".into(),
            subject: "tld:xa".into(),
            section: "docs/RULES.md#complaint".into(),
            payload: serde_json::json!({"action": {"action": "complaint-lodge", "tld": "xa",
                "category": "non-technical", "text": "from the future"}, "result": {}}),
        };
        let hash = rootguard::store::event_hash(seq + 1, &e, &prev);
        conn.execute(
            "INSERT INTO events (seq, at, actor, role, kind, subject, section, payload, prev_hash, hash)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![seq + 1, e.at, e.actor, e.role, e.kind, e.subject, e.section, e.payload.to_string(), prev, hash],
        )
        .unwrap();
        let tree: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'tree'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        if tree > 0 {
            recompute_everything(&conn);
        }
    }
    let op = operator_args(dir.path());
    let mut args = vec!["migrate"];
    args.extend(op.iter().map(String::as_str));
    let report: Value = serde_json::from_str(&ok(&rg(&store, &args))).unwrap();
    assert!(report["migrated"].is_object(), "{report}");
    let export = ok(&rg(&store, &["audit", "export"]));
    let migrated = export
        .lines()
        .rev()
        .find(|l| l.contains("record-migrated"))
        .unwrap();
    assert!(
        migrated.contains("2099-01-01T00:00:00Z") && migrated.contains("set_back_to"),
        "{migrated}"
    );
    // A real-time writer is not locked out.
    ok(&rg(
        &store,
        &[
            "act",
            "complaint-lodge",
            "--tld",
            "xb",
            "--category",
            "technical",
            "--text",
            "now",
        ],
    ));
}

pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "record::checkpoints_are_signed_and_proofs_check",
            checkpoints_are_signed_and_proofs_check,
        ),
        crate::support::sync(
            "record::a_rewritten_journal_is_detected_even_with_every_hash_recomputed",
            a_rewritten_journal_is_detected_even_with_every_hash_recomputed,
        ),
        crate::support::sync("record::a_cut_tail_is_detected", a_cut_tail_is_detected),
        crate::support::sync(
            "record::a_record_in_the_previous_format_is_migrated_not_misread",
            a_record_in_the_previous_format_is_migrated_not_misread,
        ),
        crate::support::sync(
            "record::the_guard_key_rotates_by_an_event_sealed_with_the_old_key",
            the_guard_key_rotates_by_an_event_sealed_with_the_old_key,
        ),
        crate::support::sync(
            "record::a_spliced_journal_is_refused",
            a_spliced_journal_is_refused,
        ),
        crate::support::sync(
            "record::the_current_format_fixture_opens_as_written",
            the_current_format_fixture_opens_as_written,
        ),
        crate::support::sync(
            "record::a_forged_change_is_never_applied_nor_signed",
            a_forged_change_is_never_applied_nor_signed,
        ),
        crate::support::sync(
            "record::a_forged_migration_cannot_bring_its_own_guard_key",
            a_forged_migration_cannot_bring_its_own_guard_key,
        ),
        crate::support::sync(
            "record::the_guard_never_signs_over_rows_it_did_not_admit",
            the_guard_never_signs_over_rows_it_did_not_admit,
        ),
        crate::support::sync(
            "record::a_migrated_record_keeps_the_system_clock",
            a_migrated_record_keeps_the_system_clock,
        ),
        crate::support::sync(
            "record::a_backup_taken_while_writing_restores",
            a_backup_taken_while_writing_restores,
        ),
        crate::support::sync(
            "record::an_event_appended_without_the_key_is_detected",
            an_event_appended_without_the_key_is_detected,
        ),
    ]
}

/// Asserts that `now` holds everything `then` held, value for value: a
/// record reads as it was written; fields added to the state since (new
/// settings with their defaults, new counters) may stand beside them.
fn reads_as(now: &Value, then: &Value, path: &str) {
    match (now, then) {
        (Value::Object(n), Value::Object(t)) => {
            for (k, v) in t {
                let at = format!("{path}/{k}");
                let Some(nv) = n.get(k) else {
                    panic!("{at} is gone: it was {v}");
                };
                reads_as(nv, v, &at);
            }
        }
        (Value::Array(n), Value::Array(t)) => {
            assert_eq!(n.len(), t.len(), "{path}: {now} was {then}");
            for (i, (nv, tv)) in n.iter().zip(t).enumerate() {
                reads_as(nv, tv, &format!("{path}/{i}"));
            }
        }
        _ => assert_eq!(now, then, "{path}"),
    }
}

/// Asserts that `audit verify --checkpoint` fails (exit 1) naming event
/// `seq` as the first bad one, for a reason containing `why`.
fn refused_at(store: &Path, kept: &Path, key: &Path, seq: i64, why: &str) {
    let (code, v) = verify(store, kept, key);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["first_bad"]["seq"], seq, "{v}");
    assert!(
        v["first_bad"]["reason"].as_str().unwrap().contains(why),
        "{v}"
    );
}
