//! The rules live in the repository: every `docs/RULES.md#anchor` cited in
//! the code, the templates, the README and the documents exists, every
//! section a refusal can cite names one, and nothing points outside the
//! repository for a rule.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn anchors() -> BTreeSet<String> {
    let text = std::fs::read_to_string(root().join("docs/RULES.md")).unwrap();
    text.split("<a id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn every_cited_anchor_exists() {
    let anchors = anchors();
    assert!(anchors.len() >= 30, "{anchors:?}");
    let mut files = Vec::new();
    for d in ["src", "templates", "docs", "dashboards"] {
        walk(&root().join(d), &mut files);
    }
    files.push(root().join("README.md"));
    files.push(root().join("CHANGELOG.md"));
    let mut cited = 0;
    let mut missing = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for part in text.split("RULES.md#").skip(1) {
            let anchor: String = part
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                .collect();
            cited += 1;
            if !anchors.contains(&anchor) {
                missing.push(format!("{}: #{anchor}", f.display()));
            }
        }
        // `#anchor` shorthands after a full citation in the same backticks.
        for part in text.split("`#").skip(1) {
            let anchor: String = part
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
                .collect();
            if !anchor.is_empty()
                && part[anchor.len()..].starts_with('`')
                && !anchors.contains(&anchor)
            {
                missing.push(format!("{}: `#{anchor}`", f.display()));
            }
        }
    }
    assert!(cited > 50, "only {cited} citations found");
    assert!(
        missing.is_empty(),
        "anchors cited but not in docs/RULES.md:\n{}",
        missing.join("\n")
    );
}

fn every_section_a_refusal_cites_is_an_anchor() {
    use rootguard::policy::{case, complaint, gate, section};
    let anchors = anchors();
    let sections = [
        section::COMPLAINT,
        section::TECHNICAL,
        section::THREAT,
        section::SUSPENSION,
        section::SUSPENSION_LIFT,
        section::NOT_REDELEGATION,
        section::NEEDS_THREAT,
        section::RECORD,
        section::ACTORS,
        section::VANTAGE,
        case::section::NO_REDELEGATION_WITHOUT_CURE,
        case::section::PANEL,
        case::section::GOVERNMENT,
        case::section::DELIBERATION,
        case::section::PRINCIPLES,
        case::section::CRITERIA,
        case::section::DECISION,
        case::section::RECORDS,
        case::section::APPEAL,
        case::section::IMPLEMENTATION,
        complaint::section::LODGE,
        complaint::section::HANDLING,
        complaint::section::CURE,
        complaint::section::FAILURE,
        complaint::section::MEDIATION,
        gate::section::TECHNICAL,
        gate::section::REDELEGATION,
        gate::section::OTHER,
        rootguard::checks::finding::THREAT_RULE,
        rootguard::zone::host::RULE,
    ];
    for s in sections {
        let anchor = s
            .strip_prefix("docs/RULES.md#")
            .unwrap_or_else(|| panic!("{s:?} does not cite docs/RULES.md"));
        let anchor: String = anchor
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        assert!(anchors.contains(&anchor), "{s:?}: no anchor #{anchor}");
    }
}

fn nothing_points_outside_the_repository_for_a_rule() {
    let mut files = Vec::new();
    for d in ["src", "templates"] {
        walk(&root().join(d), &mut files);
    }
    files.push(root().join("README.md"));
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        for bad in ["POLICY.md", "shared/spec"] {
            assert!(!text.contains(bad), "{} mentions {bad}", f.display());
        }
    }
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "rules::every_cited_anchor_exists",
            every_cited_anchor_exists,
        ),
        crate::support::sync(
            "rules::every_section_a_refusal_cites_is_an_anchor",
            every_section_a_refusal_cites_is_an_anchor,
        ),
        crate::support::sync(
            "rules::nothing_points_outside_the_repository_for_a_rule",
            nothing_points_outside_the_repository_for_a_rule,
        ),
    ]
}
