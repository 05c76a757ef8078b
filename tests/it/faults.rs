//! Fault injection: for each check, a lab TLD on which it passes and one on
//! which it fails, probed over real sockets against the in-process
//! hickory-server lab.

use crate::support::*;
use rootguard::checks::{ThreatKind, Verdict};

const LAB_PROFILE: &str = "name = \"test lab\"\ndisable = [\"ADDRESS-SCOPE\"]\n";

/// Two servers in two /24s for the `i`-th TLD.
fn two(i: u8) -> [(String, String); 2] {
    [
        ("ns1".into(), format!("127.60.{i}.1")),
        ("ns2".into(), format!("127.61.{i}.1")),
    ]
}

fn add(root: RootZone, tld: &str, i: u8) -> RootZone {
    let h = two(i);
    root.tld(tld, &[(&h[0].0, &h[0].1), (&h[1].0, &h[1].1)])
}

async fn transport_and_authority_faults() {
    let mut root = RootZone::new();
    let names = [
        "healthy",
        "onesilent",
        "notcp",
        "servfail",
        "refused",
        "nonaa",
        "upward",
        "serial",
        "truncated",
        "malformed",
        "spoofid",
        "spoofq",
        "noedns",
        "recursive",
        "outage",
        "alllame",
    ];
    for (i, n) in names.iter().enumerate() {
        root = add(root, n, i as u8 + 1);
    }
    let lab = r#"
[server."ns2.onesilent."]
silent = true
[server."ns2.notcp."]
tcp_refused = true
[server."ns2.servfail."]
rcode = "SERVFAIL"
[server."ns2.refused."]
rcode = "REFUSED"
[server."ns2.nonaa."]
not_authoritative = true
[server."ns2.upward."]
upward_referral = true
[server."ns2.serial."]
serial_offset = 3
[server."ns1.truncated."]
truncate_udp = true
[server."ns2.truncated."]
truncate_udp = true
[server."ns2.malformed."]
malformed = true
[server."ns1.spoofid."]
spoof_id = true
[server."ns2.spoofid."]
spoof_id = true
[server."ns1.spoofq."]
spoof_question = true
[server."ns2.spoofq."]
spoof_question = true
[server."ns2.noedns."]
no_edns = true
[server."ns2.recursive."]
open_recursion = true
[server."ns1.outage."]
silent = true
[server."ns2.outage."]
silent = true
[server."ns1.alllame."]
rcode = "REFUSED"
[server."ns2.alllame."]
not_authoritative = true
"#;
    let (dir, _port) = lab_dir(&root, lab, Some(LAB_PROFILE));
    let report = check_lab(dir.path(), &names).await;

    // Passing scenario for every check below: a healthy TLD.
    let healthy = tld(&report, "healthy");
    assert_clean(healthy);
    assert_eq!(healthy.verdict, Verdict::Ok);

    // REACH-UDP / REACH-TCP: a silent server; one timeout, not a sum.
    let t = tld(&report, "onesilent");
    assert_fails(t, "REACH-UDP", "timeout");
    assert_fails(t, "REACH-TCP", "timeout");
    assert_eq!(t.verdict, Verdict::Degraded);
    assert!(
        t.probe_ms < 1200.0 + 600.0,
        "silent server cost {} ms",
        t.probe_ms
    );

    // REACH-TCP alone: refused connections.
    let t = tld(&report, "notcp");
    assert_fails(t, "REACH-TCP", "connection refused");
    assert!(findings(t, "REACH-UDP").is_empty());

    // AUTHORITATIVE: SERVFAIL, REFUSED, AA=0, upward referral.
    assert_fails(tld(&report, "servfail"), "AUTHORITATIVE", "SERVFAIL");
    assert_fails(tld(&report, "refused"), "AUTHORITATIVE", "REFUSED");
    assert_fails(tld(&report, "nonaa"), "AUTHORITATIVE", "AA=0");
    assert_fails(tld(&report, "upward"), "AUTHORITATIVE", "upward referral");

    // SOA-SERIAL-CONSISTENT: one server serves serial 4, the other 1.
    assert_fails(
        tld(&report, "serial"),
        "SOA-SERIAL-CONSISTENT",
        "4 from ns2.serial.",
    );

    // TC=1 over UDP forces TCP; the answer is then complete.
    let t = tld(&report, "truncated");
    assert_clean(t);
    assert!(
        t.servers.iter().all(|s| s.udp.contains("retried over TCP")),
        "{:?}",
        t.servers
    );

    // A malformed reply is recorded as such, not trusted.
    assert_fails(tld(&report, "malformed"), "REACH-UDP", "malformed");

    // Replies with a wrong ID or question are ignored: the real answer wins.
    assert_clean(tld(&report, "spoofid"));
    assert_clean(tld(&report, "spoofq"));

    // EDNS.
    assert_fails(tld(&report, "noedns"), "EDNS", "no OPT");

    // OPEN-RECURSION.
    assert_fails(
        tld(&report, "recursive"),
        "OPEN-RECURSION",
        "recursion available",
    );

    // Threats: total outage and total lameness.
    let t = tld(&report, "outage");
    assert_eq!(t.verdict, Verdict::Threat);
    assert_eq!(t.threats[0].kind, ThreatKind::TotalOutage);
    assert!(t.probe_ms < 1200.0 + 600.0, "outage cost {} ms", t.probe_ms);
    let t = tld(&report, "alllame");
    assert_eq!(t.verdict, Verdict::Threat);
    assert_eq!(t.threats[0].kind, ThreatKind::TotalOutage);

    // Degradations never make a threat.
    for n in [
        "onesilent",
        "notcp",
        "servfail",
        "refused",
        "nonaa",
        "upward",
        "serial",
        "malformed",
        "noedns",
        "recursive",
    ] {
        assert_eq!(tld(&report, n).verdict, Verdict::Degraded, "{n}");
    }
}

async fn delegation_shape_and_consistency() {
    let mut root = RootZone::new();
    root = add(root, "healthy", 1);
    root = add(root, "nsdiff", 2);
    root = add(root, "parentonly", 3);
    root = add(root, "gluediff", 4);
    root = root.tld("single", &[("ns1", "127.60.5.1")]);
    root = root.tld("shared", &[("ns1", "127.60.6.1"), ("ns2", "127.60.6.1")]);
    root = root.tld("samenet", &[("ns1", "127.60.7.1"), ("ns2", "127.60.7.2")]);
    root = root.tld(
        "noglue",
        &[("ns1", "127.60.8.1"), ("ns.unknown.example.", "")],
    );
    root = root.tld(
        "resolved",
        &[("ns1", "127.60.9.1"), ("ns.elsewhere.example.", "")],
    );
    let mut big: Vec<(String, String)> = Vec::new();
    for i in 0..13u8 {
        big.push((
            format!("a-rather-long-name-server-host-name-number-{i}"),
            format!("127.62.{i}.1"),
        ));
    }
    let big_ref: Vec<(&str, &str)> = big.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    root = root.tld("bigref", &big_ref);
    let lab = r#"
[server."ns1.nsdiff."]
ns = ["ns1.nsdiff.", "ns2.nsdiff."]
[server."ns2.nsdiff."]
ns = ["ns1.nsdiff.", "ns2.nsdiff.", "ns3.nsdiff."]
[server."ns1.parentonly."]
ns = ["ns1.parentonly."]
[server."ns2.parentonly."]
ns = ["ns1.parentonly."]
[server."ns1.gluediff."]
host_address = "127.9.9.9"
[hosts]
"ns.elsewhere.example." = ["127.61.9.2"]
"#;
    let (dir, _port) = lab_dir(&root, lab, Some(LAB_PROFILE));
    let names = [
        "healthy",
        "nsdiff",
        "parentonly",
        "gluediff",
        "single",
        "shared",
        "samenet",
        "noglue",
        "resolved",
        "bigref",
    ];
    let report = check_lab(dir.path(), &names).await;

    let healthy = tld(&report, "healthy");
    assert_clean(healthy);

    let t = tld(&report, "nsdiff");
    assert_fails(t, "NS-SET-CONSISTENT", "different NS sets");
    assert_fails(t, "PARENT-CHILD-NS", "not in the root zone: ns3.nsdiff.");

    let t = tld(&report, "parentonly");
    assert_fails(
        t,
        "PARENT-CHILD-NS",
        "in the root zone but not in the TLD's NS set: ns2.parentonly.",
    );
    assert!(findings(t, "NS-SET-CONSISTENT").is_empty());

    assert_fails(
        tld(&report, "gluediff"),
        "GLUE-MATCH",
        "TLD serves [127.9.9.9]",
    );
    assert_fails(tld(&report, "single"), "NS-COUNT", "lists 1 NS");
    assert_fails(
        tld(&report, "shared"),
        "NS-DISTINCT-ADDRESSES",
        "127.60.6.1 is shared",
    );
    assert_fails(tld(&report, "samenet"), "PREFIX-DIVERSITY", "one /24");
    assert_fails(
        tld(&report, "noglue"),
        "NS-RESOLVABLE",
        "ns.unknown.example.",
    );

    // A host without glue, resolved through the (lab) resolver, passes.
    let t = tld(&report, "resolved");
    assert_clean(t);
    assert!(
        t.servers
            .iter()
            .any(|s| !s.from_glue && s.address.to_string() == "127.61.9.2")
    );

    let t = tld(&report, "bigref");
    assert_fails(t, "REFERRAL-SIZE", "> 512");
    assert!(findings(healthy, "REFERRAL-SIZE").is_empty());
}

async fn dnssec_checks_and_bogus_threat() {
    let mut root = RootZone::new();
    for (i, n) in [
        "signed",
        "bogus",
        "expiredkey",
        "expiredsoa",
        "sha1ds",
        "oldalg",
        "nokeys",
        "badsoa",
    ]
    .iter()
    .enumerate()
    {
        root = add(root, n, i as u8 + 1).lab_ds(n);
    }
    // A SHA-1 DS of the right key (deprecated digest) and a DS naming
    // algorithm 5 (must not be used), each beside a valid SHA-256 DS.
    let key = rootguard::lab::LabKey::derive("sha1ds", 1);
    let sha1 = {
        use domain::base::iana::DigestAlgorithm;
        let rr = key.dnskey_rr(3600);
        let domain::rdata::ZoneRecordData::Dnskey(k) = rr.data() else {
            unreachable!()
        };
        let d = rootguard::zone::verify::ds_digest(rr.owner(), k, DigestAlgorithm::SHA1).unwrap();
        rootguard::zone::index::hex_upper(&d)
    };
    root = root.line(&format!(
        "sha1ds. 86400 IN DS {} 15 1 {sha1}",
        key.key_tag()
    ));
    root = root.line("oldalg. 86400 IN DS 12345 5 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF");
    // Only a DS this validator cannot use (Ed448, GOST digest): insecure
    // for a validating resolver (RFC 4035 §5.2), so never bogus.
    root = add(root, "ed448", 20);
    root = root.line("ed448. 86400 IN DS 12345 16 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF");
    root = root.line("ed448. 86400 IN DS 12346 13 3 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF");
    let lab = r#"
[tld.bogus]
key_generation = 2
[tld.expiredkey]
expired_signatures = ["DNSKEY"]
[tld.expiredsoa]
expired_signatures = ["SOA"]
[tld.nokeys]
signed = false
[tld.badsoa]
corrupt_signatures = ["SOA"]
[tld.ed448]
signed = false
"#;
    let (dir, _port) = lab_dir(&root, lab, Some(LAB_PROFILE));
    let names = [
        "signed",
        "bogus",
        "expiredkey",
        "expiredsoa",
        "sha1ds",
        "oldalg",
        "nokeys",
        "badsoa",
        "ed448",
    ];
    let report = check_lab(dir.path(), &names).await;

    // Pass: DS matches a key that signs the DNSKEY RRset; SOA signed.
    let t = tld(&report, "signed");
    assert_clean(t);
    assert_eq!(t.verdict, Verdict::Ok);

    // DS-MATCHES-DNSKEY fails: the zone serves another key. Threat.
    let t = tld(&report, "bogus");
    assert_fails(t, "DS-MATCHES-DNSKEY", "no DS matches");
    assert_eq!(t.verdict, Verdict::Threat);
    assert_eq!(t.threats[0].kind, ThreatKind::DnssecBogus);

    // DNSKEY-SIGNED and SIGNATURE-EXPIRY fail: the DNSKEY signature expired. Threat.
    let t = tld(&report, "expiredkey");
    assert_fails(t, "DNSKEY-SIGNED", "not valid at this time");
    assert_fails(t, "SIGNATURE-EXPIRY", "RRSIG DNSKEY");
    assert_eq!(t.threats[0].kind, ThreatKind::DnssecBogus);

    // SIGNATURE-EXPIRY fails (and not also SOA-SIGNED, as DNSSEC09 says
    // DS09_SOA_RRSIG_EXPIRED only), but the chain to the DNSKEY holds:
    // degraded only.
    let t = tld(&report, "expiredsoa");
    assert_fails(t, "SIGNATURE-EXPIRY", "RRSIG SOA");
    assert!(findings(t, "SOA-SIGNED").is_empty(), "{:?}", t.findings);
    assert_eq!(t.verdict, Verdict::Degraded);

    // SOA-SIGNED fails: the SOA signature is in its period but invalid.
    let t = tld(&report, "badsoa");
    assert_fails(t, "SOA-SIGNED", "no SOA signature verifies");
    assert!(
        findings(t, "SIGNATURE-EXPIRY").is_empty(),
        "{:?}",
        t.findings
    );
    assert_eq!(t.verdict, Verdict::Degraded);

    let t = tld(&report, "sha1ds");
    assert_fails(t, "DS-DIGEST-ALGORITHM", "SHA-1");
    assert!(t.threats.is_empty());
    assert!(findings(tld(&report, "signed"), "DS-DIGEST-ALGORITHM").is_empty());

    let t = tld(&report, "oldalg");
    assert_fails(t, "DS-KEY-ALGORITHM", "algorithm 5");
    assert!(t.threats.is_empty());

    let t = tld(&report, "nokeys");
    assert_fails(t, "DS-MATCHES-DNSKEY", "no DNSKEY records returned");
    assert_eq!(t.threats[0].kind, ThreatKind::DnssecBogus);

    let t = tld(&report, "ed448");
    assert!(t.threats.is_empty(), "{:?}", t.threats);
    assert!(
        findings(t, "DS-MATCHES-DNSKEY").is_empty(),
        "{:?}",
        t.findings
    );
    assert_fails(t, "DS-DIGEST-ALGORITHM", "GOST");
}

async fn slow_servers_fail_rtt_limits() {
    let root = add(add(RootZone::new(), "fast", 1), "slow", 2);
    let lab = "[server.\"ns2.slow.\"]\ndelay_ms = 400\n";
    let profile = "disable = [\"ADDRESS-SCOPE\"]\nudp_rtt_ms = 250\ntcp_rtt_ms = 300\n";
    let (dir, _port) = lab_dir(&root, lab, Some(profile));
    let report = check_lab(dir.path(), &["fast", "slow"]).await;
    assert_clean(tld(&report, "fast"));
    let t = tld(&report, "slow");
    assert_fails(t, "UDP-RTT", "> 250 ms");
    assert_fails(t, "TCP-RTT", "> 300 ms");
}

async fn address_scope_fails_on_loopback_under_the_default_profile() {
    let root = add(RootZone::new(), "loop", 1);
    let (dir, _port) = lab_dir(&root, "", None);
    let report = check_lab(dir.path(), &["loop"]).await;
    assert_fails(
        tld(&report, "loop"),
        "ADDRESS-SCOPE",
        "not globally routable",
    );
}

async fn ipv6_glue_is_probed() {
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        crate::support::skip("no IPv6 loopback on this machine");
    }
    let root = RootZone::new().tld("dual", &[("ns1", "127.60.1.1"), ("ns2", "::1")]);
    let (dir, _port) = lab_dir(&root, "", Some(LAB_PROFILE));
    let report = check_lab(dir.path(), &["dual"]).await;
    let t = tld(&report, "dual");
    assert_clean(t);
    assert!(
        t.servers
            .iter()
            .any(|s| s.address.is_ipv6() && s.authoritative),
        "{:?}",
        t.servers
    );
}

/// A server that drops one network path (`drop_from`): a prober bound to
/// that source address sees silence, one bound to another is answered.
async fn drop_from_silences_one_source_address_only() {
    let root = add(RootZone::new(), "onepath", 1);
    let lab = "[server.\"ns2.onepath.\"]\ndrop_from = [\"127.0.0.2\"]\n";
    let (dir, _port) = lab_dir(&root, lab, Some(LAB_PROFILE));
    let run = |source: &str| {
        let mut probe = test_probe();
        probe.source = Some(source.parse().unwrap());
        rootguard::checks::report::CheckOptions {
            tlds: vec!["onepath".into()],
            probe,
            ..Default::default()
        }
    };
    let cut = rootguard::lab::check_in_lab(dir.path(), run("127.0.0.2"))
        .await
        .unwrap();
    let t = tld(&cut, "onepath");
    assert_fails(t, "REACH-UDP", "timeout");
    assert_fails(t, "REACH-TCP", "");
    assert!(
        findings(t, "REACH-UDP")
            .iter()
            .all(|f| f.server.as_deref().is_some_and(|s| s.starts_with("ns2.")))
    );
    let other = rootguard::lab::check_in_lab(dir.path(), run("127.0.0.3"))
        .await
        .unwrap();
    assert_clean(tld(&other, "onepath"));
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::asynch(
            "faults::transport_and_authority_faults",
            transport_and_authority_faults,
        ),
        crate::support::asynch(
            "faults::delegation_shape_and_consistency",
            delegation_shape_and_consistency,
        ),
        crate::support::asynch(
            "faults::dnssec_checks_and_bogus_threat",
            dnssec_checks_and_bogus_threat,
        ),
        crate::support::asynch(
            "faults::slow_servers_fail_rtt_limits",
            slow_servers_fail_rtt_limits,
        ),
        crate::support::asynch(
            "faults::address_scope_fails_on_loopback_under_the_default_profile",
            address_scope_fails_on_loopback_under_the_default_profile,
        ),
        crate::support::asynch("faults::ipv6_glue_is_probed", ipv6_glue_is_probed),
        crate::support::asynch(
            "faults::drop_from_silences_one_source_address_only",
            drop_from_silences_one_source_address_only,
        ),
    ]
}
