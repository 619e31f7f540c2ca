//! The house plan, checked: every top-level module of `src/` belongs to a layer and imports
//! only from layers below it (domains only from the domains they build on), and no two
//! top-level modules import each other, directly or round about. Reads `crate::` paths as
//! text, unit-test modules left out.

use std::collections::{BTreeMap, BTreeSet};

/// Layers from the bottom; a module may import its own layer's core modules and anything
/// in a lower layer.
const CORE: &[&str] = &[
    "auth",
    "cache",
    "config",
    "db",
    "entities",
    "error",
    "events",
    "i18n",
    "kit",
    "money",
    "outbox",
    "rollups",
    "state",
    "storage",
    "stripe",
    "telemetry",
    "throttle",
    "tokens",
    "workpool",
];
/// Each domain with the domains it may use.
const DOMAINS: &[(&str, &[&str])] = &[
    ("accounts", &[]),
    ("media", &[]),
    ("catalog", &["media"]),
    ("promotions", &["catalog"]),
    ("orders", &["catalog", "promotions"]),
    ("payments", &["orders", "catalog", "promotions"]),
    ("marketing", &["orders", "catalog", "promotions", "media"]),
    ("distribution", &["catalog", "orders", "media"]),
    ("statistics", &["orders", "catalog"]),
    ("notifications", &["media"]),
];
const GRAPHQL: &str = "graphql";
/// The composition root: imported by nothing in `src/` but itself.
const ROOT: &[&str] = &["app", "demo", "http"];

fn layer(module: &str) -> Option<u8> {
    if CORE.contains(&module) {
        Some(0)
    } else if DOMAINS.iter().any(|(d, _)| *d == module) {
        Some(1)
    } else if module == GRAPHQL {
        Some(2)
    } else if ROOT.contains(&module) {
        Some(3)
    } else {
        None
    }
}

/// Top-level modules named after `crate::`, including inside `crate::{a::x, b}` groups.
fn imports(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let (mut depth, mut name, mut names) = (1, String::new(), Vec::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 1 => names.push(std::mem::take(&mut name)),
                    _ if depth == 1 => name.push(c),
                    _ => {}
                }
                if depth == 0 {
                    names.push(name);
                    break;
                }
            }
            for n in names {
                let head: String = n
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                found.insert(head);
            }
        } else {
            found.insert(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    found.remove("");
    found
}

fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// module → modules it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative
            .components()
            .next()
            .map(|c| {
                c.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .unwrap_or_default();
        if first == "lib" || first == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable");
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let targets = edges.entry(first.clone()).or_default();
        for target in imports(code) {
            if target != first {
                targets.insert(target);
            }
        }
    }
    edges
}

#[test]
fn imports_point_down_the_layers() {
    let graph = graph();
    let mut wrong = Vec::new();
    for (from, targets) in &graph {
        let Some(from_layer) = layer(from) else {
            wrong.push(format!(
                "{from} belongs to no layer: add it to tests/api/layers.rs"
            ));
            continue;
        };
        for to in targets {
            let Some(to_layer) = layer(to) else {
                continue; // not a module of ours (e.g. a macro path)
            };
            let allowed = match (from_layer, to_layer) {
                (_, 0) => true,
                (1, 1) => DOMAINS
                    .iter()
                    .any(|(d, uses)| d == from && uses.contains(&to.as_str())),
                (2, 1) | (3, _) => true,
                _ => false,
            };
            if !allowed {
                wrong.push(format!("{from} imports {to}"));
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn no_cycle_between_top_level_modules() {
    let graph = graph();
    // Depth-first search with colours; any back edge is a cycle.
    fn visit<'a>(
        node: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, u8>,
        path: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        state.insert(node, 1);
        path.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if !graph.contains_key(next) {
                continue;
            }
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = path.iter().position(|n| *n == next).unwrap_or(0);
                    return Some(path[start..].iter().map(|s| (*s).to_owned()).collect());
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(next, graph, state, path) {
                        return Some(cycle);
                    }
                }
            }
        }
        path.pop();
        state.insert(node, 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if !state.contains_key(node.as_str()) {
            let cycle = visit(node, &graph, &mut state, &mut Vec::new());
            assert!(cycle.is_none(), "import cycle: {:?}", cycle);
        }
    }
}

#[test]
fn the_checker_reads_grouped_imports() {
    let found = imports("use crate::{a::{b, c}, d, e::f};\nlet x = crate::g::h();");
    let names: Vec<&str> = found.iter().map(String::as_str).collect();
    assert_eq!(names, vec!["a", "d", "e", "g"]);
}

#[test]
fn write_transactions_begin_immediate() {
    // On SQLite a deferred transaction that reads first fails with "database is locked"
    // under a concurrent writer; every write transaction starts through `db::begin_write`.
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let offenders: Vec<String> = files
        .iter()
        .filter(|f| !f.ends_with("db.rs"))
        .filter(|f| {
            std::fs::read_to_string(f)
                .unwrap_or_default()
                .contains(".begin().await")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "bare begin() in {offenders:?}");
}
