//! Zonemaster as the oracle: `tests/zonemaster/run.sh` serves every fault
//! of the Zonemaster lab (`tests/data/zonemaster/`) on port 53 inside a
//! network namespace of its own, with a lab root server, and runs
//! `rootguard check` and `zonemaster-cli` (Debian 12: CLI 5.0.2, engine
//! 4.6.2) on each ccTLD. For every check that names Zonemaster tags,
//! rootguard must report a failure exactly when Zonemaster emits one of
//! them at WARNING or above, unless the README's table of deliberate
//! differences lists the ccTLD with its reason; every row of the table must
//! still be needed, and every severity that differs from Zonemaster's must
//! have its row. Needs root (for the namespace and port 53), nsd and
//! zonemaster-cli; skips otherwise, failing in CI.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use rootguard::checks::{CATALOGUE, CheckId, Severity};

/// One row of the README's table of deliberate differences.
#[derive(Debug)]
struct Row {
    check: String,
    tags: Vec<String>,
    tlds: Vec<String>,
    difference: String,
    line: usize,
}

/// The table between `<!-- zonemaster-differences -->` and the next blank line.
fn differences() -> Vec<Row> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- zonemaster-differences -->")
        .expect("README.md has the table of deliberate differences");
    let before = readme[..start].lines().count();
    let mut rows = Vec::new();
    for (i, line) in readme[start..].lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            break;
        }
        let cells: Vec<String> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(|c| c.trim().trim_matches('`').to_string())
            .collect();
        if cells.len() != 5 || cells[0] == "Check" || cells[0].starts_with("---") {
            continue;
        }
        assert!(
            !cells[4].is_empty(),
            "README.md:{}: a row without a reason",
            before + i
        );
        let list = |c: &str| -> Vec<String> {
            c.split(',')
                .map(|s| {
                    s.trim()
                        .trim_matches('`')
                        .trim_start_matches('.')
                        .to_string()
                })
                .filter(|s| !s.is_empty() && s != "—")
                .collect()
        };
        rows.push(Row {
            check: cells[0].clone(),
            tags: list(&cells[1]),
            tlds: list(&cells[2]),
            difference: cells[3].clone(),
            line: before + i,
        });
    }
    assert!(
        !rows.is_empty(),
        "the table of deliberate differences is empty"
    );
    rows
}

fn level(text: &str) -> Option<Severity> {
    match text {
        "NOTICE" => Some(Severity::Notice),
        "WARNING" => Some(Severity::Warning),
        "ERROR" => Some(Severity::Error),
        "CRITICAL" => Some(Severity::Critical),
        _ => None,
    }
}

/// Every severity rootguard gives a Zonemaster tag differently has a row,
/// and every severity row names such a tag.
fn severity_rows_match_the_catalogue() {
    let rows = differences();
    for c in CATALOGUE {
        for t in c.zonemaster.iter().filter(|t| t.ours.is_some()) {
            assert!(
                rows.iter().any(|r| r.check == c.id.as_str()
                    && r.tags.iter().any(|x| x == t.tag)
                    && r.difference.starts_with("severity")),
                "{} gives {} the severity {} where Zonemaster says {}: README.md's table of deliberate differences needs a row",
                c.id,
                t.tag,
                t.severity(),
                t.level
            );
        }
    }
    for r in rows.iter().filter(|r| r.difference.starts_with("severity")) {
        let id: CheckId = r
            .check
            .parse()
            .unwrap_or_else(|e| panic!("README.md:{}: {e}", r.line));
        for tag in &r.tags {
            let t = id
                .info()
                .zonemaster_tag(tag)
                .unwrap_or_else(|| panic!("README.md:{}: {id} has no tag {tag}", r.line));
            assert!(
                t.ours.is_some(),
                "README.md:{}: {id} {tag}: the severities agree; the row is stale",
                r.line
            );
        }
    }
}

fn rootguard_and_zonemaster_agree_on_the_lab() {
    if !cfg!(target_os = "linux") || effective_uid() != 0 {
        crate::support::skip(
            "the Zonemaster interop test needs root (a network namespace, port 53)",
        );
    }
    crate::support::need_tool("zonemaster-cli");
    crate::support::need_tool("unshare");
    if !Path::new("/usr/sbin/nsd").exists() {
        crate::support::need_tool("nsd");
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let run = Command::new("bash")
        .arg(root.join("tests/zonemaster/run.sh"))
        .arg(env!("CARGO_BIN_EXE_rootguard"))
        .arg(root.join("tests/data/zonemaster"))
        .arg(out.path())
        .arg("6")
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "tests/zonemaster/run.sh: {}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("rootguard.json")).unwrap()).unwrap();
    let rows = differences();
    let mut used: BTreeSet<(usize, String)> = BTreeSet::new();
    let mut disagreements = Vec::new();
    let mut agreeing_failures = 0;
    let tlds = report["tlds"].as_array().unwrap();
    assert_eq!(tlds.len(), 31, "every ccTLD of the Zonemaster lab");
    for t in tlds {
        let tld = t["tld"].as_str().unwrap();
        let zm: Vec<serde_json::Value> =
            serde_json::from_slice(&std::fs::read(out.path().join(format!("{tld}.json"))).unwrap())
                .unwrap_or_else(|e| panic!("{tld}: zonemaster-cli's JSON: {e}"));
        assert!(
            zm.iter()
                .any(|m| m["tag"] == "GLOBAL_VERSION" && m["args"]["version"] == "v4.6.2"),
            "{tld}: Zonemaster engine 4.6.2 ran"
        );
        // Zonemaster's tags by level.
        let emitted: BTreeMap<String, Severity> = zm
            .iter()
            .filter_map(|m| Some((m["tag"].as_str()?.to_string(), level(m["level"].as_str()?)?)))
            .fold(BTreeMap::new(), |mut acc, (tag, l)| {
                let e = acc.entry(tag).or_insert(l);
                *e = (*e).max(l);
                acc
            });
        let findings = t["findings"].as_array().unwrap();
        for c in CATALOGUE.iter().filter(|c| !c.zonemaster.is_empty()) {
            let ours: Vec<&serde_json::Value> = findings
                .iter()
                .filter(|f| f["check"] == c.id.as_str())
                .collect();
            for f in &ours {
                let tag = f["zonemaster"].as_str().unwrap_or_else(|| {
                    panic!("{tld} {}: a finding without its Zonemaster tag", c.id)
                });
                assert!(
                    c.zonemaster_tag(tag).is_some(),
                    "{tld} {}: tag {tag} is not the check's",
                    c.id
                );
            }
            let ours_tags: BTreeSet<&str> = ours
                .iter()
                .filter_map(|f| f["zonemaster"].as_str())
                .collect();
            let theirs: Vec<&str> = c
                .zonemaster
                .iter()
                .filter(|z| emitted.get(z.tag).is_some_and(|l| *l >= Severity::Warning))
                .map(|z| z.tag)
                .collect();
            if ours.is_empty() == theirs.is_empty() {
                if !ours.is_empty() {
                    agreeing_failures += 1;
                    // Per message tag: every tag rootguard reports is one
                    // Zonemaster emitted.
                    if !ours_tags.iter().all(|t| emitted.contains_key(*t)) {
                        disagreements.push(format!(
                            "{tld} {}: both fail, but rootguard's tags {ours_tags:?} are not all among Zonemaster's {:?}",
                            c.id,
                            emitted.keys().filter(|t| c.zonemaster_tag(t).is_some()).collect::<Vec<_>>()
                        ));
                    }
                }
                continue;
            }
            // A disagreement: a row must list this ccTLD for the check (or
            // for a tag Zonemaster emitted that stopped it), or a severity
            // row must explain that Zonemaster emitted the tag below WARNING.
            let lower: Vec<&str> = c
                .zonemaster
                .iter()
                .filter(|z| emitted.contains_key(z.tag))
                .map(|z| z.tag)
                .collect();
            let direction_holds = |r: &Row| {
                if r.difference.starts_with("rootguard only") {
                    !ours.is_empty() && theirs.is_empty()
                } else if r.difference.starts_with("Zonemaster only") {
                    ours.is_empty() && !theirs.is_empty()
                } else {
                    r.difference.starts_with("inputs differ")
                }
            };
            let row = rows.iter().position(|r| {
                // This ccTLD and check, in the row's direction, about one
                // of the row's tags.
                (r.check == c.id.as_str()
                    && r.tlds.iter().any(|x| x == tld)
                    && direction_holds(r)
                    && r.tags.iter().any(|x| {
                        ours_tags.contains(x.as_str()) || lower.contains(&x.as_str())
                    }))
                    // Zonemaster stopped on this ccTLD (a tag it emitted).
                    || (r.check == "*"
                        && r.tlds.iter().any(|x| x == tld)
                        && r.tags.iter().any(|x| emitted.contains_key(x)))
                    // rootguard's tag, which Zonemaster emitted below WARNING.
                    || (r.check == c.id.as_str()
                        && r.difference.starts_with("severity")
                        && r.tags.iter().any(|x| {
                            ours_tags.contains(x.as_str()) && lower.contains(&x.as_str())
                        }))
            });
            match row {
                Some(i) => {
                    used.insert((i, tld.to_string()));
                }
                None => disagreements.push(format!(
                    "{tld} {}: rootguard {}, Zonemaster {}",
                    c.id,
                    if ours.is_empty() {
                        "passes".to_string()
                    } else {
                        format!(
                            "fails ({})",
                            ours.iter()
                                .map(|f| f["message"].as_str().unwrap_or(""))
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    },
                    if theirs.is_empty() {
                        format!("emits none of its tags at WARNING or above (emitted: {lower:?})")
                    } else {
                        format!("emits {theirs:?}")
                    }
                )),
            }
        }
    }
    assert!(
        disagreements.is_empty(),
        "undocumented disagreements with Zonemaster (add a row with the reason to README.md's table, or fix the check):\n{}",
        disagreements.join("\n")
    );
    for (i, r) in rows.iter().enumerate().filter(|(_, r)| !r.tlds.is_empty()) {
        for tld in &r.tlds {
            assert!(
                used.contains(&(i, tld.clone())),
                "README.md:{}: {} {:?} no longer disagrees on .{tld}: the row is stale",
                r.line,
                r.check,
                r.tags
            );
        }
    }
    assert_eq!(
        agreeing_failures, 50,
        "failures found by both, tag by tag (the lab changed? then count again)"
    );
}

/// The effective user ID, from /proc (no libc call needed).
fn effective_uid() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(str::to_string))
        })
        .and_then(|u| u.parse().ok())
        .unwrap_or(u32::MAX)
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "zonemaster::severity_rows_match_the_catalogue",
            severity_rows_match_the_catalogue,
        ),
        crate::support::sync(
            "zonemaster::rootguard_and_zonemaster_agree_on_the_lab",
            rootguard_and_zonemaster_agree_on_the_lab,
        ),
    ]
}
