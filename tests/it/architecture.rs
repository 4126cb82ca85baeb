//! The shape of the crate, checked: the top-level modules form a DAG
//! (`cmd -> {external, report, plot} -> sim -> {policy, workload}`), and the
//! core (`sim`, `policy`, `workload`, `mrc`) never names a backend, a chart
//! or a subcommand. The graph is read from the source: every `crate::NAME`
//! path in a file under `src/FROM/` (or `src/FROM.rs`) is an edge
//! `FROM -> NAME` (unit-test modules left out). `scripts/modgraph.sh` prints
//! the same graph.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Top-level module -> the top-level modules it names.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if top == "lib" || top == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let deps = g.entry(top.clone()).or_default();
        // A unit-test module (`#[cfg(test)]` then `mod NAME {`) ends the
        // library part of a file: tests may use anything.
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let next = lines.get(i + 1).map_or("", |l| l.trim());
            let test_mod =
                (next.starts_with("mod ") || next.starts_with("pub mod ")) && next.ends_with('{');
            if line.trim() == "#[cfg(test)]" && test_mod {
                break;
            }
            let code = line.split("//").next().unwrap_or("");
            let mut rest = code;
            while let Some(i) = rest.find("crate::") {
                rest = &rest[i + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                // Only modules count (not `crate::dispatch`, a macro).
                let is_module =
                    src.join(&name).is_dir() || src.join(format!("{name}.rs")).is_file();
                if !name.is_empty() && name != top && is_module {
                    deps.insert(name);
                }
            }
        }
    }
    g
}

#[test]
fn the_core_never_names_a_backend_a_chart_or_a_command() {
    let g = graph();
    for core in ["sim", "policy", "workload", "mrc"] {
        let deps = g.get(core).cloned().unwrap_or_default();
        for outer in ["external", "cmd", "report", "plot", "cli"] {
            assert!(
                !deps.contains(outer),
                "src/{core} names crate::{outer}: the core must not know its backends or front ends ({deps:?})"
            );
        }
    }
    for low in ["policy", "workload"] {
        let deps = g.get(low).cloned().unwrap_or_default();
        assert!(
            !deps.contains("sim"),
            "src/{low} names crate::sim ({deps:?})"
        );
    }
}

#[test]
fn the_modules_form_a_dag() {
    let g = graph();
    // Depth-first search for a cycle, reporting its path.
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(n) {
            Some(2) => return None,
            Some(1) => {
                let i = path.iter().position(|p| p == n).unwrap();
                let mut c = path[i..].to_vec();
                c.push(n.to_string());
                return Some(c);
            }
            _ => {}
        }
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            if let Some(c) = visit(d, g, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if let Some(cycle) = visit(n, &g, &mut state, &mut Vec::new()) {
            panic!("module cycle: {}", cycle.join(" -> "));
        }
    }
}
