//! `pvelxc-agent`: one static binary for both halves of the in-container work.
//!
//! `pvelxc-agent jobs …` is the media job runner; every other subcommand belongs to
//! the converge engine. Each library owns its own argument parsing so the two can
//! evolve independently while shipping as a single file the provider pushes.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).map(|a| a == "jobs").unwrap_or(false) {
        pvelxc_jobs::cli::run(args)
    } else {
        pvelxc_converge::cli::run(args)
    }
}
