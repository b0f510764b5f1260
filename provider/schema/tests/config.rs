//! validate_config: required, read-only, validators, single-line strings,
//! block counts, each with the exact path.

mod common;

use pvelxc_schema::{validate_config, Path, Severity, Value};

/// A valid configuration for the reference schema (as Terraform sends it:
/// every attribute present, unset ones null).
fn config() -> Value {
    let mut v = common::container().block.empty_value();
    let set = |v: &mut Value, name: &str, x: Value| {
        *v.get_attr_mut(name).expect("attribute exists") = x;
    };
    set(&mut v, "hostname", Value::string("ripper"));
    set(&mut v, "vmid", Value::int(101));
    set(
        &mut v,
        "rootfs",
        Value::object([
            ("storage", Value::string("local-lvm")),
            ("size", Value::string("8G")),
            ("volume", Value::Null),
        ]),
    );
    v
}

fn paths(diags: &[pvelxc_schema::Diagnostic]) -> Vec<String> {
    diags.iter().map(|d| d.path.to_string()).collect()
}

#[test]
fn a_valid_config_has_no_diagnostics() {
    assert_eq!(
        validate_config(&common::container().block, &config()),
        vec![]
    );
}

#[test]
fn missing_required_attribute_and_block() {
    let mut c = config();
    *c.get_attr_mut("hostname").unwrap() = Value::Null;
    *c.get_attr_mut("rootfs").unwrap() = Value::Null;
    let d = validate_config(&common::container().block, &c);
    assert_eq!(paths(&d), ["hostname", "rootfs"]);
    assert_eq!(d[0].summary, "Missing required argument");
    assert_eq!(d[1].summary, "Missing required block");
}

#[test]
fn newline_is_refused_everywhere_but_multiline_attributes() {
    let mut c = config();
    *c.get_attr_mut("hostname").unwrap() = Value::string("ripper\n");
    *c.get_attr_mut("tags").unwrap() = Value::set([Value::string("ok"), Value::string("bad\0")]);
    *c.get_attr_mut("description").unwrap() = Value::string("two\nlines");
    let d = validate_config(&common::container().block, &c);
    let single_line: Vec<_> = d
        .iter()
        .filter(|d| d.summary == "Value must be a single line")
        .collect();
    assert_eq!(single_line.len(), 2, "{d:#?}");
    assert_eq!(single_line[0].path.to_string(), "hostname");
    assert!(single_line[1].path.to_string().starts_with("tags["));
    assert!(!paths(&d).contains(&"description".to_string()));
    let mut c = config();
    *c.get_attr_mut("description").unwrap() = Value::string("nul\0");
    let d = validate_config(&common::container().block, &c);
    assert_eq!(paths(&d), ["description"]);
}

#[test]
fn validators_and_read_only_attributes() {
    let mut c = config();
    *c.get_attr_mut("vmid").unwrap() = Value::int(5);
    *c.get_attr_mut("ostype").unwrap() = Value::string("windows");
    *c.get_attr_mut("status").unwrap() = Value::string("running");
    let d = validate_config(&common::container().block, &c);
    assert_eq!(paths(&d), ["vmid", "status", "ostype"]);
    assert!(
        d[0].detail.contains("from 100 to 999999999"),
        "{}",
        d[0].detail
    );
    assert_eq!(d[1].summary, "Value for unconfigurable attribute");
    assert!(d[2].detail.contains("`debian`"), "{}", d[2].detail);
    assert!(d.iter().all(|d| d.severity == Severity::Error));
}

#[test]
fn nested_blocks_are_checked_with_indexes() {
    let mut c = config();
    let mp = |path: &str| {
        Value::object([
            ("path", Value::string(path)),
            ("source", Value::string("/srv/media")),
            ("read_only", Value::Null),
            ("volume", Value::Null),
        ])
    };
    *c.get_attr_mut("mount_point").unwrap() =
        Value::list((0..11).map(|i| mp(if i == 3 { "/bad\n" } else { "/mnt" })));
    *c.get_attr_mut("network").unwrap() = Value::set([Value::object([
        ("name", Value::string("eth0")),
        ("ip", Value::string("10.0.0.5")),
        ("hwaddr", Value::Null),
    ])]);
    let d = validate_config(&common::container().block, &c);
    assert_eq!(
        paths(&d),
        ["mount_point", "mount_point[3].path", "network[0].ip"],
        "{d:#?}"
    );
    assert_eq!(d[0].summary, "Too many blocks");
    assert!(d[2].detail.contains("CIDR"));
}

#[test]
fn unknown_values_are_not_validated_yet() {
    let mut c = config();
    *c.get_attr_mut("hostname").unwrap() = Value::unknown();
    *c.get_attr_mut("vmid").unwrap() = Value::unknown();
    *c.get_attr_mut("mount_point").unwrap() = Value::unknown();
    assert_eq!(validate_config(&common::container().block, &c), vec![]);
    // An unknown whole config is fine too.
    assert_eq!(
        validate_config(&common::container().block, &Value::unknown()),
        vec![]
    );
    let _ = Path::root();
}
