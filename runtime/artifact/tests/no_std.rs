//! The crate builds as `#![no_std]` + `alloc` on the host target with `std` off.

#[test]
fn builds_without_std() {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("no_std");
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "build",
            "--offline",
            "--no-default-features",
            "--lib",
            "--manifest-path",
            manifest,
        ])
        .arg("--target-dir")
        .arg(&target)
        .output()
        .expect("cargo runs"); // ok: test
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And it really is no_std: the library source says so when `std` is off.
    let lib = include_str!("../src/lib.rs");
    assert!(lib.contains("#![cfg_attr(not(feature = \"std\"), no_std)]"));
}
