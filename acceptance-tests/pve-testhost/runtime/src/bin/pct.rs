//! `pct` on a pve-testhost node (installed as `/usr/sbin/pct` inside the node).
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match pve_testhost_runtime::pct::run(&args) {
        Ok(code) => std::process::exit(code),
        Err(failure) => {
            eprintln!("{}", failure.message.trim_end());
            std::process::exit(failure.code);
        }
    }
}
