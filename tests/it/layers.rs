//! Arrows point down (docs/ARCHITECTURE.md): every `crate::` and `super::`
//! path in `src/` is read, each module may use only the layers below its
//! own, and no two files of one module use each other, directly or
//! through others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, lowest first; a module may use modules of lower rank only.
const RANKS: &[(&str, u8)] = &[
    ("time", 0),
    ("zone", 1),
    ("probe", 2),
    ("checks", 3),
    ("policy", 4),
    ("store", 5),
    ("ledger", 6),
    ("config", 7),
    ("metrics", 7),
    ("app", 8),
    ("lab", 9),
    ("http", 10),
    ("daemon", 11),
    ("cli", 12),
];

fn rank(module: &str) -> Option<u8> {
    RANKS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

/// `src/a/b.rs` or `src/a/b/mod.rs` -> ["a", "b"]; `src/a.rs` -> ["a"].
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments and without its unit tests.
fn code(text: &str) -> String {
    let end = text
        .find("#[cfg(test)]\nmod tests")
        .or_else(|| text.find("#[cfg(test)]\npub(crate) mod tests"))
        .unwrap_or(text.len());
    text[..end]
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ident(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The module paths (two levels at most) that `text` refers to from the
/// file at `me`.
fn references(me: &[String], text: &str) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    let parent: Vec<String> = me[..me.len().saturating_sub(1)].to_vec();
    for (prefix, base) in [("crate::", Vec::<String>::new()), ("super::", parent)] {
        let mut rest = text;
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut heads: Vec<String> = Vec::new();
            if let Some(group) = rest.strip_prefix('{') {
                let body = &group[..group.find('}').unwrap_or(group.len())];
                heads.extend(body.split(',').map(|p| {
                    let p = p.trim();
                    let first = ident(p);
                    match p[first.len()..].strip_prefix("::").map(ident) {
                        Some(second) if !second.is_empty() => format!("{first}::{second}"),
                        _ => first,
                    }
                }));
            } else {
                let first = ident(rest);
                let after = &rest[first.len()..];
                let second = after.strip_prefix("::").map(ident).unwrap_or_default();
                heads.push(if second.is_empty() {
                    first
                } else {
                    format!("{first}::{second}")
                });
            }
            for h in heads.into_iter().filter(|h| !h.is_empty() && h != "self") {
                let mut path = base.clone();
                path.extend(h.split("::").map(str::to_string));
                out.insert(path);
            }
        }
    }
    out
}

fn layers_point_down_and_nothing_is_cyclic() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let modules: BTreeSet<Vec<String>> = all.iter().map(|f| module_path(&src, f)).collect();
    // Resolves a referenced path to the longest module it names.
    let resolve = |path: &[String]| -> Option<Vec<String>> {
        (1..=path.len())
            .rev()
            .map(|n| path[..n].to_vec())
            .find(|p| modules.contains(p))
    };
    let mut upward = Vec::new();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &all {
        let me = module_path(&src, file);
        if me == ["main"] || me == ["lib"] {
            continue;
        }
        let text = code(&std::fs::read_to_string(file).unwrap());
        for r in references(&me, &text) {
            let Some(target) = resolve(&r) else { continue };
            if target == me || target.is_empty() {
                continue;
            }
            let (from, to) = (&me[0], &target[0]);
            if from != to {
                let (Some(a), Some(b)) = (rank(from), rank(to)) else {
                    upward.push(format!(
                        "{}: unknown layer of {from} or {to}",
                        file.display()
                    ));
                    continue;
                };
                if b >= a {
                    upward.push(format!(
                        "{} ({from}, layer {a}) uses {} (layer {b})",
                        file.display(),
                        target.join("::")
                    ));
                }
            } else if me.len() > 1 && target.len() > 1 {
                edges.entry(me.clone()).or_default().insert(target);
            }
        }
    }
    assert!(
        upward.is_empty(),
        "arrows pointing up:\n{}",
        upward.join("\n")
    );
    // A cycle between files of one module.
    fn visit(
        n: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        stack: &mut Vec<Vec<String>>,
        done: &mut BTreeSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(i) = stack.iter().position(|s| s == n) {
            return Some(stack[i..].to_vec());
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, stack, done) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.clone());
        None
    }
    let mut done = BTreeSet::new();
    for n in edges.keys() {
        let mut stack = Vec::new();
        if let Some(cycle) = visit(n, &edges, &mut stack, &mut done) {
            panic!(
                "a cycle between files: {}",
                cycle
                    .iter()
                    .map(|p| p.join("::"))
                    .collect::<Vec<_>>()
                    .join(" -> ")
            );
        }
    }
}

fn the_reference_reader_sees_what_it_must() {
    let me = vec!["checks".to_string(), "shape".to_string()];
    let r = references(
        &me,
        "use super::evaluate::Collector;\nuse crate::{zone::Tld, probe};\nlet x = crate::app::App::open();",
    );
    assert!(r.contains(&vec![
        "checks".into(),
        "evaluate".into(),
        "Collector".into()
    ]));
    assert!(r.contains(&vec!["zone".into(), "Tld".into()]));
    assert!(r.contains(&vec!["probe".into()]));
    assert!(r.contains(&vec!["app".into(), "App".into()]));
    // And a planted upward arrow is caught by the rank rule.
    let planted = references(&["zone".into()], "use crate::app::App;");
    assert!(planted.iter().any(|p| rank(&p[0]) > rank("zone")));
}

/// This module's tests.
pub(crate) fn trials() -> Vec<libtest_mimic::Trial> {
    vec![
        crate::support::sync(
            "layers::layers_point_down_and_nothing_is_cyclic",
            layers_point_down_and_nothing_is_cyclic,
        ),
        crate::support::sync(
            "layers::the_reference_reader_sees_what_it_must",
            the_reference_reader_sees_what_it_must,
        ),
    ]
}
