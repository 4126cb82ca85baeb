//! Stamps the binding with a hash of the sources it was built from (the
//! library's `src/`, `Cargo.toml`, `Cargo.lock`, and this package's
//! manifests, Rust and Python files), so that the Python tests can tell a stale installed
//! wheel from a fresh one (`python/tests/conftest.py` computes the same
//! hash over the checkout: 64-bit FNV-1a over each file's path relative to
//! the repository root, a NUL, its bytes and a NUL, files in path order).

use std::path::{Path, PathBuf};

fn files(dir: &Path, ext: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| ext.contains(&x))
        {
            out.push(p);
        }
    }
}

fn main() {
    let here = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = here.parent().unwrap().to_path_buf();
    let mut list = vec![
        root.join("Cargo.toml"),
        root.join("Cargo.lock"),
        here.join("Cargo.toml"),
        here.join("pyproject.toml"),
    ];
    files(&root.join("src"), &["rs"], &mut list);
    files(&here.join("src"), &["rs"], &mut list);
    files(&here.join("cachesim"), &["py"], &mut list);
    let mut named: Vec<(String, PathBuf)> = list
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, p)
        })
        .collect();
    named.sort();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for (rel, p) in &named {
        eat(rel.as_bytes());
        eat(&[0]);
        eat(&std::fs::read(p).unwrap());
        eat(&[0]);
    }
    println!("cargo:rustc-env=CACHESIM_SOURCE_HASH={h:016x}");
    for d in ["src", "Cargo.toml", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(d).display());
    }
    for f in ["src", "cachesim", "Cargo.toml", "pyproject.toml"] {
        println!("cargo:rerun-if-changed={f}");
    }
}
