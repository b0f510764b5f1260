//! Property tests: every value of every (generated) type survives
//! encode → decode unchanged, in msgpack (with unknowns, refinements and
//! dynamic values anywhere) and JSON (everything but unknowns).

use proptest::prelude::*;
use pvelxc_cty::{json, msgpack, Number, Refinements, Type, Value};
use std::collections::BTreeMap;

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::Bool),
        Just(Type::Number),
        Just(Type::String),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::btree_map("[a-z_]{1,6}", inner.clone(), 0..4).prop_map(Type::Object),
            prop::collection::vec(inner, 0..3).prop_map(Type::Tuple),
        ]
    })
}

fn arb_number(allow_inf: bool) -> BoxedStrategy<Number> {
    let finite = prop_oneof![
        any::<i64>().prop_map(Number::from_i64),
        any::<u64>().prop_map(Number::from_u64),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| Number::from_f64(f).expect("finite")),
        ("-?[0-9]{1,30}\\.[0-9]{1,20}").prop_map(|s| Number::parse(&s).expect("decimal")),
        ("[0-9]{1,3}e-?[0-9]{1,3}").prop_map(|s| Number::parse(&s).expect("decimal")),
    ];
    if allow_inf {
        prop_oneof![
            8 => finite,
            1 => Just(Number::infinity()),
            1 => Just(Number::neg_infinity()),
        ]
        .boxed()
    } else {
        finite.boxed()
    }
}

/// Refinements that cty can carry for `ty` (others are dropped on encode).
fn arb_refinements(ty: &Type) -> BoxedStrategy<Refinements> {
    let null = prop::option::of(any::<bool>());
    match ty {
        Type::Dynamic => Just(Refinements::default()).boxed(),
        Type::String => (null, prop::option::of("\\PC{1,8}"))
            .prop_map(|(null, string_prefix)| Refinements {
                null,
                string_prefix,
                ..Default::default()
            })
            .boxed(),
        Type::Number => (
            null,
            prop::option::of((arb_number(false), any::<bool>())),
            prop::option::of((arb_number(false), any::<bool>())),
        )
            .prop_map(|(null, number_lower, number_upper)| Refinements {
                null,
                number_lower,
                number_upper,
                ..Default::default()
            })
            .boxed(),
        t if t.is_collection() => (
            null,
            prop::option::of(0i64..100),
            prop::option::of(0i64..1000),
        )
            .prop_map(|(null, length_lower, length_upper)| Refinements {
                null,
                length_lower,
                length_upper,
                ..Default::default()
            })
            .boxed(),
        _ => null
            .prop_map(|null| Refinements {
                null,
                ..Default::default()
            })
            .boxed(),
    }
}

fn concrete_type() -> impl Strategy<Value = Type> {
    arb_type().prop_filter("concrete", |t| !t.has_dynamic())
}

/// A value of type `ty`; `unknowns` allows unknown values anywhere.
fn arb_value(ty: &Type, unknowns: bool, depth: u32) -> BoxedStrategy<Value> {
    let known = known_value(ty, unknowns, depth);
    let mut options: Vec<(u32, BoxedStrategy<Value>)> =
        vec![(8, known), (1, Just(Value::Null).boxed())];
    if unknowns {
        options.push((1, arb_refinements(ty).prop_map(Value::Unknown).boxed()));
    }
    prop::strategy::Union::new_weighted(options).boxed()
}

fn known_value(ty: &Type, unknowns: bool, depth: u32) -> BoxedStrategy<Value> {
    match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number(unknowns).prop_map(Value::Number).boxed(),
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::Dynamic => {
            if depth > 2 {
                return any::<String>()
                    .prop_map(|s| Value::dynamic(Type::String, Value::String(s)))
                    .boxed();
            }
            concrete_type()
                .prop_flat_map(move |t| {
                    let t2 = t.clone();
                    arb_value(&t, unknowns, depth + 1)
                        .prop_map(move |v| Value::dynamic(t2.clone(), v))
                })
                .boxed()
        }
        Type::List(et) => prop::collection::vec(arb_value(et, unknowns, depth + 1), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(et) => prop::collection::vec(arb_value(et, unknowns, depth + 1), 0..4)
            .prop_map(Value::set)
            .boxed(),
        Type::Map(et) => {
            prop::collection::btree_map("\\PC{0,6}", arb_value(et, unknowns, depth + 1), 0..4)
                .prop_map(Value::Map)
                .boxed()
        }
        Type::Object(attrs) => {
            let names: Vec<String> = attrs.keys().cloned().collect();
            let values: Vec<BoxedStrategy<Value>> = attrs
                .values()
                .map(|t| arb_value(t, unknowns, depth + 1))
                .collect();
            values
                .prop_map(move |vs| {
                    Value::Object(names.iter().cloned().zip(vs).collect::<BTreeMap<_, _>>())
                })
                .boxed()
        }
        Type::Tuple(types) => {
            let values: Vec<BoxedStrategy<Value>> = types
                .iter()
                .map(|t| arb_value(t, unknowns, depth + 1))
                .collect();
            values.prop_map(Value::Tuple).boxed()
        }
    }
}

fn typed_value(unknowns: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(move |t| {
        let t2 = t.clone();
        arb_value(&t, unknowns, 0).prop_map(move |v| (t2.clone(), v))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn msgpack_round_trip((ty, value) in typed_value(true)) {
        value.check_type(&ty).expect("generator makes well-typed values");
        let bytes = msgpack::encode(&value, &ty).expect("encode");
        let back = msgpack::decode(&bytes, &ty).expect("decode");
        prop_assert_eq!(&back, &value);
        // The encoding is canonical: encoding the decoded value gives the same bytes.
        prop_assert_eq!(msgpack::encode(&back, &ty).expect("re-encode"), bytes);
    }

    #[test]
    fn json_round_trip((ty, value) in typed_value(false)) {
        let text = json::encode(&value, &ty).expect("encode");
        let back = json::decode(&text, &ty).expect("decode");
        prop_assert_eq!(&back, &value);
    }

    #[test]
    fn type_json_round_trip(ty in arb_type()) {
        prop_assert_eq!(Type::from_json(ty.to_json().as_bytes()).expect("parse"), ty);
    }

    #[test]
    fn json_refuses_unknowns((ty, value) in typed_value(true)) {
        let result = json::encode(&value, &ty);
        if !value.is_wholly_known() {
            prop_assert!(result.is_err(), "unknowns have no JSON form");
        }
    }

    #[test]
    fn decoder_never_panics_on_mutations((ty, value) in typed_value(true), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let mut bytes = msgpack::encode(&value, &ty).expect("encode");
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        // Any outcome is fine except a panic; a success must re-encode.
        if let Ok(v) = msgpack::decode(&bytes, &ty) {
            msgpack::encode(&v, &ty).expect("decoded values always re-encode");
        }
    }
}
