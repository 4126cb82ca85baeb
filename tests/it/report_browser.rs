//! The HTML report opened in a real browser: headless Chromium takes a
//! screenshot of the file (no network), which must not be blank. Skipped,
//! with the reason printed, where /usr/bin/chromium is absent; a failure
//! under `CACHESIM_REQUIRE_SERVICES=1` (`.ci/run` installs Debian's `chromium`).

use std::path::Path;
use std::process::{Command, Stdio};

const CHROMIUM: &str = "/usr/bin/chromium";

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

/// (width, height, RGBA or RGB pixels, bytes per pixel)
fn decode(path: &Path) -> (u32, u32, Vec<u8>, usize) {
    let dec = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size().unwrap()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let bpp = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected screenshot colour type {other:?}"),
    };
    (info.width, info.height, buf, bpp)
}

#[test]
fn report_renders_in_headless_chromium() {
    if !Path::new(CHROMIUM).exists() {
        skip_or_fail!("{CHROMIUM} not found (apt-get install chromium to run this test)");
    }
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let o = Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args([
            "report",
            &fixture("zipf-a0.8.csv"),
            &fixture("zipf-a1.2.csv"),
            "-o",
        ])
        .arg(&html)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    let shot = dir.path().join("shot.png");
    let profile = dir.path().join("profile");
    std::fs::create_dir(&profile).unwrap();
    let child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
            "--window-size=1280,1600",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A hung browser must not hang the test suite.
    let (status, stderr) = crate::common::wait_within(child, 90, "chromium");
    assert!(
        status.success() && shot.is_file(),
        "chromium failed ({status}): {stderr}"
    );

    let (w, h, px, bpp) = decode(&shot);
    assert_eq!((w, h), (1280, 1600));
    let pixels = px.chunks(bpp);
    let white = pixels
        .clone()
        .filter(|p| p[..3].iter().all(|&c| c > 245))
        .count();
    let total = (w * h) as usize;
    assert!(
        white < total * 99 / 100,
        "screenshot is blank: {white} of {total} pixels white"
    );
    // The charts' strategy colours made it to the screen (lru's blue).
    let lru_blue = pixels
        .filter(|p| p[0] < 30 && (p[1] as i32 - 114).abs() < 30 && (p[2] as i32 - 178).abs() < 30)
        .count();
    assert!(
        lru_blue > 200,
        "no chart colours in the screenshot ({lru_blue} lru-blue pixels)"
    );
}
