//! terraform-provider-pvelxc binary.

use std::process::ExitCode;

use pvelxc_provider::provider::{PvelxcProvider, PROVIDER_ADDRESS};
use pvelxc_provider::server::PluginIdentity;

fn main() -> ExitCode {
    pvelxc_provider::cli::main(
        PluginIdentity {
            address: PROVIDER_ADDRESS,
        },
        "provider.terraform-provider-pvelxc",
        PvelxcProvider,
    )
}
