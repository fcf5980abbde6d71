//! The arguments of a measurement tool (`benches/tools/`): those after `--`, without the
//! flags `cargo bench` adds (`--bench`), so `cargo bench --bench NAME -- ARGS` passes
//! `ARGS` and a plain `cargo bench` runs the tool with its defaults.

/// The tool's own arguments, the program name left out.
pub fn tool_args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect()
}
