//! The real root zone files in `../shared/rootzone/` parse, index and (the
//! 2018 signed file) verify. Every test skips, saying so, when the folder is
//! absent (a user's fresh clone has no `../shared`).

use std::path::{Path, PathBuf};

use rootguard::zone::verify::{AuthStatus, TrustAnchor, ZonemdOutcome, verify_zone};
use rootguard::zone::{Registry, Zone, ZoneIndex};

fn shared(name: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/rootzone")
        .join(name);
    if p.exists() {
        Some(p)
    } else {
        crate::support::real_data();
        crate::support::skip(format!("{} is absent", p.display()))
    }
}

/// 2018-01-31T00:00:00Z, inside the 2018 file's signature window.
const AT_2018: u32 = 1_517_356_800;

fn signed_2018_zone_verifies_completely() {
    let Some(path) = shared("root-2018013000-signed.zone") else {
        return;
    };
    let zone = Zone::from_file(&path).unwrap();
    assert_eq!(zone.serial, 2018013000);
    let auth = verify_zone(&zone, &TrustAnchor::builtin(AT_2018), AT_2018);
    // `grep -c RRSIG` says 4489, but that counts NSEC bitmaps naming RRSIG;
    // the file holds 2945 RRSIG records (ldns-verify-zone agrees).
    assert_eq!(auth.signatures, 2945);
    assert_eq!(auth.failures_total, 0, "{:?}", auth.failures);
    assert_eq!(auth.signatures_valid, 2945);
    assert!(auth.dnskey_trusted);
    assert_eq!(auth.rrsets_unsigned, 0);
    assert_eq!(auth.status, AuthStatus::Verified);
    assert_eq!(auth.zonemd.outcome, ZonemdOutcome::Absent);
}

fn signed_2018_zone_fails_outside_window() {
    let Some(path) = shared("root-2018013000-signed.zone") else {
        return;
    };
    let zone = Zone::from_file(&path).unwrap();
    let at = AT_2018 + 30 * 86400;
    let auth = verify_zone(&zone, &TrustAnchor::builtin(at), at);
    assert_eq!(auth.status, AuthStatus::Failed);
    assert!(
        auth.failures[0].reason.contains("not valid at this time"),
        "{:?}",
        auth.failures[0]
    );
}

fn flipped_byte_in_signature_or_ds_is_caught() {
    let Some(path) = shared("root-2018013000-signed.zone") else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    // Flip one base64 character of the RRSIG over the SOA (second record).
    let soa_sig = text.find("IN\tRRSIG\tSOA").unwrap();
    let line_end = soa_sig + text[soa_sig..].find('\n').unwrap();
    let pos = line_end - 10;
    let mut bytes = text.clone().into_bytes();
    bytes[pos] = if bytes[pos] == b'A' { b'B' } else { b'A' };
    let zone = Zone::from_bytes(&bytes, Path::new("flipped-sig.zone")).unwrap();
    let auth = verify_zone(&zone, &TrustAnchor::builtin(AT_2018), AT_2018);
    assert_eq!(auth.status, AuthStatus::Failed);
    assert_eq!(auth.failures_total, 1);
    assert_eq!(auth.failures[0].rtype, "SOA");

    // Flip one hex digit of the first DS digest.
    let ds = text.find("IN\tDS\t").unwrap();
    let line_end = ds + text[ds..].find('\n').unwrap();
    let pos = line_end - 1;
    let mut bytes = text.into_bytes();
    bytes[pos] = if bytes[pos] == b'0' { b'1' } else { b'0' };
    let zone = Zone::from_bytes(&bytes, Path::new("flipped-ds.zone")).unwrap();
    let auth = verify_zone(&zone, &TrustAnchor::builtin(AT_2018), AT_2018);
    assert_eq!(auth.status, AuthStatus::Failed);
    assert_eq!(auth.failures_total, 1);
    assert_eq!(auth.failures[0].rtype, "DS");
}

fn zone_2026_indexes_309_cctlds_and_explains_zonemd() {
    let Some(path) = shared("root-2026082201.zone") else {
        return;
    };
    let Some(reg) = shared("tld-managers.json") else {
        return;
    };
    let registry = Registry::from_file(&reg).unwrap();
    let zone = Zone::from_file(&path).unwrap();
    let idx = ZoneIndex::build(&zone, Some(&registry));
    assert_eq!(idx.delegations.len(), 1438);
    let cc: Vec<_> = idx.cctlds().collect();
    assert_eq!(cc.len(), 309);
    assert_eq!(cc.iter().filter(|d| d.tld.starts_with("xn--")).count(), 61);
    assert_eq!(cc.iter().filter(|d| !d.ds.is_empty()).count(), 221);
    let at = 1_787_616_000; // 2026-08-25
    let auth = verify_zone(&zone, &TrustAnchor::builtin(at), at);
    assert!(
        auth.dnskey_trusted,
        "KSK-2017/KSK-2024 sign the 2026 DNSKEY RRset"
    );
    assert_eq!(auth.status, AuthStatus::Incomplete, "{:?}", auth.failures);
    assert_eq!(auth.zonemd.outcome, ZonemdOutcome::NotVerifiable);
    assert!(
        auth.zonemd.detail.contains("stripped"),
        "{}",
        auth.zonemd.detail
    );
}

/// Octets of `name` (lower case, trailing dot) written after `written`,
/// with the longest suffix already written replaced by a pointer, as
/// RFC 1035 §4.1.4 compression does; `written` gains its suffixes.
fn compressed(name: &str, written: &mut std::collections::BTreeSet<String>) -> usize {
    let labels: Vec<&str> = name.trim_end_matches('.').split('.').collect();
    let mut octets = 0;
    for i in 0..labels.len() {
        let suffix = labels[i..].join(".");
        if written.contains(&suffix) {
            octets += 2;
            for j in 0..i {
                written.insert(labels[j..].join("."));
            }
            return octets;
        }
        octets += labels[i].len() + 1;
    }
    for j in 0..labels.len() {
        written.insert(labels[j..].join("."));
    }
    octets + 1
}

/// The DELEGATION03 referral of `d` counted by hand: header, a 255-octet
/// question, every NS record, the first A and the first AAAA glue record.
fn referral_by_hand(d: &rootguard::zone::Delegation) -> usize {
    let mut written = std::collections::BTreeSet::new();
    // The question: 255 octets of labels ending in the TLD, type and class.
    let mut question = vec![d.tld.clone()];
    let mut left = 255 - (d.tld.len() + 2);
    while left > 1 {
        let len = (left - 1).min(63);
        question.insert(0, "q".repeat(len));
        left -= len + 1;
    }
    let mut size = 12 + compressed(&format!("{}.", question.join(".")), &mut written) + 4;
    for host in &d.ns {
        // Owner (a pointer to the TLD), type, class, TTL, length, target.
        size += 2 + 10 + compressed(host, &mut written);
    }
    let addresses: Vec<std::net::IpAddr> =
        d.ns.iter()
            .flat_map(|h| d.glue_of(h).iter().copied())
            .collect();
    if addresses.iter().any(|a| a.is_ipv4()) {
        size += 2 + 10 + 4;
    }
    if addresses.iter().any(|a| a.is_ipv6()) {
        size += 2 + 10 + 16;
    }
    size
}

/// The same referrals measured by Zonemaster's own packet code
/// (Zonemaster::LDNS, as DELEGATION03 of engine 4.6.2 builds them), when it
/// is installed: TLD and size per line.
fn referral_by_zonemaster(cc: &[&rootguard::zone::Delegation]) -> Option<Vec<(String, usize)>> {
    use std::io::Write as _;
    let script = r#"
use strict; use warnings; use Zonemaster::LDNS;
while (my $line = <STDIN>) {
    chomp $line;
    my ($tld, $nss, $v4, $v6) = split /\|/, $line, -1;
    my $name = "$tld.";
    while (length($name) < 253) {
        my $len = 254 - length($name) - 1; $len = 63 if $len > 63;
        $name = ('a' x $len) . '.' . $name;
    }
    my $p = Zonemaster::LDNS::Packet->new($name, 'NS', 'IN');
    $p->unique_push('authority', Zonemaster::LDNS::RR->new("$tld. IN NS $_")) for split / /, $nss;
    if ($v4) { my ($h, $a) = split / /, $v4; $p->unique_push('additional', Zonemaster::LDNS::RR->new("$h IN A $a")); }
    if ($v6) { my ($h, $a) = split / /, $v6; $p->unique_push('additional', Zonemaster::LDNS::RR->new("$h IN AAAA $a")); }
    print "$tld ", length($p->data), "
";
}
"#;
    let have = std::process::Command::new("perl")
        .args(["-MZonemaster::LDNS", "-e", "1"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        return None;
    }
    let mut input = String::new();
    for d in cc {
        let first = |v4: bool| {
            d.ns.iter()
                .flat_map(|h| d.glue_of(h).iter().map(move |a| (h, a)))
                .find(|(_, a)| a.is_ipv4() == v4)
                .map(|(h, a)| format!("{h} {a}"))
                .unwrap_or_default()
        };
        input.push_str(&format!(
            "{}|{}|{}|{}\n",
            d.tld,
            d.ns.join(" "),
            first(true),
            first(false)
        ));
    }
    let mut child = std::process::Command::new("perl")
        .args(["-e", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "perl: {out:?}");
    Some(
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| {
                let (t, n) = l.split_once(' ').unwrap();
                (t.to_string(), n.parse().unwrap())
            })
            .collect(),
    )
}

/// `rootguard check --static --all-cctlds` on the real 2026 root: the
/// ccTLDs whose DELEGATION03 referral exceeds 512 octets are those counted
/// by hand (and, where it is installed, by Zonemaster's packet code), and
/// the static checks flag what BENCHMARKS.md records.
fn static_checks_2026_flag_what_delegation03_and_the_records_say() {
    let Some(path) = shared("root-2026082201.zone") else {
        return;
    };
    let Some(reg) = shared("tld-managers.json") else {
        return;
    };
    let zone = Zone::from_file(&path).unwrap();
    let idx = ZoneIndex::build(&zone, Some(&Registry::from_file(&reg).unwrap()));
    let cc: Vec<_> = idx.cctlds().collect();
    let mut by_hand: Vec<String> = cc
        .iter()
        .filter(|d| referral_by_hand(d) > 512)
        .map(|d| d.tld.clone())
        .collect();
    by_hand.sort();
    if let Some(zm) = referral_by_zonemaster(&cc) {
        assert_eq!(zm.len(), cc.len());
        for (tld, size) in &zm {
            let d = cc.iter().find(|d| &d.tld == tld).unwrap();
            assert_eq!(
                *size,
                referral_by_hand(d),
                "{tld}: Zonemaster::LDNS and the count by hand"
            );
        }
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rootguard"))
        .args(["check", "--static", "--all-cctlds", "--json", "--root-zone"])
        .arg(&path)
        .arg("--registry")
        .arg(&reg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tlds = report["tlds"].as_array().unwrap();
    assert_eq!(tlds.len(), 309);
    assert_eq!(report["queries"], 0, "a static check sends no query");
    let flagged = |check: &str| -> Vec<String> {
        let mut v: Vec<String> = tlds
            .iter()
            .filter(|t| {
                t["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["check"] == check)
            })
            .map(|t| t["tld"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(flagged("REFERRAL-SIZE"), by_hand);
    assert_eq!(by_hand, ["mn", "pa"], "the count recorded in BENCHMARKS.md");
    // The other static checks, as BENCHMARKS.md records them.
    assert_eq!(flagged("NS-COUNT"), Vec::<String>::new());
    assert_eq!(flagged("NS-DISTINCT-ADDRESSES"), ["mv"]);
    assert_eq!(flagged("ADDRESS-SCOPE"), Vec::<String>::new());
    assert_eq!(
        flagged("PREFIX-DIVERSITY"),
        Vec::<String>::new(),
        "not a static check"
    );
    let all: Vec<&serde_json::Value> = tlds
        .iter()
        .filter(|t| !t["findings"].as_array().unwrap().is_empty())
        .collect();
    assert_eq!(all.len(), 12, "the ccTLDs BENCHMARKS.md lists");
    assert_eq!(
        flagged("DS-DIGEST-ALGORITHM"),
        ["dz", "hr", "la", "xn--54b7fta0cc", "xn--wgbh1c"]
    );
    // Algorithm 7 (gd, la, xn--q7ce6a) and 10 (gw, vu): not recommended.
    assert_eq!(
        flagged("DS-KEY-ALGORITHM"),
        ["gd", "gw", "la", "vu", "xn--q7ce6a"]
    );
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "real_rootzone::signed_2018_zone_verifies_completely",
            signed_2018_zone_verifies_completely,
        ),
        crate::support::sync(
            "real_rootzone::signed_2018_zone_fails_outside_window",
            signed_2018_zone_fails_outside_window,
        ),
        crate::support::sync(
            "real_rootzone::flipped_byte_in_signature_or_ds_is_caught",
            flipped_byte_in_signature_or_ds_is_caught,
        ),
        crate::support::sync(
            "real_rootzone::zone_2026_indexes_309_cctlds_and_explains_zonemd",
            zone_2026_indexes_309_cctlds_and_explains_zonemd,
        ),
        crate::support::sync(
            "real_rootzone::static_checks_2026_flag_what_delegation03_and_the_records_say",
            static_checks_2026_flag_what_delegation03_and_the_records_say,
        ),
    ]
}
