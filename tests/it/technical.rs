//! The technical path against a live lab: a threat persisting K sweeps
//! opens a complaint and imposes the least suspension; it is lifted by
//! itself R sweeps after the servers return; a technical change request
//! fixing a bogus DS is pre-checked and allowed, a bad one blocked; an
//! impaired vantage point opens nothing.

use crate::support::*;
use std::sync::Arc;

use rootguard::app::seed::SeedCheck;
use rootguard::app::{App, When};
use rootguard::config::Config;
use rootguard::lab::{Faults, Lab, load_dir};
use rootguard::ledger::Ledger;
use rootguard::policy::Role;
use rootguard::policy::gate::{ChangeRequest, Confirmations};
use rootguard::policy::technical::{Measure, Suspension};
use rootguard::probe::ProbeConfig;

/// The application on `store`, probing the lab on `probe`.
fn app(dir: &std::path::Path, store: &std::path::Path, probe: ProbeConfig) -> Arc<App> {
    let profile = dir.join("test-profile.toml");
    std::fs::write(&profile, "disable = [\"ADDRESS-SCOPE\"]\n").unwrap();
    App::open(Config {
        store: store.to_path_buf(),
        probe,
        profile: Some(profile),
        ..Config::default()
    })
    .unwrap()
}

async fn outage_suspension_lifts_itself_and_ds_fix_is_gated() {
    let mut root = RootZone::new();
    for (i, t) in ["xa", "xb", "xc", "xd", "xh"].iter().enumerate() {
        let i = i as u8 + 1;
        root = root.tld(
            t,
            &[
                ("ns1", &format!("127.70.{i}.1")),
                ("ns2", &format!("127.71.{i}.1")),
            ],
        );
    }
    root = root.lab_ds("xh");
    let lab_toml = "[server.\"ns1.xa.\"]\nsilent = true\n[server.\"ns2.xa.\"]\nsilent = true\n[tld.xh]\nkey_generation = 2\n";
    let (dir, port) = lab_dir(&root, lab_toml, None);
    let (spec, zone) = load_dir(dir.path()).unwrap();
    let lab = Lab::start(spec, &zone).await.unwrap();

    let store = dir.path().join("record.sqlite");
    let mut probe = test_probe();
    probe.port = port;
    let ledger = app(dir.path(), &store, probe);
    // Lab signatures are valid around the real time.
    let t0 = jiff::Timestamp::now().as_second();
    ledger
        .import(
            &dir.path().join("root.zone"),
            None,
            crate::support::simulation(),
            SeedCheck {
                skip: true,
                ..Default::default()
            },
            crate::support::operator(),
            When::At(rootguard::time::Timestamp::from_second(t0)),
        )
        .await
        .unwrap();

    // K = 3 sweeps with the outage: complaint and hold-delegation.
    for k in 0..3 {
        let s = ledger
            .sweep(When::At(rootguard::time::Timestamp::from_second(
                t0 + 60 * (k + 1),
            )))
            .await
            .unwrap();
        assert!(!s.impaired);
    }
    let xa = &ledger.world().technical["xa"];
    assert!(
        matches!(
            xa.suspension,
            Suspension::Active {
                measure: Measure::HoldDelegation,
                ..
            }
        ),
        "{xa:?}"
    );
    assert!(!xa.tracks.is_empty(), "a complaint is open");
    let xh = &ledger.world().technical["xh"];
    assert_eq!(
        xh.active_measure(),
        Some(Measure::WithholdDs),
        "bogus DS withheld"
    );
    assert_eq!(ledger.world().technical["xb"].active_measure(), None);
    let events = rootguard::store::Store::open(&store)
        .unwrap()
        .events()
        .unwrap();
    assert!(
        events.iter().any(|e| e.event.kind == "sweep"
            && e.event.payload.to_string().contains("suspension-imposed"))
    );

    // An operator cannot impose another measure, nor extend.
    let err = ledger
        .submit(
            "op",
            Role::Operator,
            When::At(rootguard::time::Timestamp::from_second(t0 + 300)),
            rootguard::ledger::Action::SuspensionImpose {
                tld: rootguard::zone::Tld::parse("xb").unwrap(),
                measure: Measure::HoldDelegation,
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("§4.3"), "{err}");

    // The servers return: lifted after R = 3 clear sweeps, complaint closed.
    lab.set_faults("ns1.xa.", Faults::default());
    lab.set_faults("ns2.xa.", Faults::default());
    for k in 0..2 {
        ledger
            .sweep(When::At(rootguard::time::Timestamp::from_second(
                t0 + 400 + 60 * k,
            )))
            .await
            .unwrap();
        assert!(
            ledger.world().technical["xa"].active_measure().is_some(),
            "not lifted before R sweeps"
        );
    }
    ledger
        .sweep(When::At(rootguard::time::Timestamp::from_second(t0 + 600)))
        .await
        .unwrap();
    let xa = &ledger.world().technical["xa"];
    assert_eq!(xa.suspension, Suspension::None);
    assert!(xa.tracks.is_empty(), "complaint closed: {:?}", xa.tracks);

    // A technical change that fixes xh's DS: pre-checked, allowed, applied.
    let fixed = rootguard::lab::LabKey::derive("xh", 2).ds();
    let mut req = ChangeRequest {
        tld: rootguard::zone::Tld::parse("xh").unwrap(),
        submitted_by: "xh-tech".into(),
        on_behalf_of: ledger.world().approved["xh"].manager.clone(),
        manager: None,
        ns: None,
        glue: None,
        ds: Some(vec![rootguard::lab::LabKey::derive("xh", 9).ds()]),
        admin_contact: None,
        tech_contact: None,
        confirmations: Confirmations::default(),
    };
    let at = |s: i64| When::At(rootguard::time::Timestamp::from_second(t0 + s));
    let xh_tech = crate::support::register(
        &ledger,
        at(698),
        "xh-tech",
        rootguard::ledger::Kind::TechContact,
        &["xh"],
    )
    .await;
    let xh_admin = crate::support::register(
        &ledger,
        at(698),
        "xh-admin",
        rootguard::ledger::Kind::AdminContact,
        &["xh"],
    )
    .await;
    // The incumbent's contacts confirm each request with their own
    // identities (docs/RULES.md#identities).
    let confirm = async |req: &ChangeRequest, s: i64| {
        for who in [&xh_tech, &xh_admin] {
            ledger
                .submit_input(
                    who.clone(),
                    at(s),
                    rootguard::ledger::Action::ChangeConfirm {
                        request: Box::new(req.clone()),
                    },
                )
                .await
                .unwrap();
        }
    };
    confirm(&req, 699).await;
    let (_, d) = ledger
        .gate(
            xh_tech.clone(),
            When::At(rootguard::time::Timestamp::from_second(t0 + 700)),
            req.clone(),
        )
        .await
        .unwrap();
    assert!(!d.allowed, "a DS that matches no key is blocked: {d:?}");
    assert!(
        !d.reasons.iter().any(|r| r.text.contains("confirmation")),
        "{d:?}"
    );
    req.ds = Some(vec![fixed.clone()]);
    confirm(&req, 700).await;
    let (_, d) = ledger
        .gate(
            xh_tech,
            When::At(rootguard::time::Timestamp::from_second(t0 + 701)),
            req,
        )
        .await
        .unwrap();
    assert!(d.allowed, "{d:?}");
    assert_eq!(ledger.world().approved["xh"].ds, vec![fixed]);
    assert_eq!(ledger.world().decisions.len(), 2);

    // Everything replays identically after a restart.
    let before = (*ledger.world()).clone();
    drop(ledger);
    let reopened = Ledger::open(&store).unwrap();
    assert_eq!(reopened.world(), &before);
    assert!(reopened.store().verify().unwrap().first_bad.is_none());
    lab.shutdown().await;
}

async fn impaired_vantage_opens_nothing() {
    let mut root = RootZone::new();
    let mut lab_toml = String::new();
    for (i, t) in ["xa", "xb", "xc", "xd"].iter().enumerate() {
        let i = i as u8 + 1;
        root = root.tld(
            t,
            &[
                ("ns1", &format!("127.72.{i}.1")),
                ("ns2", &format!("127.73.{i}.1")),
            ],
        );
        lab_toml.push_str(&format!(
            "[server.\"ns1.{t}.\"]\nsilent = true\n[server.\"ns2.{t}.\"]\nsilent = true\n"
        ));
    }
    let (dir, port) = lab_dir(&root, &lab_toml, None);
    let (spec, zone) = load_dir(dir.path()).unwrap();
    let lab = Lab::start(spec, &zone).await.unwrap();
    let mut probe = test_probe();
    probe.port = port;
    let ledger = app(dir.path(), &dir.path().join("r.sqlite"), probe);
    ledger
        .import(
            &dir.path().join("root.zone"),
            None,
            crate::support::simulation(),
            SeedCheck {
                skip: true,
                ..Default::default()
            },
            crate::support::operator(),
            When::At(rootguard::time::Timestamp::from_second(1_800_000_000)),
        )
        .await
        .unwrap();
    for k in 0..4 {
        let s = ledger
            .sweep(When::At(rootguard::time::Timestamp::from_second(
                1_800_000_060 + 60 * k,
            )))
            .await
            .unwrap();
        assert!(s.impaired);
    }
    for t in ledger.world().technical.values() {
        assert_eq!(t.suspension, Suspension::None);
        assert!(t.tracks.is_empty());
    }
    lab.shutdown().await;
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::asynch(
            "technical::outage_suspension_lifts_itself_and_ds_fix_is_gated",
            outage_suspension_lifts_itself_and_ds_fix_is_gated,
        ),
        crate::support::asynch(
            "technical::impaired_vantage_opens_nothing",
            impaired_vantage_opens_nothing,
        ),
    ]
}
