//! Properties of the planning helpers over generated configurations:
//! whatever the user writes (including unknowns) and whatever the prior
//! state, `plan_new` produces a plan Terraform accepts, and resolving its
//! unknowns yields an apply result Terraform accepts.

mod common;

use proptest::prelude::*;
use pvelxc_schema::plan::{
    assert_apply_compatible, assert_plan_valid, plan_new, proposed_new, requires_replace,
};
use pvelxc_schema::{Block, Value};

fn block() -> Block {
    common::container().block
}

fn maybe_unknown(v: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop_oneof![8 => v, 1 => Just(Value::unknown())]
}

fn optional(v: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    prop_oneof![1 => Just(Value::Null), 3 => v]
}

fn word() -> impl Strategy<Value = Value> {
    "[a-z]{1,4}".prop_map(Value::string)
}

fn mount() -> impl Strategy<Value = Value> {
    (
        maybe_unknown(word()),
        maybe_unknown(word()),
        optional(any::<bool>().prop_map(Value::bool)),
    )
        .prop_map(|(path, source, ro)| {
            Value::object([
                ("path", path),
                ("source", source),
                ("read_only", ro),
                ("volume", Value::Null),
            ])
        })
}

fn network() -> impl Strategy<Value = Value> {
    (word(), optional(Just(Value::string("10.0.0.2/24"))))
        .prop_map(|(name, ip)| Value::object([("name", name), ("ip", ip), ("hwaddr", Value::Null)]))
}

fn config() -> impl Strategy<Value = Value> {
    (
        maybe_unknown(word()),
        maybe_unknown((100i64..110).prop_map(Value::int)),
        optional(maybe_unknown((1i64..4).prop_map(Value::int))),
        optional(word()),
        optional(prop::collection::vec(word(), 0..3).prop_map(Value::set)),
        optional(prop::sample::select(vec!["debian", "alpine"]).prop_map(Value::string)),
        optional(word()),
        (maybe_unknown(word()), word()),
        prop_oneof![4 => prop::collection::vec(mount(), 0..3).prop_map(Value::List), 1 => Just(Value::unknown())],
        prop::collection::vec(network(), 0..3).prop_map(Value::set),
        prop::collection::btree_map("[a-z]{1,3}", word(), 0..2),
        optional(any::<bool>().prop_map(Value::bool)),
    )
        .prop_map(
            |(hostname, vmid, cores, description, tags, ostype, password, (storage, size), mp, network, hooks, nesting)| {
                Value::object([
                    ("id", Value::Null),
                    ("status", Value::Null),
                    ("hostname", hostname),
                    ("vmid", vmid),
                    ("cores", cores),
                    ("description", description),
                    ("tags", tags),
                    ("ostype", ostype),
                    ("password", password),
                    (
                        "rootfs",
                        Value::object([("storage", storage), ("size", size), ("volume", Value::Null)]),
                    ),
                    ("mount_point", mp),
                    ("network", network),
                    (
                        "hook",
                        Value::Map(
                            hooks
                                .into_iter()
                                .map(|(k, v)| (k, Value::object([("script", v)])))
                                .collect(),
                        ),
                    ),
                    ("features", Value::object([("nesting", nesting)])),
                ])
            },
        )
}

/// Resolves unknowns as an apply would.
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

/// Apply resolves numbers to numbers: fix up fields typed number.
fn fix_numbers(v: Value) -> Value {
    let mut v = v;
    for name in ["vmid", "cores"] {
        if let Some(x) = v.get_attr_mut(name) {
            if x.as_str() == Some("decided") {
                *x = Value::int(100);
            }
        }
    }
    v
}

fn known_only(v: &Value) -> bool {
    v.is_wholly_known()
}

fn plan(prior: &Value, config: &Value) -> Value {
    let b = block();
    let proposed = proposed_new(&b, prior, config);
    plan_new(&b, prior, &proposed, config, &[])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn plans_are_always_valid(first in config(), second in config(), from_scratch in any::<bool>()) {
        let b = block();
        let ty = b.implied_type();
        first.check_type(&ty).expect("generated config conforms");
        // Prior state: nothing, or the result of applying `first` (with known values).
        let prior = if from_scratch || !known_only(&first) {
            Value::Null
        } else {
            fix_numbers(applied(&plan(&Value::Null, &first)))
        };
        let planned = plan(&prior, &second);
        planned.check_type(&ty).expect("plan conforms to the schema");
        let diags = assert_plan_valid(&b, &prior, &second, &planned);
        prop_assert!(diags.is_empty(), "{:#?}", diags);

        for path in requires_replace(&b, &prior, &planned) {
            prop_assert!(prior.get_path(&path).is_some() || planned.get_path(&path).is_some(), "{path} exists");
        }

        if known_only(&second) {
            let new = fix_numbers(applied(&planned));
            let diags = assert_apply_compatible(&b, &planned, &new);
            prop_assert!(diags.is_empty(), "{:#?}", diags);
        }
    }
}
