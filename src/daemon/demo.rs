//! `rootguard demo`: the demo lab (`zones/lab/`) served in-process and the
//! daemon watching it, with a scripted scenario: .xg and .xh start
//! healthy; after 20 s .xg's servers go silent, and after 30 s .xh rolls to
//! a new key the root's DS does not name (DNSSEC-bogus); after 90 s .xh's
//! manager submits a change request replacing the DS, and after 120 s .xg's
//! servers come back. With sweeps every 10 s and K = R = 3, complaints and
//! suspensions appear within about a minute and the suspensions are lifted
//! by themselves within about three. Progress is printed as it happens.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{DaemonError, run_with};
use crate::app::{App, When};
use crate::config::Config;
use crate::lab::{Faults, Lab, LabKey, load_dir};
use crate::policy::Role;
use crate::policy::gate::{ChangeRequest, Confirmations};

/// Why the demo could not run.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The lab could not start.
    #[error(transparent)]
    Lab(#[from] crate::lab::LabError),
    /// The daemon failed.
    #[error(transparent)]
    Daemon(#[from] DaemonError),
}

/// The demo's timeline.
#[derive(Clone, Copy, Debug)]
pub struct Timeline {
    /// Seconds between sweeps (default 10).
    pub sweep_secs: u64,
    /// Seconds after start when .xg's servers go silent (default 20).
    pub silent_after: u64,
    /// Seconds after start when .xh rolls to a key its DS does not name (default 30).
    pub key_roll_after: u64,
    /// Seconds after start when .xh's manager submits the DS fix (default 90).
    pub ds_fix_after: u64,
    /// Seconds after start when .xg's servers come back (default 120).
    pub servers_back_after: u64,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            sweep_secs: 10,
            silent_after: 20,
            key_roll_after: 30,
            ds_fix_after: 90,
            servers_back_after: 120,
        }
    }
}

/// The demo's configuration for `lab_dir`, with the record in `store`.
pub fn config(lab_dir: &Path, store: &Path, listen: std::net::SocketAddr, port: u16) -> Config {
    let mut c = Config {
        store: store.to_path_buf(),
        ..Config::default()
    };
    c.zone.file = Some(lab_dir.join("root.zone"));
    let registry = lab_dir.join("registry.json");
    c.zone.registry = registry.exists().then_some(registry);
    c.profile = Some(lab_dir.join("profile.toml"));
    c.sweep.interval_secs = Timeline::default().sweep_secs;
    c.probe.port = port;
    c.probe.udp_timeout_ms = 1000;
    c.probe.tcp_timeout_ms = 1500;
    c.http.listen = listen;
    // The identities the first start registers: an operator and .xh's
    // manager, each with a fresh random token (docs/RULES.md#identities).
    use crate::ledger::Kind;
    for (name, role, kind, tlds) in [
        ("demo-operator", Role::Operator, None, vec![]),
        ("xh-manager", Role::Manager, None, vec!["xh".to_string()]),
        (
            "xh-admin",
            Role::Manager,
            Some(Kind::AdminContact),
            vec!["xh".to_string()],
        ),
        (
            "xh-tech",
            Role::Manager,
            Some(Kind::TechContact),
            vec!["xh".to_string()],
        ),
    ] {
        c.http.tokens.push(crate::config::TokenConfig {
            name: name.into(),
            sha256: crate::http::auth::token_hash(&random_token()),
            role,
            kind,
            tlds,
            case: None,
        });
    }
    c
}

/// The credential of the demo's identity `id` (authenticated as by its
/// token).
fn as_identity(id: &str) -> crate::ledger::Credential {
    crate::ledger::Credential::Identity {
        id: id.into(),
        command: None,
        input_size: 0,
        input_sha256: String::new(),
    }
}

/// A random token (hex).
fn random_token() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    hex::encode(bytes)
}

/// Runs the demo until `shutdown`.
pub async fn run(
    lab_dir: &Path,
    store: &Path,
    listen: std::net::SocketAddr,
    timeline: Timeline,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), DemoError> {
    let (spec, zone) = load_dir(lab_dir)?;
    let port = spec.port;
    let mut lab = Lab::start(spec, &zone).await?;
    // Both start healthy, whatever lab.toml says for `check --lab`.
    lab.set_faults("ns1.xg.", Faults::default());
    lab.set_faults("ns2.xg.", Faults::default());
    lab.set_key_generation("xh", 1);
    let lab = Arc::new(std::sync::Mutex::new(lab));
    eprintln!(
        "rootguard demo: lab of {} ccTLDs on 127.0.0.0/8 port {port}; record in {}",
        lab.lock().map(|l| l.index.delegations.len()).unwrap_or(0),
        store.display()
    );
    let mut config = config(lab_dir, store, listen, port);
    config.sweep.interval_secs = timeline.sweep_secs.max(1);
    let scenario_lab = lab.clone();
    let started = std::time::Instant::now();
    run_with(config, shutdown, move |shared| {
        tokio::spawn(scenario(shared.clone(), scenario_lab, timeline, started));
        tokio::spawn(narrate(shared, started));
    })
    .await?;
    Ok(())
}

async fn at(started: std::time::Instant, secs: u64) {
    let target = started + Duration::from_secs(secs);
    tokio::time::sleep_until(tokio::time::Instant::from_std(target)).await;
}

fn with_lab(lab: &std::sync::Mutex<Lab>, f: impl FnOnce(&mut Lab)) {
    match lab.lock() {
        Ok(mut l) => f(&mut l),
        Err(p) => f(&mut p.into_inner()),
    }
}

async fn scenario(
    shared: Arc<App>,
    lab: Arc<std::sync::Mutex<Lab>>,
    timeline: Timeline,
    started: std::time::Instant,
) {
    at(started, timeline.silent_after).await;
    eprintln!(
        "demo [+{}s]: .xg's name servers go silent",
        started.elapsed().as_secs()
    );
    let silent = Faults {
        silent: true,
        ..Faults::default()
    };
    with_lab(&lab, |l| {
        l.set_faults("ns1.xg.", silent.clone());
        l.set_faults("ns2.xg.", silent.clone());
    });
    at(started, timeline.key_roll_after).await;
    eprintln!(
        "demo [+{}s]: .xh rolls to a new key; the root's DS still names the old one",
        started.elapsed().as_secs()
    );
    with_lab(&lab, |l| {
        l.set_key_generation("xh", 2);
    });
    at(started, timeline.ds_fix_after).await;
    let world = shared.world();
    if let Some(xh) = world.approved.get("xh") {
        let request = ChangeRequest {
            tld: crate::zone::Tld::parse("xh").expect("a TLD label"),
            submitted_by: "xh-manager".into(),
            on_behalf_of: xh.manager.clone(),
            manager: None,
            ns: None,
            glue: None,
            ds: Some(vec![LabKey::derive("xh", 2).ds()]),
            admin_contact: None,
            tech_contact: None,
            confirmations: Confirmations::default(),
        };
        eprintln!(
            "demo [+{}s]: .xh's manager submits a change request replacing its DS with the new key's",
            started.elapsed().as_secs()
        );
        // Its contacts confirm it, each with its own identity.
        for contact in ["xh-admin", "xh-tech"] {
            let confirm = crate::ledger::Action::ChangeConfirm {
                request: Box::new(request.clone()),
            };
            if let Err(e) = shared
                .submit_input(as_identity(contact), When::Now, confirm)
                .await
            {
                eprintln!("demo: {contact} could not confirm: {e}");
            }
        }
        match shared
            .gate(
                crate::ledger::Credential::Identity {
                    id: "xh-manager".into(),
                    command: None,
                    input_size: 0,
                    input_sha256: String::new(),
                },
                When::Now,
                request,
            )
            .await
        {
            Ok((r, d)) => eprintln!(
                "demo: change request decided: {} (event {})",
                if d.allowed { "ALLOWED" } else { "BLOCKED" },
                r.event.seq
            ),
            Err(e) => eprintln!("demo: change request failed: {e}"),
        }
    }
    at(started, timeline.servers_back_after).await;
    eprintln!(
        "demo [+{}s]: .xg's name servers come back",
        started.elapsed().as_secs()
    );
    with_lab(&lab, |l| {
        l.set_faults("ns1.xg.", Faults::default());
        l.set_faults("ns2.xg.", Faults::default());
    });
}

/// Prints complaints and suspensions as they open and close.
async fn narrate(shared: Arc<App>, started: std::time::Instant) {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    loop {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let world = shared.world();
        for (tld, t) in &world.technical {
            let complaints: Vec<String> = t
                .tracks
                .iter()
                .filter(|(_, tr)| matches!(tr, crate::policy::technical::Track::Open { .. }))
                .map(|(f, _)| format!("{f:?}"))
                .collect();
            let now = format!(
                "complaints {complaints:?}, suspension {:?}",
                t.active_measure()
            );
            if seen.get(tld) != Some(&now) {
                if seen.contains_key(tld) || !complaints.is_empty() || t.active_measure().is_some()
                {
                    eprintln!(
                        "demo [+{}s]: .{tld}: open {now}",
                        started.elapsed().as_secs()
                    );
                }
                seen.insert(tld.clone(), now);
            }
        }
    }
}
