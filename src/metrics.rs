//! Every metric rootguard exports, in one place. Names carry the
//! `rootguard_` prefix; counters end in `_total`; every handle is created
//! once, in [`Metrics::new`].

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::checks::{TldReport, Verdict};
use crate::ledger::World;

/// Build information (version), always 1.
pub const BUILD_INFO: &str = "rootguard_build_info";
/// Per-TLD status: 0 ok, 1 degraded, 2 threat.
pub const TLD_STATUS: &str = "rootguard_tld_status";
/// Failed checks per TLD and check ID in the latest sweep.
pub const CHECK_FAILURES: &str = "rootguard_check_failures";
/// Whether an NS address answered SOA, per transport (1 up, 0 down).
pub const NS_UP: &str = "rootguard_nameserver_up";
/// Round-trip times of SOA queries per NS address and transport.
pub const NS_RTT_SECONDS: &str = "rootguard_nameserver_rtt_seconds";
/// Duration of sweeps.
pub const SWEEP_DURATION_SECONDS: &str = "rootguard_sweep_duration_seconds";
/// Time of the latest completed sweep (Unix seconds).
pub const SWEEP_LAST_SUCCESS: &str = "rootguard_sweep_last_success_timestamp_seconds";
/// Sweeps completed.
pub const SWEEPS_TOTAL: &str = "rootguard_sweeps_total";
/// Open complaints by category (technical ones include the guard's own).
pub const COMPLAINTS_OPEN: &str = "rootguard_complaints_open";
/// Active suspensions by measure.
pub const SUSPENSIONS_ACTIVE: &str = "rootguard_suspensions_active";
/// Gate decisions by outcome and kind.
pub const GATE_DECISIONS_TOTAL: &str = "rootguard_gate_decisions_total";
/// Unauthorised differences per TLD between the published zone and the record.
pub const DRIFT: &str = "rootguard_drift";
/// Per vantage (`vantage` label; the guard's own probe is `rootguard`):
/// whether it is impaired after the latest window (`docs/RULES.md#quorum`).
pub const VANTAGE_IMPAIRED: &str = "rootguard_vantage_impaired";
/// Per vantage: whether it reported in the latest window.
pub const VANTAGE_REPORTED: &str = "rootguard_vantage_reported";
/// Per vantage: the ccTLDs on which it differed from the quorum in the
/// latest window.
pub const VANTAGE_DIFFERING: &str = "rootguard_vantage_differing_tlds";
/// Whether the latest window decided (1) or had fewer healthy vantages
/// than the quorum (0).
pub const QUORUM_DECIDED: &str = "rootguard_quorum_decided";
/// Whether this instance leads the record (1) or follows the leader of a
/// shared record (0) (`docs/RULES.md#replication`).
pub const LEADER: &str = "rootguard_leader";
/// The record's current term as this instance knows it.
pub const TERM: &str = "rootguard_term";
/// Time from the arrival of the last report of a window to its decision
/// being recorded (`docs/RULES.md#quorum`).
pub const WINDOW_DECISION_SECONDS: &str = "rootguard_window_decision_seconds";
/// Observations received from vantages, by outcome (accepted, refused).
pub const OBSERVATIONS_TOTAL: &str = "rootguard_observations_total";
/// Active suspensions that need an operator to uphold or lift them
/// because the quorum has been lost (`docs/RULES.md#quorum-review`).
pub const SUSPENSION_REVIEW_DUE: &str = "rootguard_suspension_review_due";
/// Serial of the root zone in use.
pub const ZONE_SERIAL: &str = "rootguard_zone_serial";
/// Root zones refused (not authentic, unreadable).
pub const ZONE_REJECTED_TOTAL: &str = "rootguard_zone_rejected_total";
/// The record, always 1; `simulation="true"` for a record created as a
/// simulation (`docs/RULES.md#identities`).
pub const RECORD_INFO: &str = "rootguard_record_info";

/// The metric handles.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// The RTT series of the last sweep (ccTLD, address, transport), so
    /// that those of addresses no longer swept are removed.
    rtt_series: std::sync::Arc<std::sync::Mutex<std::collections::BTreeSet<[String; 4]>>>,
    /// See [`BUILD_INFO`].
    pub build_info: IntGaugeVec,
    /// See [`RECORD_INFO`].
    pub record_info: IntGaugeVec,
    /// See [`TLD_STATUS`].
    pub tld_status: IntGaugeVec,
    /// See [`CHECK_FAILURES`].
    pub check_failures: IntGaugeVec,
    /// See [`NS_UP`].
    pub ns_up: IntGaugeVec,
    /// See [`NS_RTT_SECONDS`].
    pub ns_rtt: HistogramVec,
    /// See [`SWEEP_DURATION_SECONDS`].
    pub sweep_duration: Histogram,
    /// See [`SWEEP_LAST_SUCCESS`].
    pub sweep_last_success: IntGauge,
    /// See [`SWEEPS_TOTAL`].
    pub sweeps: IntCounter,
    /// See [`COMPLAINTS_OPEN`].
    pub complaints_open: IntGaugeVec,
    /// See [`SUSPENSIONS_ACTIVE`].
    pub suspensions_active: IntGaugeVec,
    /// See [`GATE_DECISIONS_TOTAL`].
    pub gate_decisions: IntCounterVec,
    /// See [`DRIFT`].
    pub drift: IntGaugeVec,
    /// See [`VANTAGE_IMPAIRED`].
    pub vantage_impaired: IntGaugeVec,
    /// See [`VANTAGE_REPORTED`].
    pub vantage_reported: IntGaugeVec,
    /// See [`VANTAGE_DIFFERING`].
    pub vantage_differing: IntGaugeVec,
    /// See [`QUORUM_DECIDED`].
    pub quorum_decided: IntGauge,
    /// See [`LEADER`].
    pub leader: IntGauge,
    /// See [`TERM`].
    pub term: IntGauge,
    /// See [`OBSERVATIONS_TOTAL`].
    pub observations: IntCounterVec,
    /// See [`WINDOW_DECISION_SECONDS`].
    pub window_decision: Histogram,
    /// See [`SUSPENSION_REVIEW_DUE`].
    pub suspension_review_due: IntGauge,
    /// See [`ZONE_SERIAL`].
    pub zone_serial: IntGauge,
    /// See [`ZONE_REJECTED_TOTAL`].
    pub zone_rejected: IntCounter,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn gauge_vec(r: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    r.register(Box::new(g.clone())).expect("registered once");
    g
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Metrics {
        let r = Registry::new();
        let build_info = gauge_vec(&r, BUILD_INFO, "Build information, always 1.", &["version"]);
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let ns_rtt = HistogramVec::new(
            HistogramOpts::new(
                NS_RTT_SECONDS,
                "Round-trip time of SOA queries per NS address and transport.",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 3.0,
            ]),
            &["tld", "address", "transport", "vantage"],
        )
        .expect("valid metric");
        r.register(Box::new(ns_rtt.clone()))
            .expect("registered once");
        let sweep_duration = Histogram::with_opts(
            HistogramOpts::new(SWEEP_DURATION_SECONDS, "Duration of sweeps.")
                .buckets(vec![0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0]),
        )
        .expect("valid metric");
        r.register(Box::new(sweep_duration.clone()))
            .expect("registered once");
        let window_decision = Histogram::with_opts(
            HistogramOpts::new(
                WINDOW_DECISION_SECONDS,
                "Time from the last report of a window arriving to its decision recorded.",
            )
            .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0]),
        )
        .expect("valid metric");
        r.register(Box::new(window_decision.clone()))
            .expect("registered once");
        let gauge = |name: &str, help: &str| {
            let g = IntGauge::new(name, help).expect("valid metric");
            r.register(Box::new(g.clone())).expect("registered once");
            g
        };
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            r.register(Box::new(c.clone())).expect("registered once");
            c
        };
        let gate_decisions = IntCounterVec::new(
            Opts::new(GATE_DECISIONS_TOTAL, "Gate decisions by outcome and kind."),
            &["outcome", "kind"],
        )
        .expect("valid metric");
        r.register(Box::new(gate_decisions.clone()))
            .expect("registered once");
        let observations = IntCounterVec::new(
            Opts::new(
                OBSERVATIONS_TOTAL,
                "Observations received from vantages, by outcome.",
            ),
            &["outcome"],
        )
        .expect("valid metric");
        r.register(Box::new(observations.clone()))
            .expect("registered once");
        for o in ["accepted", "refused"] {
            observations.with_label_values(&[o]);
        }
        let per_vantage = |name: &str, help: &str| {
            let g = gauge_vec(&r, name, help, &["vantage"]);
            // The guard's own probe is always a vantage.
            g.with_label_values(&["rootguard"]).set(0);
            g
        };
        Metrics {
            rtt_series: Default::default(),
            tld_status: gauge_vec(
                &r,
                TLD_STATUS,
                "Per-TLD status: 0 ok, 1 degraded, 2 threat.",
                &["tld"],
            ),
            check_failures: gauge_vec(
                &r,
                CHECK_FAILURES,
                "Failed checks per TLD and check in the latest sweep.",
                &["tld", "check"],
            ),
            ns_up: gauge_vec(
                &r,
                NS_UP,
                "Whether an NS address answered SOA (1) or not (0), per transport and vantage.",
                &["tld", "host", "address", "transport", "vantage"],
            ),
            ns_rtt,
            sweep_duration,
            sweep_last_success: gauge(
                SWEEP_LAST_SUCCESS,
                "Time of the latest completed sweep (Unix seconds).",
            ),
            sweeps: counter(SWEEPS_TOTAL, "Sweeps completed."),
            complaints_open: gauge_vec(
                &r,
                COMPLAINTS_OPEN,
                "Open complaints by category.",
                &["category"],
            ),
            suspensions_active: gauge_vec(
                &r,
                SUSPENSIONS_ACTIVE,
                "Active suspensions by measure.",
                &["measure"],
            ),
            gate_decisions,
            drift: gauge_vec(&r, DRIFT, "Unauthorised differences per TLD.", &["tld"]),
            vantage_impaired: per_vantage(
                VANTAGE_IMPAIRED,
                "Whether a vantage is impaired after the latest window.",
            ),
            vantage_reported: per_vantage(
                VANTAGE_REPORTED,
                "Whether a vantage reported in the latest window.",
            ),
            vantage_differing: per_vantage(
                VANTAGE_DIFFERING,
                "ccTLDs on which a vantage differed from the quorum in the latest window.",
            ),
            quorum_decided: gauge(
                QUORUM_DECIDED,
                "Whether the latest window decided (1) or lacked a quorum of healthy vantages (0).",
            ),
            leader: gauge(
                LEADER,
                "Whether this instance leads the record (1) or follows the leader of a shared record (0).",
            ),
            term: gauge(TERM, "The record's current term as this instance knows it."),
            observations,
            window_decision,
            suspension_review_due: gauge(
                SUSPENSION_REVIEW_DUE,
                "Active suspensions that need an operator because the quorum is lost.",
            ),
            zone_serial: gauge(ZONE_SERIAL, "Serial of the root zone in use."),
            zone_rejected: counter(
                ZONE_REJECTED_TOTAL,
                "Root zones refused (not authentic or unreadable).",
            ),
            record_info: gauge_vec(
                &r,
                RECORD_INFO,
                "The record, always 1; simulation=\"true\" for a simulated record.",
                &["simulation"],
            ),
            build_info,
            registry: r,
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }

    /// Records a sweep's per-TLD results.
    pub fn observe_sweep(
        &self,
        reports: &[TldReport],
        impaired: bool,
        seconds: f64,
        at: crate::time::Timestamp,
    ) {
        // Series of ccTLDs, hosts or addresses no longer swept disappear.
        self.check_failures.reset();
        self.tld_status.reset();
        for r in reports {
            let status = match r.verdict {
                Verdict::Ok => 0,
                Verdict::Degraded => 1,
                Verdict::Threat => 2,
            };
            self.tld_status.with_label_values(&[&r.tld]).set(status);
            for f in &r.findings {
                self.check_failures
                    .with_label_values(&[r.tld.as_str(), f.check.as_str()])
                    .inc();
            }
        }
        self.quorum_decided.set(i64::from(!impaired));
        self.sweep_duration.observe(seconds);
        self.sweep_last_success.set(at.as_second());
        self.sweeps.inc();
    }

    /// Records a window: per vantage, its name servers as it saw them,
    /// whether it reported, differed or is impaired
    /// (`docs/RULES.md#quorum`).
    pub fn observe_window(
        &self,
        reports: &std::collections::BTreeMap<String, crate::policy::quorum::VantageReport>,
        record: &crate::policy::quorum::WindowRecord,
    ) {
        // Series of ccTLDs, hosts, addresses or vantages gone disappear.
        self.ns_up.reset();
        self.vantage_impaired.reset();
        self.vantage_reported.reset();
        self.vantage_differing.reset();
        for g in [
            &self.vantage_impaired,
            &self.vantage_reported,
            &self.vantage_differing,
        ] {
            g.with_label_values(&["rootguard"]).set(0);
        }
        let mut series = std::collections::BTreeSet::new();
        for (vantage, report) in reports {
            for (tld, seen) in &report.tlds {
                for s in &seen.servers {
                    let addr = s.address.to_string();
                    for (t, up, rtt) in [
                        ("udp", s.udp_up, s.udp_rtt_ms),
                        ("tcp", s.tcp_up, s.tcp_rtt_ms),
                    ] {
                        self.ns_up
                            .with_label_values(&[tld, &s.host, &addr, t, vantage])
                            .set(i64::from(up));
                        self.ns_rtt
                            .with_label_values(&[tld, &addr, t, vantage])
                            .observe(rtt / 1000.0);
                        series.insert([tld.clone(), addr.clone(), t.to_string(), vantage.clone()]);
                    }
                }
            }
        }
        let mut last = match self.rtt_series.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        };
        for gone in last.difference(&series) {
            let _ = self
                .ns_rtt
                .remove_label_values(&[&gone[0], &gone[1], &gone[2], &gone[3]]);
        }
        *last = series;
        for (v, state) in &record.vantages {
            self.vantage_impaired
                .with_label_values(&[v])
                .set(i64::from(state.impaired));
            self.vantage_reported
                .with_label_values(&[v])
                .set(i64::from(state.at.is_some()));
            self.vantage_differing
                .with_label_values(&[v])
                .set(i64::from(state.differing));
        }
        self.quorum_decided.set(i64::from(record.decided));
    }

    /// Records the state of the record: complaints and suspensions.
    pub fn observe_world(&self, world: &World) {
        self.record_info.reset();
        self.record_info
            .with_label_values(&[if world.settings.simulation {
                "true"
            } else {
                "false"
            }])
            .set(1);
        self.complaints_open.reset();
        self.suspensions_active.reset();
        for c in ["technical", "non-technical"] {
            self.complaints_open.with_label_values(&[c]).set(0);
        }
        for m in ["withhold-ds", "hold-delegation"] {
            self.suspensions_active.with_label_values(&[m]).set(0);
        }
        use crate::policy::complaint::Stage;
        for c in world.complaints.values() {
            let open = !matches!(
                c.stage,
                Stage::Dismissed
                    | Stage::Cured
                    | Stage::Resolved
                    | Stage::Closed
                    | Stage::MediationFailed
            );
            if open {
                let cat = match c.category {
                    crate::policy::complaint::Category::Technical => "technical",
                    crate::policy::complaint::Category::NonTechnical => "non-technical",
                };
                self.complaints_open.with_label_values(&[cat]).inc();
            }
        }
        self.suspension_review_due.set(
            world
                .technical
                .keys()
                .filter(|t| world.review_due(t, world.last_at))
                .count() as i64,
        );
        for t in world.technical.values() {
            let open = t
                .tracks
                .values()
                .filter(|tr| matches!(tr, crate::policy::technical::Track::Open { .. }))
                .count();
            self.complaints_open
                .with_label_values(&["technical"])
                .add(open as i64);
            if let Some(m) = t.active_measure() {
                let label = match m {
                    crate::policy::technical::Measure::WithholdDs => "withhold-ds",
                    crate::policy::technical::Measure::HoldDelegation => "hold-delegation",
                };
                self.suspensions_active.with_label_values(&[label]).inc();
            }
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefixed_and_counters_end_in_total() {
        let m = Metrics::new();
        m.observe_world(&World::default());
        m.gate_decisions
            .with_label_values(&["allowed", "technical-change"])
            .inc();
        let text = m.render();
        for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
            let mut parts = line.split_whitespace().skip(2);
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(name.starts_with("rootguard_"), "{name}");
            assert_eq!(
                kind == "counter",
                name.ends_with("_total"),
                "{name} is a {kind}"
            );
        }
        assert!(text.contains("rootguard_build_info{version="));
    }
}
