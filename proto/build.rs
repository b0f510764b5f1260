//! Generates the Rust types and tonic stubs from the `.proto` files.
//!
//! Both client and server stubs are generated: the provider serves them, the
//! protocol tests act as Terraform's client against the real binary.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = ["proto/tfplugin5.proto", "proto/plugin.proto"];
    for proto in protos {
        println!("cargo:rerun-if-changed={proto}");
    }
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .build_transport(false)
        // Unlisted RPCs answer UNIMPLEMENTED, which Terraform treats as
        // "feature not offered" rather than a failure.
        .generate_default_stubs(true)
        .compile_protos(&protos, &["proto"])?;
    Ok(())
}
