//! Hostile input: the decoders get bytes from another process and must fail
//! cleanly (no panic, no stack overflow, no allocation driven by a claimed
//! length) on anything malformed.

use proptest::prelude::*;
use pvelxc_cty::{json, msgpack, ErrorKind, Number, Refinements, Type, Value, MAX_DEPTH};

fn nested_list_type(depth: usize) -> Type {
    (0..depth).fold(Type::String, |t, _| Type::list(t))
}

#[test]
fn deep_msgpack_nesting_is_refused_not_overflowed() {
    // The type comes from the schema (trusted, shallow in practice); the
    // bytes claim far deeper nesting than the decoder will follow.
    let ty = nested_list_type(1_000);
    let mut bytes = vec![0x91; 100_000];
    bytes.push(0xa0);
    let err = msgpack::decode(&bytes, &ty).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooDeep(MAX_DEPTH));
    assert_eq!(err.path.steps().len(), MAX_DEPTH + 1);
}

#[test]
fn nesting_within_the_limit_works() {
    let depth = MAX_DEPTH - 1;
    let ty = nested_list_type(depth);
    let mut bytes = vec![0x91; depth];
    bytes.extend_from_slice(&[0xa1, b'x']);
    let v = msgpack::decode(&bytes, &ty).unwrap();
    assert_eq!(msgpack::encode(&v, &ty).unwrap(), bytes);
}

#[test]
fn deep_type_json_is_refused() {
    let text = format!(
        "{}\"string\"{}",
        "[\"list\",".repeat(50_000),
        "]".repeat(50_000)
    );
    let err = Type::from_json(text.as_bytes()).unwrap_err();
    assert_eq!(err.kind, ErrorKind::TooDeep(MAX_DEPTH));
}

#[test]
fn deep_dynamic_type_inside_msgpack_is_refused() {
    let type_json = format!(
        "{}\"string\"{}",
        "[\"list\",".repeat(5_000),
        "]".repeat(5_000)
    );
    let mut bytes = vec![0x92, 0xc6];
    bytes.extend_from_slice(&(type_json.len() as u32).to_be_bytes());
    bytes.extend_from_slice(type_json.as_bytes());
    bytes.push(0xc0);
    let err = msgpack::decode(&bytes, &Type::Dynamic).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::TooDeep(_)), "{err}");
}

#[test]
fn dynamic_wrapped_in_dynamic_is_refused() {
    // [bin("dynamic"), [bin("dynamic"), ...]] would recurse without consuming a path step.
    let mut bytes = Vec::new();
    for _ in 0..50_000 {
        bytes.extend_from_slice(&[0x92, 0xc4, 0x09]);
        bytes.extend_from_slice(b"\"dynamic\"");
    }
    bytes.push(0xc0);
    let err = msgpack::decode(&bytes, &Type::Dynamic).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::InvalidType(_)), "{err}");
}

#[test]
fn deep_json_values_are_refused() {
    let text = format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000));
    let err = json::decode(text.as_bytes(), &nested_list_type(1_000)).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::TooDeep(_)), "{err}");
}

#[test]
fn claimed_lengths_beyond_the_input_fail_before_allocating() {
    // array32 / map32 / str32 / bin32 / ext32 claiming 4 GiB with nothing behind them.
    let cases: [(&[u8], Type); 5] = [
        (&[0xdd, 0xff, 0xff, 0xff, 0xff], Type::list(Type::Number)),
        (&[0xdf, 0xff, 0xff, 0xff, 0xff], Type::map(Type::Number)),
        (&[0xdb, 0xff, 0xff, 0xff, 0xff], Type::String),
        (&[0xc6, 0xff, 0xff, 0xff, 0xff], Type::String),
        (&[0xc9, 0xff, 0xff, 0xff, 0xff, 0x0c], Type::String),
    ];
    for (bytes, ty) in cases {
        let err = msgpack::decode(bytes, &ty).unwrap_err();
        assert!(
            matches!(
                err.kind,
                ErrorKind::Truncated | ErrorKind::InvalidRefinement(_)
            ),
            "{ty}: {err}"
        );
    }
    // A map claiming more entries than half the remaining bytes cannot be real.
    let err = msgpack::decode(&[0x8f, 0x01, 0x02], &Type::map(Type::Number)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Truncated);
}

#[test]
fn oversize_refinement_is_refused() {
    let mut bytes = vec![0xc8, 0x04, 0x01, 0x0c];
    bytes.extend(std::iter::repeat_n(0u8, 1025));
    let err = msgpack::decode(&bytes, &Type::String).unwrap_err();
    assert!(matches!(err.kind, ErrorKind::InvalidRefinement(_)), "{err}");
}

#[test]
fn refinements_are_kept_in_detail() {
    let bytes = [
        0xc7, 0x0b, 0x0c, 0x83, 0x01, 0xc2, 0x03, 0x92, 0x00, 0xc3, 0x04, 0x92, 0x0a, 0xc2,
    ];
    let v = msgpack::decode(&bytes, &Type::Number).unwrap();
    assert_eq!(
        v,
        Value::Unknown(Refinements {
            null: Some(false),
            number_lower: Some((Number::from_i64(0), true)),
            number_upper: Some((Number::from_i64(10), false)),
            ..Default::default()
        })
    );
    let prefix = msgpack::decode(&[0xd6, 0x0c, 0x81, 0x02, 0xa1, b'a'], &Type::String).unwrap();
    assert_eq!(
        prefix,
        Value::Unknown(Refinements {
            string_prefix: Some("a".into()),
            ..Default::default()
        })
    );
}

#[test]
fn encoder_refuses_values_that_do_not_fit_the_type() {
    let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
    let missing = Value::object([("a", Value::string("x"))]);
    let err = msgpack::encode(&missing, &ty).unwrap_err();
    assert_eq!(err.kind, ErrorKind::MissingAttribute("b".into()));
    let wrong = Value::object([("a", Value::string("x")), ("b", Value::string("1"))]);
    let err = msgpack::encode(&wrong, &ty).unwrap_err();
    assert_eq!(err.path.to_string(), "b");
    let err = msgpack::encode(&Value::string("x"), &Type::Dynamic).unwrap_err();
    assert_eq!(err.kind, ErrorKind::DynamicWithoutType);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let types = [
            Type::String,
            Type::Number,
            Type::Dynamic,
            Type::list(Type::Dynamic),
            Type::object([("a", Type::set(Type::Number)), ("b", Type::map(Type::Bool))]),
            Type::tuple([Type::String, Type::Dynamic]),
        ];
        for ty in &types {
            if let Ok(v) = msgpack::decode(&bytes, ty) {
                msgpack::encode(&v, ty).expect("decoded values re-encode");
            }
            if let Ok(v) = json::decode(&bytes, ty) {
                json::encode(&v, ty).expect("decoded JSON values re-encode");
            }
        }
    }
}

/// Inputs the fuzzer once found problems with (first byte selects the type
/// as in `fuzz/fuzz_targets/msgpack_decode.rs`): each must decode, re-encode
/// and decode to the same value, or fail cleanly.
#[test]
fn fuzz_regressions_round_trip() {
    let types = [
        Type::String,
        Type::Number,
        Type::Bool,
        Type::Dynamic,
        Type::list(Type::String),
        Type::set(Type::Number),
        Type::map(Type::Dynamic),
        Type::tuple([Type::String, Type::Number, Type::Dynamic]),
        Type::object([
            ("hostname", Type::String),
            ("cores", Type::Number),
            ("features", Type::set(Type::String)),
            (
                "mp",
                Type::list(Type::object([
                    ("path", Type::String),
                    ("size", Type::Number),
                ])),
            ),
            ("extra", Type::Dynamic),
        ]),
    ];
    let dir = format!("{}/tests/data/fuzz-regressions", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("regression directory exists") {
        let data = std::fs::read(entry.expect("readable entry").path()).expect("readable file");
        let Some((&selector, bytes)) = data.split_first() else {
            continue;
        };
        let ty = &types[usize::from(selector) % types.len()];
        if let Ok(v) = msgpack::decode(bytes, ty) {
            let again = msgpack::encode(&v, ty).expect("re-encodes");
            assert_eq!(msgpack::decode(&again, ty).expect("decodes"), v);
        }
        seen += 1;
    }
    assert!(seen > 0, "no regression inputs found in {dir}");
}
