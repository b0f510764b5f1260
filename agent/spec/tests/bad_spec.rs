//! A bad spec names the offending field and says how to fix it.

use pvelxc_spec::{parse_json, parse_toml, SpecError};

fn err_json(text: &str) -> String {
    parse_json(text)
        .expect_err("spec must be rejected")
        .to_string()
}

#[test]
fn unknown_field_names_its_path() {
    let e = err_json(r#"{"version":1,"items":[{"user":{"name":"media","shel":"/bin/bash"}}]}"#);
    assert!(e.contains("items[0].user.shel"), "{e}");
    assert!(e.contains("unknown field `shel`"), "{e}");
    assert!(e.contains("`shell`"), "the valid names are listed: {e}");
    let e = err_json(r#"{"version":1,"itmes":[]}"#);
    assert!(e.contains("unknown field `itmes`"), "{e}");
    let e = err_json(r#"{"version":1,"items":[{"usr":{"name":"media"}}]}"#);
    assert!(
        e.contains("items[0]") && e.contains("unknown variant `usr`"),
        "{e}"
    );
}

#[test]
fn wrong_type_names_its_path() {
    let e = err_json(r#"{"version":1,"items":[{"user":{"name":"media","uid":"1000"}}]}"#);
    assert!(
        e.contains("items[0].user.uid") && e.contains("expected u32"),
        "{e}"
    );
    let e = parse_toml(
        "version = 1\n[[items]]\n[items.directory]\npath = \"/mnt/storage\"\nmode = 2775\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("items[0].directory.mode") && e.contains("octal mode string"),
        "{e}"
    );
}

#[test]
fn path_outside_allowed_roots_is_rejected() {
    let e = parse_json(r#"{"version":1,"allowed_roots":["/etc","/mnt/storage"],"items":[{"file":{"path":"/root/.ssh/authorized_keys","content":"x"}},{"directory":{"path":"/mnt/storage/../../srv"}}]}"#)
        .unwrap_err();
    let SpecError::Invalid(list) = &e else {
        panic!("{e}")
    };
    assert_eq!(list.len(), 2, "{e}");
    assert_eq!(list[0].field, "items[0].file.path");
    assert!(
        list[0]
            .message
            .contains("outside allowed_roots [/etc, /mnt/storage]"),
        "{e}"
    );
    assert_eq!(list[1].field, "items[1].directory.path");
    assert!(list[1].message.contains("`..`"), "{e}");
}

#[test]
fn duplicate_uid_within_the_spec_is_rejected() {
    let e = err_json(
        r#"{"version":1,"items":[{"user":{"name":"a","uid":1000}},{"user":{"name":"b","uid":1000}}]}"#,
    );
    assert!(
        e.contains("items[1].user.uid: uid 1000 is also given to user \"a\" at items[0].user.uid"),
        "{e}"
    );
}

#[test]
fn newlines_cannot_reach_config_files() {
    let e = err_json(r#"{"version":1,"items":[{"line":{"path":"/etc/x","line":"a\nb"}}]}"#);
    assert!(
        e.contains("items[0].line.line: must be a single line"),
        "{e}"
    );
    let e = err_json(
        r#"{"version":1,"items":[{"user":{"name":"m","comment":"x\nroot::0:0::/:/bin/sh"}}]}"#,
    );
    assert!(e.contains("items[0].user.comment"), "{e}");
}

#[test]
fn version_is_checked() {
    let e = err_json(r#"{"version":2}"#);
    assert!(e.contains("version: unsupported spec version 2"), "{e}");
}

#[test]
fn toml_and_json_forms_are_the_same_spec() {
    let toml = parse_toml(
        "version = 1\nallowed_roots = [\"/mnt/storage\"]\n\n[[items]]\n[items.directory]\npath = \"/mnt/storage/staging\"\nowner = \"media\"\nmode = \"2775\"\n",
    )
    .unwrap();
    let json = parse_json(r#"{"version":1,"allowed_roots":["/mnt/storage"],"items":[{"directory":{"path":"/mnt/storage/staging","owner":"media","mode":"2775"}}]}"#).unwrap();
    assert_eq!(toml, json);
    assert_eq!(
        parse_json(&serde_json::to_string(&json).unwrap()).unwrap(),
        json
    );
}

#[test]
fn shipped_examples_are_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    for name in ["transcoder.toml", "ripper.toml"] {
        let spec =
            pvelxc_spec::load_file(&dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(spec.items.len() >= 7, "{name}");
    }
}
