//! Command-line entry point, called by the `pvelxc-agent` binary for everything
//! except `jobs`.
//!
//! ```text
//! pvelxc-agent apply [--check] [--diff] [--json] [--root DIR] [--expect-sha256 HEX] SPEC
//! pvelxc-agent validate SPEC
//! pvelxc-agent version
//! ```
//! `SPEC` is a `.json` or `.toml` file, or `-` for JSON on stdin. Exit codes:
//! 0 nothing changed, 2 something changed (or would, with `--check`), 1 an item
//! failed or the run could not start, 3 the spec or command line is invalid
//! (nothing was changed), 4 this binary is not the one `--expect-sha256` names (nothing
//! was run). See `pvelxc_spec::report`.

use crate::engine::{run as converge, Options};
use pvelxc_spec::report::{EXIT_FAILED, EXIT_INVALID, EXIT_STALE, EXIT_UNCHANGED};
use pvelxc_spec::{load_file, parse_json, Spec, SpecError};
use std::ffi::OsString;
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "usage:
  pvelxc-agent apply [--check] [--diff] [--json] [--root DIR] [--expect-sha256 HEX] SPEC
  pvelxc-agent validate SPEC
  pvelxc-agent version

SPEC is a .json or .toml file, or - for JSON on stdin.
exit codes: 0 no change, 2 changed (or would change with --check),
            1 failed, 3 invalid spec or arguments (nothing changed),
            4 this binary's SHA-256 is not --expect-sha256 (nothing run)";

#[derive(Debug, Default)]
struct Args {
    command: String,
    check: bool,
    diff: bool,
    json: bool,
    root: Option<PathBuf>,
    expect_sha256: Option<String>,
    spec: Option<OsString>,
}

fn parse_args(args: Vec<OsString>) -> Result<Args, String> {
    let mut it = args.into_iter().skip(1);
    let mut a = Args {
        command: it
            .next()
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default(),
        ..Args::default()
    };
    while let Some(arg) = it.next() {
        match arg.to_str() {
            Some("--check") => a.check = true,
            Some("--diff") => a.diff = true,
            Some("--json") => a.json = true,
            Some("--root") => {
                a.root = Some(PathBuf::from(it.next().ok_or("--root needs a directory")?))
            }
            Some("--expect-sha256") => {
                let hex = it.next().ok_or("--expect-sha256 needs a SHA-256 in hex")?;
                let hex = hex.to_string_lossy().to_ascii_lowercase();
                if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(format!("--expect-sha256 {hex:?} is not a SHA-256 in hex"));
                }
                a.expect_sha256 = Some(hex);
            }
            Some(s) if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ if a.spec.is_none() => a.spec = Some(arg),
            _ => return Err(format!("unexpected argument {}", arg.to_string_lossy())),
        }
    }
    Ok(a)
}

fn read_spec(arg: &OsString) -> Result<Spec, SpecError> {
    if arg == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|source| SpecError::Read {
                path: PathBuf::from("-"),
                source,
            })?;
        parse_json(&text)
    } else {
        load_file(&PathBuf::from(arg))
    }
}

fn init_logging() {
    let Ok(level) = std::env::var("PVELXC_LOG") else {
        return;
    };
    let level = match level.as_str() {
        "trace" => tracing::Level::TRACE,
        "debug" => tracing::Level::DEBUG,
        "info" => tracing::Level::INFO,
        _ => tracing::Level::WARN,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the command line given in `args` (including the program name).
pub fn run(args: Vec<OsString>) -> ExitCode {
    init_logging();
    let args = match parse_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pvelxc-agent: {e}\n{USAGE}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    match args.command.as_str() {
        "version" | "--version" => {
            println!(
                "pvelxc-agent {} (spec version {})",
                env!("CARGO_PKG_VERSION"),
                pvelxc_spec::SPEC_VERSION
            );
            ExitCode::from(EXIT_UNCHANGED)
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            ExitCode::from(EXIT_UNCHANGED)
        }
        "validate" | "apply" => {
            let Some(spec_arg) = &args.spec else {
                eprintln!("pvelxc-agent: {} needs a SPEC file\n{USAGE}", args.command);
                return ExitCode::from(EXIT_INVALID);
            };
            let spec = match read_spec(spec_arg) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("pvelxc-agent: {e}");
                    return ExitCode::from(if matches!(e, SpecError::Read { .. }) {
                        EXIT_FAILED
                    } else {
                        EXIT_INVALID
                    });
                }
            };
            if args.command == "validate" {
                println!("spec is valid: {} items", spec.items.len());
                return ExitCode::from(EXIT_UNCHANGED);
            }
            if let Some(want) = &args.expect_sha256 {
                match own_sha256() {
                    Ok(have) if &have == want => {}
                    Ok(have) => {
                        eprintln!("pvelxc-agent: this binary is {have}, the caller expects {want}");
                        return ExitCode::from(EXIT_STALE);
                    }
                    Err(e) => {
                        eprintln!("pvelxc-agent: cannot hash its own executable: {e}");
                        return ExitCode::from(EXIT_STALE);
                    }
                }
            }
            apply(&spec, &args)
        }
        "" => {
            eprintln!("{USAGE}");
            ExitCode::from(EXIT_INVALID)
        }
        other => {
            eprintln!("pvelxc-agent: unknown command {other:?}\n{USAGE}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

/// SHA-256 of the running executable. The provider asks for it with `--expect-sha256` so
/// that checking the installed version and running it take one trip into the container
/// instead of two.
fn own_sha256() -> std::io::Result<String> {
    use sha2::{Digest as _, Sha256};
    let mut file = std::fs::File::open("/proc/self/exe")?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn apply(spec: &Spec, args: &Args) -> ExitCode {
    let opts = Options {
        root: args.root.clone().unwrap_or_else(|| PathBuf::from("/")),
        check: args.check,
    };
    if !opts.root.is_dir() {
        eprintln!(
            "pvelxc-agent: --root {} is not a directory",
            opts.root.display()
        );
        return ExitCode::from(EXIT_INVALID);
    }
    match converge(spec, &opts) {
        Ok(report) => {
            let mut out = std::io::stdout().lock();
            if args.json {
                match serde_json::to_string_pretty(&report) {
                    Ok(text) => {
                        let _ = writeln!(out, "{text}");
                    }
                    Err(e) => {
                        eprintln!("pvelxc-agent: cannot encode the report: {e}");
                        return ExitCode::from(EXIT_FAILED);
                    }
                }
            } else {
                let _ = out.write_all(crate::output::human(&report, args.diff).as_bytes());
                if !std::io::stdout().is_terminal() {
                    let _ = out.flush();
                }
            }
            ExitCode::from(report.exit_code())
        }
        Err(e) => {
            eprintln!("pvelxc-agent: {e}");
            ExitCode::from(match e {
                crate::RunError::Invalid(_) => EXIT_INVALID,
                _ => EXIT_FAILED,
            })
        }
    }
}
