//! cty's msgpack encoding, the form Terraform sends and expects for every
//! `DynamicValue`.

mod decode;
mod encode;

pub use decode::{decode, MAX_REFINEMENT_BYTES};
pub use encode::{encode, REFINED_UNKNOWN_EXT, UNKNOWN_BYTES};
