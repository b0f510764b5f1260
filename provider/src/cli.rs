//! Command-line entry shared by the real provider and the protocol test kit.

use std::process::ExitCode;

use crate::framework::{ProviderDef, ProviderService};
use crate::server::{self, Mode, PluginIdentity};

/// Parses `argv` and runs the provider: no arguments = plugin mode
/// (launched by Terraform), `--debug` = reattach mode, `docs <dir>` =
/// write the registry documentation.
pub fn main<P: ProviderDef>(identity: PluginIdentity, module: &'static str, def: P) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => {
            crate::logging::init(module);
            server::run(identity, Mode::Plugin, ProviderService::new(def))
        }
        Some("--debug") | Some("-debug") => {
            crate::logging::init(module);
            server::run(identity, Mode::Debug, ProviderService::new(def))
        }
        Some("docs") => match args.get(1) {
            Some(dir) => match crate::docs::write_docs(&def, std::path::Path::new(dir)) {
                Ok(written) => {
                    println!("wrote {written} files under {dir}");
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("cannot write the docs: {err}");
                    ExitCode::from(1)
                }
            },
            None => {
                eprintln!("usage: {} docs <dir>   (e.g. docs)", binary_name());
                ExitCode::from(2)
            }
        },
        Some("--version") | Some("version") => {
            println!("{} {}", binary_name(), env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!(
                "unknown argument {other:?}.\n\n{}\n\nusage: {} [--debug | docs <dir> | --version]",
                server::handshake::NOT_A_COMMAND,
                binary_name()
            );
            ExitCode::from(2)
        }
    }
}

fn binary_name() -> String {
    std::env::args()
        .next()
        .and_then(|a| {
            std::path::Path::new(&a)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "terraform-provider-pvelxc".into())
}
