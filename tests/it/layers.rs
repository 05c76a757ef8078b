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

/// The code of a file without comments, string literals' contents, its
/// unit tests and (in a `mod.rs`, a facade) its `pub use` re-exports.
fn code(text: &str, facade: bool) -> String {
    let end = text
        .find("#[cfg(test)]\nmod tests")
        .or_else(|| text.find("#[cfg(test)]\npub(crate) mod tests"))
        .unwrap_or(text.len());
    let mut out = String::with_capacity(end);
    let mut chars = text[..end].chars().peekable();
    let (mut in_str, mut block) = (false, 0usize);
    while let Some(c) = chars.next() {
        if block > 0 {
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                block -= 1;
            }
            continue;
        }
        if in_str {
            if c == '\\' {
                chars.next();
            } else if c == '"' {
                in_str = false;
                out.push('"');
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push('"');
            }
            '/' if chars.peek() == Some(&'/') => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                block += 1;
            }
            _ => out.push(c),
        }
    }
    if !facade {
        return out;
    }
    // A re-export in a facade is not a use: skip `pub use ...;` items.
    let mut kept = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find("pub use ") {
        kept.push_str(&rest[..i]);
        rest = &rest[i..];
        rest = rest.find(';').map(|j| &rest[j + 1..]).unwrap_or("");
    }
    kept.push_str(rest);
    kept
}

/// The paths of a use tree starting at `text` (after `crate::` or
/// `super::`): `a::b`, `{a::{b, c}, d}` and so on, two segments deep.
fn tree_paths(text: &str) -> Vec<String> {
    fn parse(text: &str, prefix: &str, out: &mut Vec<String>) -> usize {
        let mut i = 0;
        let bytes = text.as_bytes();
        let mut seg = String::new();
        let mut path = prefix.to_string();
        while i < bytes.len() {
            let c = bytes[i] as char;
            if c.is_ascii_alphanumeric() || c == '_' {
                seg.push(c);
                i += 1;
            } else if text[i..].starts_with("::") {
                if !seg.is_empty() {
                    path = if path.is_empty() {
                        seg.clone()
                    } else {
                        format!("{path}::{seg}")
                    };
                    seg.clear();
                }
                i += 2;
                if text[i..].starts_with('{') {
                    i += 1;
                    loop {
                        let used = parse(&text[i..], &path, out);
                        i += used;
                        match text[i..].chars().next() {
                            Some(',') => i += 1,
                            Some('}') => {
                                i += 1;
                                break;
                            }
                            _ => break,
                        }
                        while text[i..].starts_with(char::is_whitespace) {
                            i += 1;
                        }
                    }
                    return i;
                }
            } else if c.is_whitespace() && seg.is_empty() && path == prefix {
                i += 1;
            } else {
                break;
            }
        }
        if !seg.is_empty() {
            path = if path.is_empty() {
                seg
            } else {
                format!("{path}::{seg}")
            };
        }
        // `a::{self, b}` and a bare `a` both name `a` itself.
        let bare = path == prefix && out.last().map(String::as_str) == Some(prefix);
        if !path.is_empty() && !bare {
            out.push(path);
        }
        i
    }
    let mut out = Vec::new();
    if let Some(group) = text.strip_prefix('{') {
        let mut i = 0;
        loop {
            i += parse(&group[i..], "", &mut out);
            match group[i..].chars().next() {
                Some(',') => i += 1,
                _ => break,
            }
            while group[i..].starts_with(char::is_whitespace) {
                i += 1;
            }
        }
    } else {
        parse(text, "", &mut out);
    }
    out
}

/// The module paths that `text` refers to from the file at `me`.
fn references(me: &[String], text: &str) -> BTreeSet<Vec<String>> {
    let mut out = BTreeSet::new();
    for prefix in ["crate::", "super::"] {
        let mut rest = text;
        while let Some(i) = rest.find(prefix) {
            let before = rest[..i].chars().last();
            rest = &rest[i + prefix.len()..];
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let mut base: Vec<String> = if prefix == "crate::" {
                Vec::new()
            } else {
                me[..me.len().saturating_sub(1)].to_vec()
            };
            let mut tail = rest;
            while let Some(t) = tail.strip_prefix("super::") {
                base.pop();
                tail = t;
            }
            for p in tree_paths(tail) {
                let mut path = base.clone();
                path.extend(p.split("::").filter(|s| *s != "self").map(str::to_string));
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
    let mut unresolved: Vec<String> = Vec::new();
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &all {
        let me = module_path(&src, file);
        if me == ["main"] || me == ["lib"] {
            continue;
        }
        let facade = file.file_name().is_some_and(|n| n == "mod.rs");
        let text = code(&std::fs::read_to_string(file).unwrap(), facade);
        for r in references(&me, &text) {
            let Some(target) = resolve(&r) else {
                unresolved.push(format!("{}: {}", file.display(), r.join("::")));
                continue;
            };
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
            } else {
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
    let text = code(
        "use super::evaluate::Collector; // crate::cli::x\nuse crate::{zone::{Tld, index}, app::App};\nlet x = crate::probe::Prober::new(); /* crate::http */ let s = \"crate::daemon\";\nuse super::super::metrics::Metrics;",
        false,
    );
    let r = references(&me, &text);
    let has = |p: &[&str]| r.contains(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    assert!(has(&["checks", "evaluate", "Collector"]), "{r:?}");
    assert!(has(&["zone", "Tld"]) && has(&["zone", "index"]), "{r:?}");
    assert!(has(&["app", "App"]), "{r:?}");
    assert!(has(&["probe", "Prober", "new"]), "{r:?}");
    assert!(has(&["metrics", "Metrics"]), "{r:?}");
    assert!(
        !r.iter()
            .any(|p| p[0] == "cli" || p[0] == "http" || p[0] == "daemon"),
        "comments and strings are not code: {r:?}"
    );
    // A facade's re-exports are not uses; its own code is.
    let facade = code(
        "pub use index::Delegation;\nfn f() { crate::app::App::open(); }",
        true,
    );
    let r = references(&["zone".into()], &facade);
    assert!(r.iter().any(|p| p[0] == "app") && !r.iter().any(|p| p.contains(&"index".to_string())));
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
