//! The modules of `loadtest/src` import each other without loops: a file never imports, directly
//! or through others, a file that imports it back. Read from the sources' `use crate::` lines,
//! as `grep -n "use crate::" loadtest/src/*.rs` shows them.
#![allow(clippy::unwrap_used)] // tests may unwrap: a failure is the test failing

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module name -> the modules it imports with `use crate::...`.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let used: BTreeSet<String> = text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("use crate::"))
            .map(|rest| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default()
                    .to_string()
            })
            .filter(|m| *m != name)
            .collect();
        graph.insert(name, used);
    }
    graph
}

/// A path of imports from `from` back to `from`, if there is one.
fn cycle_through(graph: &BTreeMap<String, BTreeSet<String>>, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![vec![from.to_string()]];
    let mut seen = BTreeSet::new();
    while let Some(path) = stack.pop() {
        let last = path.last().unwrap();
        for next in graph.get(last).into_iter().flatten() {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push(longer);
            }
        }
    }
    None
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = imports();
    assert!(
        graph.contains_key("plan") && graph.contains_key("sample"),
        "{graph:?}"
    );
    let cycles: Vec<String> = graph
        .keys()
        .filter_map(|m| cycle_through(&graph, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "import loops:\n{}", cycles.join("\n"));
}
