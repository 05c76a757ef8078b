//! Several vantage points over real sockets, decided by the quorum rule
//! (`docs/RULES.md#quorum`): three probers, each bound to its own source
//! address, check a lab whose servers drop queries from some sources
//! (`drop_from`); `policy::quorum::decide` turns their reports into what
//! the technical rules would act on. (The daemon does not gather remote
//! vantages yet; this tests the pieces it will be built from.)

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;
use rootguard::checks::ThreatKind;
use rootguard::checks::report::CheckOptions;
use rootguard::policy::quorum::{Observation, WindowDecision, decide, majority};

/// Each vantage's observations of `tlds` in the lab `dir`.
async fn observe(
    dir: &std::path::Path,
    tlds: &[String],
    sources: &[&str],
) -> BTreeMap<String, BTreeMap<String, Observation>> {
    let mut views = BTreeMap::new();
    for source in sources {
        let mut probe = test_probe();
        probe.source = Some(source.parse().unwrap());
        let opts = CheckOptions {
            tlds: tlds.to_vec(),
            probe,
            ..Default::default()
        };
        let report = rootguard::lab::check_in_lab(dir, opts).await.unwrap();
        let seen: BTreeMap<String, Observation> = report
            .tlds
            .iter()
            .filter_map(|t| Some((t.tld.clone(), Observation::of(t)?)))
            .collect();
        views.insert(source.to_string(), seen);
    }
    views
}

async fn three_vantages_decide_by_quorum() {
    // 20 ccTLDs: .onepath is silent for vantage 127.0.0.2 only, .allquiet
    // for everyone; 127.0.0.5 is cut off from every server.
    let mut root = RootZone::new();
    let mut names: Vec<String> = vec!["onepath".into(), "allquiet".into()];
    names.extend((0..18).map(|i| format!("ok{i}")));
    let mut lab = String::new();
    for (i, n) in names.iter().enumerate() {
        let a = format!("127.70.{}.1", i + 1);
        let b = format!("127.71.{}.1", i + 1);
        root = root.tld(n, &[("ns1", &a), ("ns2", &b)]);
        for host in ["ns1", "ns2"] {
            let drop: &[&str] = match n.as_str() {
                "onepath" => &["127.0.0.2", "127.0.0.5"],
                _ => &["127.0.0.5"],
            };
            lab.push_str(&format!(
                "[server.\"{host}.{n}.\"]\ndrop_from = {drop:?}\nsilent = {}\n",
                n == "allquiet"
            ));
        }
    }
    let profile = "name = \"vantage lab\"\ndisable = [\"ADDRESS-SCOPE\"]\n";
    let (dir, _port) = lab_dir(&root, &lab, Some(profile));
    let views = observe(
        dir.path(),
        &names,
        &["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"],
    )
    .await;
    let sees = |v: &str, t: &str| views[v][t].threat;
    assert_eq!(sees("127.0.0.2", "onepath"), Some(ThreatKind::TotalOutage));
    assert_eq!(sees("127.0.0.3", "onepath"), None);
    assert_eq!(sees("127.0.0.5", "ok3"), Some(ThreatKind::TotalOutage));

    // (1) and (2): three healthy vantages, quorum a majority (2).
    let three: BTreeMap<_, _> = views
        .iter()
        .filter(|(v, _)| *v != "127.0.0.5")
        .map(|(v, m)| (v.clone(), m.clone()))
        .collect();
    let quorum = majority(3);
    let WindowDecision::Decided { tlds, impaired } = decide(&three, quorum, &BTreeSet::new())
    else {
        panic!("three healthy vantages decide")
    };
    assert_eq!(
        tlds["onepath"].threat, None,
        "no suspension on one network's word"
    );
    assert!(
        tlds["onepath"].families.is_empty(),
        "no finding counts either"
    );
    assert_eq!(tlds["allquiet"].threat, Some(ThreatKind::TotalOutage));
    assert!(impaired.is_empty());

    // (3): one vantage cut off from everything is impaired; nothing
    // changes for any ccTLD.
    let cut: BTreeMap<_, _> = views
        .iter()
        .filter(|(v, _)| *v != "127.0.0.2")
        .map(|(v, m)| (v.clone(), m.clone()))
        .collect();
    let WindowDecision::Decided { tlds, impaired } = decide(&cut, quorum, &BTreeSet::new()) else {
        panic!("decided")
    };
    assert_eq!(impaired, BTreeSet::from(["127.0.0.5".to_string()]));
    assert!(
        names
            .iter()
            .filter(|n| *n != "allquiet")
            .all(|n| tlds[n.as_str()].threat.is_none())
    );

    // (4): a vantage gone (killed): the other two still make the quorum;
    // with one left, nothing is decided.
    let two: BTreeMap<_, _> = three
        .iter()
        .filter(|(v, _)| *v != "127.0.0.4")
        .map(|(v, m)| (v.clone(), m.clone()))
        .collect();
    assert!(matches!(
        decide(&two, quorum, &BTreeSet::new()),
        WindowDecision::Decided { .. }
    ));
    let one: BTreeMap<_, _> = two
        .iter()
        .filter(|(v, _)| *v == "127.0.0.3")
        .map(|(v, m)| (v.clone(), m.clone()))
        .collect();
    assert!(matches!(
        decide(&one, quorum, &BTreeSet::new()),
        WindowDecision::Undecided { .. }
    ));
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![crate::support::asynch(
        "vantage::three_vantages_decide_by_quorum",
        three_vantages_decide_by_quorum,
    )]
}
