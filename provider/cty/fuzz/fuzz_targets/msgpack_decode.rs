//! Fuzz the msgpack decoder: arbitrary bytes against a selection of types.
//! Decoding may fail but must never panic, and anything it accepts must
//! re-encode and decode to the same value.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pvelxc_cty::{msgpack, Type};

fn types() -> Vec<Type> {
    vec![
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
            ("mp", Type::list(Type::object([("path", Type::String), ("size", Type::Number)]))),
            ("extra", Type::Dynamic),
        ]),
    ]
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let types = types();
    let ty = &types[usize::from(selector) % types.len()];
    if let Ok(value) = msgpack::decode(bytes, ty) {
        let again = msgpack::encode(&value, ty).expect("a decoded value must re-encode");
        let back = msgpack::decode(&again, ty).expect("a canonical encoding must decode");
        assert_eq!(back, value, "round trip changed the value");
    }
});
