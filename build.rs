//! Build script: the *build identity* of this itfsim, `ITFSIM_BUILD_ID`, the first 16 hex
//! digits of a sha256 over the source that decides what the engine computes: every `.rs`
//! and `.toml` file under `src/` (sorted by path, each path hashed with its contents;
//! editor and backup files are left out) and `Cargo.lock` (the locked dependencies).
//! Shard partials record it and `itfsim merge` warns when it merges another build's
//! shards and refuses shards of different builds (the version string alone stays the same
//! across commits whose floating-point results differ). No git is needed: a checkout, a
//! source tarball and a `cargo package` of the same source get the same identity
//! (`Cargo.toml` is left out because `cargo package` rewrites it; build settings there do
//! not change results). Any edit under `src/`, even to a test, gives a new identity: a
//! stricter refusal, never a silent mix. A build that ignores `Cargo.lock` (`cargo install`
//! without `--locked`) may resolve other dependency versions under the same identity.
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let mut files = Vec::new();
    collect(&root, &root.join("src"), &mut files);
    files.sort();
    let mut hasher = Sha256::new();
    for relative in &files {
        add(&mut hasher, &root, relative);
    }
    add(&mut hasher, &root, "Cargo.lock");
    let id: String = hasher.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    println!("cargo:rustc-env=ITFSIM_BUILD_ID={id}");
    // A directory makes cargo look at every file under it.
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=Cargo.lock");
    println!("cargo:rerun-if-changed=build.rs");
}

/// Every `.rs` and `.toml` file under `dir`, as a path relative to `root` with `/` separators (the same on
/// every platform).
fn collect(root: &Path, dir: &Path, files: &mut Vec<String>) {
    let entries = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("build.rs: cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "rs" || e == "toml") {
            let relative = path.strip_prefix(root).expect("under the root");
            let parts: Vec<String> = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push(parts.join("/"));
        }
    }
}

/// Hashes the path's length and text, then the file's length and bytes (a missing file,
/// such as `Cargo.lock` in a package without one, as length u64::MAX), so no two file
/// sets hash alike by shifting bytes between names and contents.
fn add(hasher: &mut Sha256, root: &Path, relative: &str) {
    hasher.update((relative.len() as u64).to_le_bytes());
    hasher.update(relative.as_bytes());
    match std::fs::read(root.join(relative)) {
        Ok(bytes) => {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(&bytes);
        }
        Err(_) => hasher.update(u64::MAX.to_le_bytes()),
    }
}
