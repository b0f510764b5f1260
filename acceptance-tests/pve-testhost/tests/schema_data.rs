//! The committed schema subset must be what `scripts/extract-schema.py` produces from the
//! official apidata.json. The reference file lives outside the project; point
//! `PVE_APIDATA` at it (scripts/test.sh does) to run the comparison.

use std::path::PathBuf;
use std::process::Command;

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
#[ignore = "needs the reference apidata.json (PVE_APIDATA); run scripts/test.sh"]
fn committed_schema_matches_extraction() {
    let source = std::env::var("PVE_APIDATA").unwrap_or_else(|_| {
        manifest_dir()
            .join("../../../shared/reference/pve/apidata.json")
            .to_string_lossy()
            .into_owned()
    });
    assert!(
        std::path::Path::new(&source).is_file(),
        "{source} not found: set PVE_APIDATA to pve-docs' apidata.json"
    );
    let output = Command::new("python3")
        .arg(manifest_dir().join("scripts/extract-schema.py"))
        .arg(&source)
        .arg("-")
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let committed =
        std::fs::read_to_string(manifest_dir().join("data/api-schema.json")).expect("data file");
    assert!(
        String::from_utf8_lossy(&output.stdout) == committed,
        "data/api-schema.json is stale: run scripts/extract-schema.py"
    );
}

#[test]
fn committed_schema_is_the_embedded_one() {
    let committed =
        std::fs::read_to_string(manifest_dir().join("data/api-schema.json")).expect("data file");
    assert_eq!(committed, pve_testhost::schema::SCHEMA_JSON);
    let schema = pve_testhost::schema::ApiSchema::parse(&committed).expect("parses");
    assert!(schema.paths().count() >= 20);
}
