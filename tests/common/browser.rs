//! A page opened in headless chromium, as a reader's browser opens it: the DOM after
//! its scripts ran (`--dump-dom`). Without chromium the test fails with the line that
//! installs it (`.ci/run` does); it never passes by skipping.

use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|b| std::env::split_paths(&path).map(move |d| d.join(b)))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!("no chromium on PATH: install it with `apt-get install -y --no-install-recommends chromium` (.ci/run does)") // ok: test
        })
}

/// The rendered DOM of `page`, and whether every image in it decoded (the pages'
/// script counts them into `<body data-images="n/n">`).
pub fn render(page: &Path) -> (String, bool) {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
        ])
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap_or_else(|e| panic!("chromium: {e}")); // ok: test
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    let images = std::fs::read_to_string(page)
        .unwrap_or_default()
        .matches("<img ")
        .count();
    let all = dom.contains(&format!("data-images=\"{images}/{images}\""));
    (dom, all)
}
