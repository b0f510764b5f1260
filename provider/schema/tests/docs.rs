//! Registry page rendering, compared with checked-in pages
//! (set `PVELXC_UPDATE_GOLDEN=1` to rewrite them after an intended change).

mod common;

use pvelxc_schema::docs::{
    render_function, render_index, render_resource, FunctionDoc, FunctionParam, Kind,
};
use pvelxc_schema::{Attribute, Block, Schema, Type};

fn golden(name: &str, actual: &str) {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("PVELXC_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    assert!(
        expected == actual,
        "{name} differs from the rendered page; rerun with PVELXC_UPDATE_GOLDEN=1 if intended.\n--- rendered ---\n{actual}"
    );
}

#[test]
fn resource_page() {
    let page = render_resource(
        "pvelxc_container",
        Kind::Resource,
        &common::container(),
        &[("", "resource \"pvelxc_container\" \"ripper\" {\n  hostname = \"ripper\"\n  vmid     = 101\n}\n")],
        Some("terraform import pvelxc_container.ripper pve1/101"),
    );
    golden("container.md", &page);
    // Structural promises, independent of the golden text.
    assert!(page.starts_with("---\npage_title: \"pvelxc_container Resource - pvelxc\"\nsubcategory: \"\"\ndescription: |-\n"));
    for heading in [
        "# pvelxc_container (Resource)",
        "## Example Usage",
        "## Schema",
        "### Required",
        "### Optional",
        "### Read-Only",
        "### Nested Schema for `mount_point`",
        "## Import",
    ] {
        assert!(page.lines().any(|l| l == heading), "missing {heading}");
    }
    let required = page.find("### Required").unwrap();
    let optional = page.find("### Optional").unwrap();
    let read_only = page.find("### Read-Only").unwrap();
    assert!(required < optional && optional < read_only);
    assert!(page.contains("- `vmid` (Number) Container ID. Must be a whole number from 100 to 999999999. Changing this replaces the resource.\n"));
    assert!(page.contains("- `password` (String, Sensitive, Write-only)"));
    assert!(page.contains("- `mount_point` (Block List, Max: 10) A bind mount or volume. (see [below for nested schema](#nestedblock--mount_point))"));
}

#[test]
fn rendering_is_deterministic() {
    let a = render_resource(
        "pvelxc_container",
        Kind::DataSource,
        &common::container(),
        &[],
        None,
    );
    let b = render_resource(
        "pvelxc_container",
        Kind::DataSource,
        &common::container(),
        &[],
        None,
    );
    assert_eq!(a, b);
    assert!(a.contains("# pvelxc_container (Data Source)"));
    assert!(!a.contains("## Import"));
}

#[test]
fn index_and_function_pages() {
    let provider = Schema::new(
        0,
        Block::new().attr(
            Attribute::string("endpoint")
                .required()
                .description("API URL of the node."),
        ),
    );
    let index = render_index(
        "pvelxc",
        "Manage LXC media containers on Proxmox VE.",
        &provider,
        &[(
            "",
            "provider \"pvelxc\" {\n  endpoint = \"https://pve1:8006\"\n}",
        )],
    );
    golden("index.md", &index);
    assert!(
        !index.contains("subcategory"),
        "the index page has no subcategory"
    );
    let f = FunctionDoc {
        name: "parse_size".into(),
        summary: "Converts a size like `8G` to bytes.".into(),
        description: "Accepts the suffixes K, M, G and T (powers of 1024).".into(),
        parameters: vec![FunctionParam {
            name: "size".into(),
            ty: Type::String,
            description: "The size to convert.".into(),
        }],
        variadic: None,
        return_type: Type::Number,
    };
    let page = render_function(
        "pvelxc",
        &f,
        &[(
            "",
            "output \"bytes\" {\n  value = provider::pvelxc::parse_size(\"8G\")\n}",
        )],
    );
    golden("parse_size.md", &page);
    assert!(page.contains("parse_size(size string) number"));
    assert!(page.contains("1. `size` (String) The size to convert."));
}
