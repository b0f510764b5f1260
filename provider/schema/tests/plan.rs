//! Planning helpers against Terraform's rules, including the situations in
//! which Terraform reports "Provider produced invalid plan" or
//! "inconsistent result after apply".

mod common;

use pvelxc_cty::Refinements;
use pvelxc_schema::plan::{
    assert_apply_compatible, assert_plan_compatible, assert_plan_valid, plan_new, proposed_new,
    requires_replace,
};
use pvelxc_schema::{Block, Path, Value};

fn block() -> Block {
    common::container().block
}

fn set(v: &mut Value, path: &[&str], x: Value) {
    let mut cur = v;
    for step in &path[..path.len() - 1] {
        cur = cur.get_attr_mut(step).expect("attribute exists");
    }
    *cur.get_attr_mut(path[path.len() - 1])
        .expect("attribute exists") = x;
}

fn mount(path: &str, source: &str) -> Value {
    Value::object([
        ("path", Value::string(path)),
        ("source", Value::string(source)),
        ("read_only", Value::Null),
        ("volume", Value::Null),
    ])
}

fn config() -> Value {
    let mut v = block().empty_value();
    set(&mut v, &["hostname"], Value::string("ripper"));
    set(&mut v, &["vmid"], Value::int(101));
    set(&mut v, &["password"], Value::string("hunter2"));
    set(
        &mut v,
        &["rootfs"],
        Value::object([
            ("storage", Value::string("local-lvm")),
            ("size", Value::string("8G")),
            ("volume", Value::Null),
        ]),
    );
    set(
        &mut v,
        &["mount_point"],
        Value::list([mount("/media", "/srv/media")]),
    );
    v
}

/// Resolves every unknown the way an apply would.
fn applied(planned: &Value) -> Value {
    match planned {
        Value::Unknown(_) => Value::string("decided"),
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), applied(v))).collect()),
        Value::List(items) => Value::List(items.iter().map(applied).collect()),
        Value::Set(items) => Value::set(items.iter().map(applied)),
        Value::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), applied(v))).collect()),
        other => other.clone(),
    }
}

fn plan(prior: &Value, config: &Value) -> Value {
    let proposed = proposed_new(&block(), prior, config);
    plan_new(&block(), prior, &proposed, config, &[])
}

fn details(diags: &[pvelxc_schema::Diagnostic]) -> Vec<String> {
    diags
        .iter()
        .map(|d| format!("{}: {}", d.path, d.detail))
        .collect()
}

#[test]
fn create_plans_defaults_and_unknowns() {
    let c = config();
    let planned = plan(&Value::Null, &c);
    assert_eq!(
        assert_plan_valid(&block(), &Value::Null, &c, &planned),
        vec![]
    );
    assert_eq!(planned.get_attr("hostname"), Some(&Value::string("ripper")));
    assert_eq!(
        planned.get_attr("cores"),
        Some(&Value::int(1)),
        "default for optional+computed"
    );
    assert!(
        !planned.get_attr("id").unwrap().is_known(),
        "computed is unknown on create"
    );
    assert!(!planned.get_attr("ostype").unwrap().is_known());
    assert_eq!(
        planned.get_attr("password"),
        Some(&Value::Null),
        "write-only is never planned"
    );
    assert_eq!(planned.get_attr("description"), Some(&Value::Null));
    let p = Path::root().attr("rootfs").attr("volume");
    assert!(!planned.get_path(&p).unwrap().is_known());
    let mp = planned
        .get_path(&Path::root().attr("mount_point").index(0))
        .unwrap();
    assert_eq!(mp.get_attr("read_only"), Some(&Value::bool(false)));
    assert!(!mp.get_attr("volume").unwrap().is_known());
    assert_eq!(
        planned.get_attr("features"),
        Some(&Value::object([("nesting", Value::Null)]))
    );
    assert_eq!(
        requires_replace(&block(), &Value::Null, &planned),
        Vec::<Path>::new()
    );
}

#[test]
fn unchanged_update_plans_the_prior_state() {
    let c = config();
    let state = applied(&plan(&Value::Null, &c));
    let planned = plan(&state, &c);
    assert_eq!(planned, state);
    assert_eq!(assert_plan_valid(&block(), &state, &c, &planned), vec![]);
    assert_eq!(
        requires_replace(&block(), &state, &planned),
        Vec::<Path>::new()
    );
}

#[test]
fn changed_update_recomputes_computed_values_except_use_state_for_unknown() {
    let c = config();
    let state = applied(&plan(&Value::Null, &c));
    let mut c2 = c.clone();
    set(&mut c2, &["hostname"], Value::string("ripper2"));
    let planned = plan(&state, &c2);
    assert_eq!(assert_plan_valid(&block(), &state, &c2, &planned), vec![]);
    assert_eq!(
        planned.get_attr("id"),
        state.get_attr("id"),
        "use_state_for_unknown keeps the id"
    );
    assert!(
        !planned.get_attr("status").unwrap().is_known(),
        "other computed values are recomputed"
    );
    assert_eq!(
        requires_replace(&block(), &state, &planned),
        Vec::<Path>::new(),
        "hostname updates in place"
    );
}

#[test]
fn replacement_paths() {
    let c = config();
    let state = applied(&plan(&Value::Null, &c));
    let mut c2 = c.clone();
    set(&mut c2, &["vmid"], Value::int(102));
    set(&mut c2, &["rootfs", "storage"], Value::string("tank"));
    let planned = plan(&state, &c2);
    let paths: Vec<String> = requires_replace(&block(), &state, &planned)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(paths, ["vmid", "rootfs.storage"]);

    let mut c3 = c.clone();
    set(
        &mut c3,
        &["mount_point"],
        Value::list([mount("/media", "/srv/media"), mount("/rips", "/srv/rips")]),
    );
    let planned = plan(&state, &c3);
    let paths: Vec<String> = requires_replace(&block(), &state, &planned)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(paths, ["mount_point"]);

    let mut c4 = c.clone();
    set(
        &mut c4,
        &["mount_point"],
        Value::list([mount("/media", "/srv/other")]),
    );
    let planned = plan(&state, &c4);
    let paths: Vec<String> = requires_replace(&block(), &state, &planned)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(paths, ["mount_point[0].source"]);

    // An unknown value in a replace-triggering attribute may change: listed.
    let mut c5 = c.clone();
    set(&mut c5, &["vmid"], Value::unknown());
    let planned = plan(&state, &c5);
    let paths: Vec<String> = requires_replace(&block(), &state, &planned)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(paths, ["vmid"]);
}

#[test]
fn destroy_plans_null() {
    let c = config();
    let state = applied(&plan(&Value::Null, &c));
    let planned = plan(&state, &Value::Null);
    assert_eq!(planned, Value::Null);
    assert_eq!(
        assert_plan_valid(&block(), &state, &Value::Null, &planned),
        vec![]
    );
    assert_eq!(
        assert_apply_compatible(&block(), &Value::Null, &Value::Null),
        vec![]
    );
    let d = assert_apply_compatible(&block(), &Value::Null, &state);
    assert!(
        details(&d)[0].contains("destroying must produce null"),
        "{d:?}"
    );
}

#[test]
fn invalid_plans_are_reported_like_terraform() {
    let c = config();
    let good = plan(&Value::Null, &c);
    let check = |mutate: &dyn Fn(&mut Value), expect: &str, at: &str| {
        let mut planned = good.clone();
        mutate(&mut planned);
        let d = assert_plan_valid(&block(), &Value::Null, &c, &planned);
        assert!(
            d.iter()
                .any(|d| d.detail.contains(expect) && d.path.to_string() == at),
            "expected {expect:?} at {at}, got {:#?}",
            details(&d)
        );
        assert!(d
            .iter()
            .all(|d| d.summary == "Provider produced invalid plan"));
    };
    check(
        &|p| set(p, &["description"], Value::string("x")),
        "planned value \"x\" for a non-computed attribute",
        "description",
    );
    check(
        &|p| set(p, &["hostname"], Value::string("other")),
        "does not match config value \"ripper\"",
        "hostname",
    );
    check(
        &|p| set(p, &["hostname"], Value::unknown()),
        "planned unknown for a configured value",
        "hostname",
    );
    check(
        &|p| set(p, &["password"], Value::string("hunter2")),
        "write-only attribute is not null",
        "password",
    );
    check(
        &|p| {
            set(
                p,
                &["mount_point"],
                Value::list([mount("/media", "/srv/media"), mount("/x", "/y")]),
            )
        },
        "block count in plan (2) disagrees with count in config (1)",
        "mount_point",
    );
    check(
        &|p| set(p, &["mount_point"], Value::Null),
        "must be empty to indicate no blocks, not null",
        "mount_point",
    );
    check(
        &|p| set(p, &["network"], Value::Null),
        "set of nested blocks must be empty",
        "network",
    );
    check(
        &|p| set(p, &["mount_point"], Value::list([Value::unknown()])),
        "must not be unknown itself",
        "mount_point[0]",
    );
    check(
        &|p| set(p, &["rootfs"], Value::Null),
        "planned for absence but config wants existence",
        "rootfs",
    );
    check(
        &|p| set(p, &["rootfs", "size"], Value::string("9G")),
        "does not match config value \"8G\"",
        "rootfs.size",
    );
    check(
        &|p| {
            if let Value::Object(m) = p {
                m.remove("hostname");
            }
        },
        "does not conform to the schema",
        "",
    );
    let d = assert_plan_valid(&block(), &Value::Null, &c, &Value::Null);
    assert!(details(&d)[0].contains("planned for absence but config wants existence"));
    let d = assert_plan_valid(&block(), &good, &Value::Null, &good);
    assert!(details(&d)[0].contains("planned for existence but config wants absence"));
}

#[test]
fn keeping_an_equivalent_prior_value_is_allowed() {
    let c = config();
    let mut state = applied(&plan(&Value::Null, &c));
    set(&mut state, &["rootfs", "size"], Value::string("8192M"));
    let mut c2 = c.clone();
    set(&mut c2, &["rootfs", "size"], Value::string("8G"));
    let mut planned = plan(&state, &c2);
    set(&mut planned, &["rootfs", "size"], Value::string("8192M"));
    assert_eq!(assert_plan_valid(&block(), &state, &c2, &planned), vec![]);
}

#[test]
fn apply_results_are_checked_like_terraform() {
    let c = config();
    let planned = plan(&Value::Null, &c);
    let good = applied(&planned);
    assert_eq!(assert_apply_compatible(&block(), &planned, &good), vec![]);
    let check = |mutate: &dyn Fn(&mut Value), expect: &str, at: &str| {
        let mut new = good.clone();
        mutate(&mut new);
        let d = assert_apply_compatible(&block(), &planned, &new);
        assert!(
            d.iter()
                .any(|d| d.detail.contains(expect) && d.path.to_string() == at),
            "expected {expect:?} at {at}, got {:#?}",
            details(&d)
        );
        assert!(d
            .iter()
            .all(|d| d.summary == "Provider produced inconsistent result after apply"));
    };
    check(
        &|n| set(n, &["hostname"], Value::string("normalised")),
        "was \"ripper\", but now \"normalised\"",
        "hostname",
    );
    check(
        &|n| set(n, &["description"], Value::string("x")),
        "was null, but now \"x\"",
        "description",
    );
    check(
        &|n| set(n, &["cores"], Value::Null),
        "was 1, but now null",
        "cores",
    );
    check(
        &|n| set(n, &["status"], Value::unknown()),
        "contains an unknown value",
        "status",
    );
    check(
        &|n| set(n, &["password"], Value::string("hunter2")),
        "write-only attribute must be null",
        "password",
    );
    check(
        &|n| set(n, &["mount_point"], Value::List(vec![])),
        "block count changed from 1 to 0",
        "mount_point",
    );
    check(
        &|n| {
            set(
                n,
                &["mount_point"],
                Value::list([mount("/elsewhere", "/srv/media")]),
            )
        },
        "was \"/media\", but now \"/elsewhere\"",
        "mount_point[0].path",
    );
    let d = assert_apply_compatible(&block(), &planned, &Value::Null);
    assert!(details(&d)[0].contains("returned a null object"));
}

#[test]
fn refined_unknowns_must_be_honoured() {
    let c = config();
    let mut planned = plan(&Value::Null, &c);
    set(
        &mut planned,
        &["status"],
        Value::Unknown(Refinements::not_null()),
    );
    set(
        &mut planned,
        &["ostype"],
        Value::Unknown(Refinements {
            string_prefix: Some("deb".into()),
            ..Default::default()
        }),
    );
    let mut new = applied(&planned);
    set(&mut new, &["status"], Value::Null);
    set(&mut new, &["ostype"], Value::string("alpine"));
    let d = details(&assert_apply_compatible(&block(), &planned, &new));
    assert!(
        d.iter()
            .any(|d| d.starts_with("status:") && d.contains("definitely not null")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|d| d.starts_with("ostype:") && d.contains("start with \"deb\"")),
        "{d:?}"
    );
}

#[test]
fn sensitive_values_stay_out_of_messages() {
    let schema = pvelxc_schema::Block::new().description("r").attr(
        pvelxc_schema::Attribute::string("token")
            .optional()
            .sensitive()
            .description("secret"),
    );
    let config = Value::object([("token", Value::string("s3cret"))]);
    let planned = Value::object([("token", Value::string("other-s3cret"))]);
    let d = assert_plan_valid(&schema, &Value::Null, &config, &planned);
    assert_eq!(d.len(), 1);
    assert!(!d[0].detail.contains("s3cret"), "{}", d[0].detail);
    let d = assert_apply_compatible(&schema, &config, &planned);
    assert_eq!(d.len(), 1);
    assert!(!d[0].detail.contains("s3cret"), "{}", d[0].detail);
}

#[test]
fn final_plan_must_keep_known_values() {
    let mut c = config();
    set(&mut c, &["hostname"], Value::unknown());
    let initial = plan(&Value::Null, &c);
    let mut known_config = c.clone();
    set(&mut known_config, &["hostname"], Value::string("decided"));
    let final_plan = plan(&Value::Null, &known_config);
    // Unknown became known: fine. Computed values still unknown: fine.
    assert_eq!(
        assert_plan_compatible(&block(), &initial, &final_plan),
        vec![]
    );
    // A known value changing between plan and apply is a provider bug.
    let mut bad = final_plan.clone();
    set(&mut bad, &["cores"], Value::int(2));
    let d = assert_plan_compatible(&block(), &initial, &bad);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0].path.to_string(), "cores");
    assert_eq!(d[0].summary, "Provider produced inconsistent final plan");
    assert!(d[0].detail.contains("was 1, but now 2"));
}
