//! cty, the value system Terraform speaks to providers, in Rust.
//!
//! * [`Type`] and its JSON description,
//! * [`Value`] including unknowns (with refinements) and `dynamic` values,
//! * [`msgpack`] and [`json`] codecs byte-compatible with cty's,
//! * [`Path`] for naming where in a value something happened.
//!
//! Decoders treat their input as hostile: nesting is capped at [`MAX_DEPTH`]
//! and no allocation is sized by an untrusted length.

mod display;
pub mod error;
pub mod json;
mod jsontext;
pub mod msgpack;
pub mod number;
pub mod path;
pub mod ty;
pub mod value;

pub use error::{Error, ErrorKind, Result};
pub use number::{Number, NumberError};
pub use path::{Path, PathStep};
pub use ty::Type;
pub use value::{Refinements, Value};

/// Deepest nesting of values and types the codecs accept. Terraform schemas
/// nest a handful of levels; this bounds recursion on hostile input.
pub const MAX_DEPTH: usize = 64;

/// Decodes a value that arrived as Terraform's pair of encodings (msgpack
/// and JSON fields of one message) the way Terraform itself does: msgpack if
/// present, else JSON if present, else null (an absent value means null).
pub fn decode_either(msgpack_bytes: &[u8], json_bytes: &[u8], ty: &Type) -> Result<Value> {
    if !msgpack_bytes.is_empty() {
        msgpack::decode(msgpack_bytes, ty)
    } else if !json_bytes.is_empty() {
        json::decode(json_bytes, ty)
    } else {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_either_prefers_msgpack_then_json_then_null() {
        let ty = Type::String;
        assert_eq!(
            decode_either(&[0xa1, b'm'], b"\"j\"", &ty).unwrap(),
            Value::string("m")
        );
        assert_eq!(
            decode_either(&[], b"\"j\"", &ty).unwrap(),
            Value::string("j")
        );
        assert_eq!(decode_either(&[], &[], &ty).unwrap(), Value::Null);
        assert!(decode_either(&[0x01], &[], &ty).is_err());
    }
}
