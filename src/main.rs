//! The `wsasim` command. It only reports its version and usage for now; scenario files and
//! their `run`, `replay` and `check` commands come with the scenario format.

use clap::Parser;

/// wsasim: a deterministic simulator of Windows Sockets 2 overlapped I/O.
///
/// Programs are tested through the library: `wsasim::check(seeds, |sim| ...)` in a
/// `#[test]`, and a failing seed replays with `WSASIM_SEED=<seed> cargo test <name>`.
#[derive(Debug, Parser)]
#[command(name = "wsasim", version, about)]
struct Cli {}

fn main() {
    let _ = Cli::parse();
    use clap::CommandFactory;
    Cli::command().print_help().expect("stdout is writable");
}
