//! pvelxc-converge

pub mod cli {
    //! Command-line entry point, called by the `pvelxc-agent` binary.
    use std::ffi::OsString;
    use std::process::ExitCode;

    /// Runs the command line given in `args` (including the program name).
    pub fn run(args: Vec<OsString>) -> ExitCode {
        let _ = args;
        eprintln!("pvelxc-agent: this command is not available in this build");
        ExitCode::from(2)
    }
}
