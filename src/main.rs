//! The `rootguard` binary: parses arguments, starts logging, calls the
//! library and maps the outcome to an exit status (0 ok, 1 degraded,
//! 2 threat, 3 bad input, 4 runtime failure).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use rootguard::checks::report::{CheckOptions, check};
use rootguard::checks::{CATALOGUE, Profile};
use rootguard::lab::{Lab, LabKey, derive, load_dir};
use rootguard::ledger::{Action, Ledger, Role, Settings};
use rootguard::operator;
use rootguard::policy::PolicyConfig;
use rootguard::probe::ProbeConfig;
use rootguard::zone::summary::Summary;
use rootguard::zone::verify::{TrustAnchor, verify_zone};
use rootguard::zone::{Registry, Zone, ZoneIndex, diff};

/// rootguard: a DNS root zone delegation guard for ccTLDs.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The record: one SQLite file (default rootguard.sqlite; for `serve`,
    /// the configuration's `store`).
    #[arg(long, global = true, env = "ROOTGUARD_STORE")]
    store: Option<PathBuf>,
    /// Who acts (recorded with every event).
    #[arg(
        long,
        global = true,
        env = "ROOTGUARD_ACTOR",
        default_value = "operator"
    )]
    actor: String,
    /// The actor's role.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "ROOTGUARD_ROLE",
        default_value = "operator"
    )]
    role: Role,
    /// The time of the action (RFC 3339; default now): the injectable clock.
    #[arg(long, global = true, env = "ROOTGUARD_NOW")]
    now: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// Where the daemon's configuration comes from.
#[derive(Args)]
struct ConfigArgs {
    /// Configuration file (TOML).
    #[arg(long, env = "ROOTGUARD_CONFIG")]
    config: Option<PathBuf>,
    /// Override one key: `section.key=value` (repeatable).
    #[arg(long = "set")]
    sets: Vec<String>,
    /// HTTP listen address (same as --set http.listen=...).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
}

impl ConfigArgs {
    fn load(&self, store: Option<&std::path::Path>) -> anyhow::Result<rootguard::config::Config> {
        let mut sets = Vec::new();
        if let Some(s) = store {
            sets.push(format!("store={:?}", s.display().to_string()));
        }
        sets.extend(self.sets.iter().cloned());
        if let Some(l) = self.listen {
            sets.push(format!("http.listen={:?}", l.to_string()));
        }
        Ok(rootguard::config::Config::load(
            self.config.as_deref(),
            std::env::vars(),
            &sets,
        )?)
    }
}

/// Probe settings shared by the commands that probe.
#[derive(Args)]
struct ProbeArgs {
    /// Port of the name servers (default 53; with --lab the lab's port).
    #[arg(long)]
    dns_port: Option<u16>,
    /// Resolver (ip:port) for NS hosts without glue (default: the system's, or the lab's).
    #[arg(long)]
    resolver: Option<std::net::SocketAddr>,
    /// UDP time budget per query in ms, retries included.
    #[arg(long, default_value_t = 2000)]
    udp_timeout_ms: u64,
    /// TCP time budget per query in ms.
    #[arg(long, default_value_t = 3000)]
    tcp_timeout_ms: u64,
    /// Queries in flight at once.
    #[arg(long, default_value_t = 512)]
    concurrency: usize,
}

impl ProbeArgs {
    fn config(&self) -> ProbeConfig {
        ProbeConfig {
            port: self.dns_port.unwrap_or(53),
            udp_timeout_ms: self.udp_timeout_ms,
            tcp_timeout_ms: self.tcp_timeout_ms,
            concurrency: self.concurrency,
            resolver: self.resolver,
            ..ProbeConfig::default()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Probe TLDs' name servers and report findings (exit 0 ok, 1 degraded, 2 threat, 3 bad input).
    Check(CheckArgs),
    /// Root zone files: summary and diff.
    #[command(subcommand)]
    Zone(ZoneCommand),
    /// Demo and test labs of in-process name servers on loopback.
    #[command(subcommand)]
    Lab(LabCommand),
    /// Seed the approved delegation record from a root zone and a registry file (once).
    Import {
        /// Root zone file.
        #[arg(long)]
        root_zone: PathBuf,
        /// Registry file (tld-managers.json format): managers and contacts.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// K: sweeps a finding or threat must persist (default 3).
        #[arg(long, default_value_t = 3)]
        persist_sweeps: u32,
        /// R: clear sweeps before a suspension is lifted (default 3).
        #[arg(long, default_value_t = 3)]
        clear_sweeps: u32,
        /// Propose justified suspensions to an operator instead of imposing them.
        #[arg(long)]
        propose_suspensions: bool,
        /// Appeal window in days (BP §6.4 sets none).
        #[arg(long, default_value_t = 30)]
        appeal_window_days: i64,
    },
    /// Record a governance action (complaints, mediation, cases, suspensions).
    Act {
        /// JSON output.
        #[arg(long)]
        json: bool,
        /// Probe settings for the pre-check of an applicant's proposed delegation.
        #[command(flatten)]
        probe: ProbeArgs,
        /// Check profile for that pre-check (TOML).
        #[arg(long)]
        profile: Option<PathBuf>,
        #[command(subcommand)]
        action: Action,
    },
    /// Record actions read from stdin, one JSON action a line (as `act`
    /// takes them, e.g. {"action":"complaint-lodge","tld":"xa",...}); each
    /// acknowledged event is printed once durably committed.
    Batch,
    /// Probe every approved ccTLD once and feed the findings to the rules.
    Sweep {
        #[command(flatten)]
        probe: ProbeArgs,
        /// Check profile (TOML).
        #[arg(long)]
        profile: Option<PathBuf>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Decide a change request (exit 0 allowed, 1 blocked, 3 bad input).
    Gate {
        /// The request (JSON, docs/change-request.schema.json).
        request: PathBuf,
        #[command(flatten)]
        probe: ProbeArgs,
        /// Check profile for the pre-check (TOML).
        #[arg(long)]
        profile: Option<PathBuf>,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Unauthorised differences between a root zone and the record (exit 1 when any).
    Drift {
        /// Root zone file.
        #[arg(long)]
        root_zone: PathBuf,
        /// Registry file, to recognise IDN ccTLDs.
        #[arg(long)]
        registry: Option<PathBuf>,
    },
    /// Show recorded state as JSON: `complaint N`, `case N`, `tld X`, `decisions`, `all`.
    Show {
        /// What to show.
        what: String,
        /// Its number or label.
        key: Option<String>,
    },
    /// The journal: verify the hash chain, or export it as JSON lines.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Run the watching daemon: sweeps, rules, HTTP API, metrics (SIGTERM/SIGINT stop it cleanly).
    Serve {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// The demo: the lab in zones/lab served in-process, watched by the daemon (http://127.0.0.1:8080/).
    Demo {
        /// Lab directory.
        #[arg(long, default_value = "zones/lab")]
        lab: PathBuf,
        /// HTTP listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Seconds between sweeps.
        #[arg(long, default_value_t = 10)]
        sweep_secs: u64,
        /// Seconds until .xg's servers go silent.
        #[arg(long, default_value_t = 20)]
        silent_after: u64,
        /// Seconds until .xh rolls to a key its DS does not name.
        #[arg(long, default_value_t = 30)]
        key_roll_after: u64,
        /// Seconds until .xh's manager fixes its DS.
        #[arg(long, default_value_t = 90)]
        ds_fix_after: u64,
        /// Seconds until .xg's servers come back.
        #[arg(long, default_value_t = 120)]
        servers_back_after: u64,
    },
    /// Print the effective configuration (defaults < file < ROOTGUARD_* < --set).
    Config {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Print the check catalogue.
    Checks {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
struct CheckArgs {
    /// TLDs to check (labels, e.g. `fr` or `xn--p1ai`).
    tlds: Vec<String>,
    /// Check every ccTLD of the root zone.
    #[arg(long)]
    all_cctlds: bool,
    /// Root zone file (default with --lab: the lab's root.zone).
    #[arg(long)]
    root_zone: Option<PathBuf>,
    /// Registry file (tld-managers.json format), to recognise IDN ccTLDs.
    #[arg(long)]
    registry: Option<PathBuf>,
    /// Check profile (TOML).
    #[arg(long)]
    profile: Option<PathBuf>,
    /// Serve this lab directory in-process while checking.
    #[arg(long)]
    lab: Option<PathBuf>,
    #[command(flatten)]
    probe: ProbeArgs,
    /// Evaluate signatures as of this time (RFC 3339); default now.
    #[arg(long)]
    at: Option<String>,
    /// JSON output (schema rootguard.check/1).
    #[arg(long)]
    json: bool,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify the hash chain (exit 1 naming the first bad event).
    Verify {
        /// A head hash recorded earlier (e.g. from a previous verify or
        /// export): the chain must still contain it, which detects events
        /// removed from the end.
        #[arg(long)]
        expect_head: Option<String>,
    },
    /// Write the journal as JSON lines to stdout.
    Export,
}

#[derive(Subcommand)]
enum ZoneCommand {
    /// Serial, TLD and ccTLD counts, NS distribution, DS, authenticity.
    Summary {
        /// Root zone file.
        file: PathBuf,
        /// Registry file, to recognise IDN ccTLDs.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Trust anchor file with DS or DNSKEY records for '.' (default: built-in root KSKs).
        #[arg(long)]
        trust_anchor: Option<PathBuf>,
        /// Verify as of this time (RFC 3339); default now.
        #[arg(long)]
        at: Option<String>,
        /// Parse and index only; do not verify signatures or ZONEMD.
        #[arg(long)]
        no_verify: bool,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Delegation differences between two root zone files.
    Diff {
        /// The older file.
        old: PathBuf,
        /// The newer file.
        new: PathBuf,
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum LabCommand {
    /// Serve a lab directory (root.zone, lab.toml) until interrupted.
    Serve {
        /// Lab directory.
        dir: PathBuf,
    },
    /// Derive a lab from a root zone: same TLDs and NS names, hosts on loopback.
    Derive {
        /// Root zone file.
        root_zone: PathBuf,
        /// Output directory.
        #[arg(long)]
        out: PathBuf,
        /// Registry file, to include IDN ccTLDs.
        #[arg(long)]
        registry: Option<PathBuf>,
        /// Port of the lab's servers.
        #[arg(long, default_value_t = 5300)]
        port: u16,
        /// Include every TLD, not only ccTLDs.
        #[arg(long)]
        all_tlds: bool,
    },
    /// Print the DS record of a lab TLD's key.
    Ds {
        /// TLD label.
        tld: String,
        /// Key generation.
        #[arg(long, default_value_t = 1)]
        generation: u32,
    },
}

fn parse_at(at: Option<&str>) -> anyhow::Result<Option<u32>> {
    at.map(|s| {
        s.parse::<jiff::Timestamp>()
            .map(|t| t.as_second() as u32)
            .with_context(|| {
                format!("--at {s:?}: not an RFC 3339 time (e.g. 2018-01-31T00:00:00Z)")
            })
    })
    .transpose()
}

/// Writes to stdout; a closed pipe (`| head`) ends output quietly.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    emit(&(serde_json::to_string_pretty(value)? + "\n"))
}

fn now(cli_now: Option<&str>) -> anyhow::Result<i64> {
    Ok(match cli_now {
        Some(s) => s
            .parse::<jiff::Timestamp>()
            .with_context(|| format!("--now {s:?}: not an RFC 3339 time"))?
            .as_second(),
        None => jiff::Timestamp::now().as_second(),
    })
}

fn profile_from(path: Option<&std::path::Path>) -> anyhow::Result<Profile> {
    Ok(match path {
        Some(p) => Profile::from_file(p)?,
        None => Profile::default(),
    })
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    let at = now(cli.now.as_deref())?;
    let store = cli
        .store
        .clone()
        .unwrap_or_else(|| PathBuf::from("rootguard.sqlite"));
    match cli.command {
        Command::Import {
            root_zone,
            registry,
            persist_sweeps,
            clear_sweeps,
            propose_suspensions,
            appeal_window_days,
        } => {
            let mut ledger = Ledger::open(&store)?;
            let settings = Settings {
                policy: PolicyConfig {
                    persist_sweeps,
                    clear_sweeps,
                    auto_suspend: !propose_suspensions,
                },
                appeal_window_days,
            };
            let r = operator::import(
                &mut ledger,
                &root_zone,
                registry.as_deref(),
                settings,
                &cli.actor,
                at,
            )?;
            emit(&format!("event {}: {}\n", r.event.seq, r.result))?;
            Ok(0)
        }
        Command::Act {
            json,
            probe,
            profile,
            action,
        } => {
            let mut ledger = Ledger::open(&store)?;
            let profile = profile_from(profile.as_deref())?;
            let action = operator::prepare(&ledger, action, probe.config(), &profile, at).await;
            let r = ledger.submit(&cli.actor, cli.role, at, action)?;
            if json {
                print_json(&r)?;
            } else {
                emit(&format!(
                    "event {} {}: {}\n",
                    r.event.seq, r.event.event.kind, r.result
                ))?;
            }
            Ok(0)
        }
        Command::Batch => {
            use std::io::{BufRead, Write};
            let mut ledger = Ledger::open(&store)?;
            let mut refused = false;
            for (n, line) in std::io::stdin().lock().lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                let action: Action = serde_json::from_str(&line)
                    .with_context(|| format!("stdin:{}: not an action", n + 1))?;
                let at = now(cli.now.as_deref())?;
                match ledger.submit(&cli.actor, cli.role, at, action) {
                    Ok(r) => {
                        let mut out = std::io::stdout().lock();
                        writeln!(
                            out,
                            "{}",
                            serde_json::json!({"seq": r.event.seq, "kind": r.event.event.kind})
                        )?;
                        out.flush()?;
                    }
                    Err(rootguard::ledger::LedgerError::Refused(e)) => {
                        refused = true;
                        eprintln!("stdin:{}: {e}", n + 1);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(if refused { 3 } else { 0 })
        }
        Command::Sweep {
            probe,
            profile,
            json,
        } => {
            let mut ledger = Ledger::open(&store)?;
            let profile = profile_from(profile.as_deref())?;
            let s = operator::sweep(&mut ledger, probe.config(), &profile, at).await?;
            if json {
                print_json(&s)?;
            } else {
                let mut text = format!(
                    "sweep of {} ccTLDs{}\n",
                    s.reports.len(),
                    if s.impaired {
                        " (vantage point IMPAIRED: no complaint or suspension)"
                    } else {
                        ""
                    }
                );
                for r in &s.recorded {
                    for e in r.result["effects"].as_array().into_iter().flatten() {
                        text.push_str(&format!("  {} {}\n", r.event.event.subject, e));
                    }
                }
                emit(&text)?;
            }
            Ok(0)
        }
        Command::Gate {
            request,
            probe,
            profile,
            json,
        } => {
            let mut ledger = Ledger::open(&store)?;
            let profile = profile_from(profile.as_deref())?;
            let req = operator::read_request(&request)?;
            let (r, d) = operator::gate(
                &mut ledger,
                req,
                probe.config(),
                &profile,
                &cli.actor,
                cli.role,
                at,
            )
            .await?;
            if json {
                print_json(&serde_json::json!({"event": r.event.seq, "decision": d}))?;
            } else {
                let mut text = format!(
                    "{} ({:?}), recorded as event {}\n",
                    if d.allowed { "ALLOWED" } else { "BLOCKED" },
                    d.kind,
                    r.event.seq
                );
                for x in &d.reasons {
                    text.push_str(&format!("  - {} [{}]\n", x.text, x.section));
                }
                emit(&text)?;
            }
            Ok(if d.allowed { 0 } else { 1 })
        }
        Command::Drift {
            root_zone,
            registry,
        } => {
            let ledger = Ledger::open(&store)?;
            let d = operator::zone_drift(&ledger, &root_zone, registry.as_deref())?;
            print_json(&d)?;
            Ok(if d.is_empty() { 0 } else { 1 })
        }
        Command::Show { what, key } => {
            let ledger = Ledger::open(&store)?;
            let w = ledger.world();
            let missing = || anyhow::anyhow!("show {what}: give a number or label");
            let value = match what.as_str() {
                "complaint" => serde_json::to_value(
                    w.complaints.get(&key.ok_or_else(missing)?.parse::<u64>()?),
                )?,
                "case" => {
                    serde_json::to_value(w.cases.get(&key.ok_or_else(missing)?.parse::<u64>()?))?
                }
                "tld" => {
                    let k = key.ok_or_else(missing)?;
                    serde_json::json!({"approved": w.approved.get(&k), "technical": w.technical.get(&k)})
                }
                "decisions" => serde_json::to_value(&w.decisions)?,
                "all" => serde_json::to_value(w)?,
                other => {
                    anyhow::bail!("show {other}: expected complaint, case, tld, decisions or all")
                }
            };
            print_json(&value)?;
            Ok(0)
        }
        Command::Serve { config } => {
            let config = config.load(cli.store.as_deref())?;
            let shutdown = async {
                let mut term =
                    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                    {
                        Ok(t) => t,
                        Err(_) => return std::future::pending().await,
                    };
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            };
            rootguard::daemon::run(config, shutdown).await?;
            Ok(0)
        }
        Command::Demo {
            lab,
            listen,
            sweep_secs,
            silent_after,
            key_roll_after,
            ds_fix_after,
            servers_back_after,
        } => {
            let store = cli.store.clone().unwrap_or_else(|| {
                std::env::temp_dir().join(format!("rootguard-demo-{}.sqlite", std::process::id()))
            });
            eprintln!(
                "rootguard demo: API at http://{listen}/api/v1/tlds, metrics at http://{listen}/metrics; Ctrl-C to stop"
            );
            let timeline = rootguard::daemon::demo::Timeline {
                sweep_secs,
                silent_after,
                key_roll_after,
                ds_fix_after,
                servers_back_after,
            };
            rootguard::daemon::demo::run(&lab, &store, listen, timeline, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
            Ok(0)
        }
        Command::Config { config } => {
            emit(&config.load(cli.store.as_deref())?.to_toml())?;
            Ok(0)
        }
        Command::Audit(AuditCommand::Verify { expect_head }) => {
            let store = rootguard::store::Store::open(&store)?;
            let r = store.verify_with_head(expect_head.as_deref())?;
            print_json(&r)?;
            Ok(if r.first_bad.is_none() { 0 } else { 1 })
        }
        Command::Audit(AuditCommand::Export) => {
            let store = rootguard::store::Store::open(&store)?;
            let mut out = std::io::stdout().lock();
            store.export(&mut out)?;
            Ok(0)
        }
        Command::Check(a) => {
            let opts = CheckOptions {
                tlds: a.tlds,
                all_cctlds: a.all_cctlds,
                root_zone: a.root_zone,
                registry: a.registry,
                profile: a.profile,
                lab: a.lab,
                probe: a.probe.config(),
                port: a.probe.dns_port,
                at: parse_at(a.at.as_deref())?,
            };
            let report = check(&opts).await?;
            if a.json {
                print_json(&report)?;
            } else {
                emit(&report.to_string())?;
            }
            Ok(report.exit_code())
        }
        Command::Zone(ZoneCommand::Summary {
            file,
            registry,
            trust_anchor,
            at,
            no_verify,
            json,
        }) => {
            let at = parse_at(at.as_deref())?
                .unwrap_or_else(|| jiff::Timestamp::now().as_second() as u32);
            let zone = Zone::from_file(&file)?;
            let registry = registry.as_deref().map(Registry::from_file).transpose()?;
            let anchor = match trust_anchor {
                Some(p) => TrustAnchor::from_file(&p)?,
                None => TrustAnchor::builtin(at),
            };
            let index = ZoneIndex::build(&zone, registry.as_ref());
            let auth = (!no_verify).then(|| verify_zone(&zone, &anchor, at));
            let summary = Summary::new(&zone.source, &index, auth);
            if json {
                print_json(&summary)?;
            } else {
                emit(&summary.to_string())?;
            }
            Ok(0)
        }
        Command::Zone(ZoneCommand::Diff { old, new, json }) => {
            let old = ZoneIndex::build(&Zone::from_file(&old)?, None);
            let new = ZoneIndex::build(&Zone::from_file(&new)?, None);
            let d = diff::diff(&old, &new);
            if json {
                print_json(&d)?;
            } else {
                emit(&d.to_string())?;
            }
            Ok(0)
        }
        Command::Lab(LabCommand::Serve { dir }) => {
            let (spec, zone) = load_dir(&dir)?;
            let lab = Lab::start(spec, &zone).await?;
            eprintln!(
                "lab {}: {} addresses on port {}; Ctrl-C to stop",
                dir.display(),
                lab.addresses.len(),
                lab.spec.port
            );
            tokio::signal::ctrl_c().await?;
            lab.shutdown().await;
            Ok(0)
        }
        Command::Lab(LabCommand::Derive {
            root_zone,
            out,
            registry,
            port,
            all_tlds,
        }) => {
            let zone = Zone::from_file(&root_zone)?;
            let registry = registry.as_deref().map(Registry::from_file).transpose()?;
            let index = ZoneIndex::build(&zone, registry.as_ref());
            let lab = derive::derive(&index, port, |d| all_tlds || d.kind.is_cctld());
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            std::fs::write(out.join("root.zone"), &lab.root_zone)?;
            std::fs::write(out.join("lab.toml"), toml::to_string(&lab.spec)?)?;
            std::fs::write(
                out.join("profile.toml"),
                "name = \"loopback lab\"\ndisable = [\"ADDRESS-SCOPE\"]\n",
            )?;
            eprintln!("lab written to {}: {} NS hosts", out.display(), lab.hosts);
            Ok(0)
        }
        Command::Lab(LabCommand::Ds { tld, generation }) => {
            let tld = tld.trim_end_matches('.').to_ascii_lowercase();
            emit(&format!(
                "{tld}. 86400 IN DS {}\n",
                LabKey::derive(&tld, generation).ds()
            ))?;
            Ok(0)
        }
        Command::Checks { json } => {
            if json {
                print_json(&CATALOGUE)?;
            } else {
                let p = Profile::default();
                let mut text = String::new();
                for c in CATALOGUE {
                    text.push_str(&format!(
                        "{:<22} {:<8} {:<28} {}\n{:<22} {}\n",
                        c.id,
                        p.severity(c.id).to_string(),
                        c.zonemaster,
                        c.iana,
                        "",
                        c.tests
                    ));
                }
                emit(&text)?;
            }
            Ok(0)
        }
    }
}

/// 4 for failures of this machine (a lab port in use, I/O on stdout),
/// 3 for everything else, which is bad input.
fn exit_code_for(e: &anyhow::Error) -> u8 {
    use rootguard::checks::report::CheckError;
    use rootguard::lab::LabError;
    use rootguard::ledger::LedgerError;
    use rootguard::operator::OperatorError;
    let bind = |l: &LabError| matches!(l, LabError::Bind { .. });
    let store_failure = matches!(
        e.downcast_ref::<LedgerError>(),
        Some(LedgerError::Store(_)) | Some(LedgerError::Replay { .. })
    ) || matches!(
        e.downcast_ref::<OperatorError>(),
        Some(OperatorError::Ledger(LedgerError::Store(_)))
    ) || e.downcast_ref::<rootguard::store::StoreError>().is_some();
    let runtime = e.downcast_ref::<LabError>().is_some_and(bind)
        || matches!(e.downcast_ref::<CheckError>(), Some(CheckError::Lab(l)) if bind(l))
        || e.downcast_ref::<std::io::Error>().is_some()
        || store_failure;
    if runtime { 4 } else { 3 }
}

fn main() -> ExitCode {
    // clap exits with 2 on usage errors, which would read as "threat".
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 3 } else { 0 });
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ROOTGUARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rootguard: cannot start the async runtime: {e}");
            return ExitCode::from(4);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("rootguard: {e:#}");
            ExitCode::from(exit_code_for(&e))
        }
    }
}
