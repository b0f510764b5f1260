//! Stand-alone entry point of the job runner, identical to `pvelxc-agent jobs`.
//! It lets the crate's own tests and benchmarks run the real daemon as a process.

use std::ffi::OsString;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args: Vec<OsString> = std::env::args_os().collect();
    // `pvelxc-agent jobs X` and `pvelxc-jobs X` take the same arguments.
    args.insert(1, OsString::from("jobs"));
    pvelxc_jobs::cli::run(args)
}
