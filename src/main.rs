//! The `wsasim` command: runs, replays and checks scenario files (see docs/scenarios.md).
//! A binary with Rust programs of its own registers them and runs the same command through
//! `wsasim::scenario::Registry::main`.

fn main() -> std::process::ExitCode {
    wsasim::scenario::Registry::new().main()
}
