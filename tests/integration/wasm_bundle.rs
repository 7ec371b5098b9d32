//! The WebAssembly build must not carry server code: its dependency tree has no
//! database, HTTP server or tokio runtime crates.

use std::process::Command;

const SERVER_ONLY: &[&str] = &[
    "sea-orm",
    "sqlx",
    "axum",
    "leptos_axum",
    "tokio",
    "hyper",
    "migrations",
];

#[test]
fn the_hydrate_build_depends_on_no_server_crate() {
    let output = Command::new(env!("CARGO"))
        .args([
            "tree",
            "--locked",
            "--package",
            "spool",
            "--no-default-features",
            "--features",
            "hydrate",
            "--target",
            "wasm32-unknown-unknown",
            "--edges",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8_lossy(&output.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"leptos"), "the tree looks wrong:\n{tree}");
    let leaked: Vec<&&str> = crates
        .iter()
        .filter(|name| SERVER_ONLY.contains(name))
        .collect();
    assert!(
        leaked.is_empty(),
        "server crates in the wasm build: {leaked:?}"
    );
}
