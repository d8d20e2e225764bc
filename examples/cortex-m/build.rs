//! Puts memory.x where the linker finds it, and embeds the model: the file named by
//! `RRAE_MODEL` (a `model.rra`), as a static aligned for rkyv's zero-copy view.
//! Without `RRAE_MODEL` the build fails with how to make one.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let memory = include_bytes!("memory.x");
    if std::fs::write(out.join("memory.x"), memory).is_err() {
        println!("cargo::error=cannot write memory.x into OUT_DIR");
    }
    println!("cargo::rustc-link-search={}", out.display());
    println!("cargo::rerun-if-changed=memory.x");
    println!("cargo::rerun-if-env-changed=RRAE_MODEL");
    let Some(model) = std::env::var_os("RRAE_MODEL") else {
        println!(
            "cargo::error=set RRAE_MODEL to a model.rra to embed (rrae run examples/mlp_bumps.rrae, then RRAE_MODEL=runs/mlp_rrae/model.rra cargo run --release)"
        );
        return;
    };
    let model = PathBuf::from(model);
    let model = std::fs::canonicalize(&model).unwrap_or(model);
    println!("cargo::rerun-if-changed={}", model.display());
    // The bytes are 16-aligned: the artifact's 16-byte header, then rkyv's archive,
    // which is read in place and needs its types' alignment.
    let code = format!(
        "#[repr(C, align(16))]\npub struct Aligned<T: ?Sized>(pub T);\n\
         pub static MODEL: &Aligned<[u8; include_bytes!({p:?}).len()]> = &Aligned(*include_bytes!({p:?}));\n",
        p = model.display().to_string()
    );
    if std::fs::write(out.join("model.rs"), code).is_err() {
        println!("cargo::error=cannot write model.rs into OUT_DIR");
    }
}
