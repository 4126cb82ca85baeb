//! oracleGeneral as libCacheSim writes it: converting libCacheSim's own
//! `cloudPhysicsIO.oracleGeneral.bin` to oracle-general gives the same bytes
//! (time, id, size and the 1-based `next_access_vtime`), and Belady's hits
//! on the converted file equal those on the original.

use crate::common::{cachesim, json, stderr, trace, u};

const CLOUDPHYSICS: &str = "cloudphysics/cloudPhysicsIO.oracleGeneral.bin";

/// Converts `path` to oracle-general as `copy.oracleGeneral.bin` in a new
/// folder, which it returns.
fn convert(path: &std::path::Path) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let o = cachesim(
        &[
            "trace",
            "convert",
            path.to_str().unwrap(),
            "copy.oracleGeneral.bin",
            "--to",
            "oracle-general",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    d
}

#[test]
fn converting_libcachesims_file_gives_identical_bytes() {
    let Some(path) = trace(CLOUDPHYSICS) else {
        return;
    };
    let original = std::fs::read(&path).unwrap();
    let d = convert(&path);
    let copy = std::fs::read(d.path().join("copy.oracleGeneral.bin")).unwrap();
    assert_eq!(copy.len(), original.len());
    // Name the first differing record rather than dumping 2.7 MB.
    if let Some(i) = (0..original.len() / 24).find(|&i| {
        let r = i * 24..(i + 1) * 24;
        original[r.clone()] != copy[r]
    }) {
        panic!(
            "record {i} differs: original {:?}, converted {:?}",
            &original[i * 24..(i + 1) * 24],
            &copy[i * 24..(i + 1) * 24]
        );
    }
    assert_eq!(copy, original);
}

#[test]
fn belady_on_the_converted_trace_equals_belady_on_the_original() {
    let Some(path) = trace(CLOUDPHYSICS) else {
        return;
    };
    let d = convert(&path);
    let run = |t: &str, caps: &str| {
        json(&cachesim(
            &[
                "run",
                "-s",
                "belady",
                "-t",
                t,
                "-c",
                caps,
                "-f",
                "json",
                "--no-save",
                "-q",
            ],
            d.path(),
        ))
    };
    for caps in ["100,1000,10000", "128MiB,1GiB"] {
        let a = run(path.to_str().unwrap(), caps);
        let b = run("copy.oracleGeneral.bin", caps);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(u(x, "requests"), 113_872);
            assert!(u(x, "hits") > 0, "{x}");
            for k in ["capacity", "hits", "misses", "bytes_missed"] {
                assert_eq!(x[k], y[k], "{k}: original {x} converted {y}");
            }
        }
    }
}
