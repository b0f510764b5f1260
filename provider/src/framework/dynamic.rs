//! `DynamicValue` ⇄ cty values.
//!
//! Terraform always sends MessagePack; JSON is accepted as the documented
//! fallback. Responses are always MessagePack, the only encoding every
//! Terraform version reads everywhere and the only one that can carry
//! unknown values.

use pvelxc_cty::{Path, Type, Value};
use pvelxc_proto::tfplugin5::DynamicValue;
use pvelxc_schema::Diagnostic;

/// Decodes `value` against `ty`. An absent or empty value is null, as in
/// Terraform's own decoder.
pub fn decode(value: Option<&DynamicValue>, ty: &Type, what: &str) -> Result<Value, Diagnostic> {
    let Some(value) = value else {
        return Ok(Value::Null);
    };
    let decoded = if !value.msgpack.is_empty() {
        pvelxc_cty::msgpack::decode(&value.msgpack, ty)
    } else if !value.json.is_empty() {
        pvelxc_cty::json::decode(&value.json, ty)
    } else {
        return Ok(Value::Null);
    };
    decoded.map_err(|err| {
        Diagnostic::error(
            Path::root(),
            format!("Cannot decode the {what} Terraform sent"),
            format!(
                "The value does not match this provider's schema ({err}). This usually means \
                 Terraform and the provider disagree about the schema: run `terraform init` \
                 again, and report it if it persists."
            ),
        )
    })
}

/// Encodes `value` as MessagePack against `ty`.
pub fn encode(value: &Value, ty: &Type, what: &str) -> Result<DynamicValue, Diagnostic> {
    pvelxc_cty::msgpack::encode(value, ty)
        .map(|msgpack| DynamicValue {
            msgpack,
            json: Vec::new(),
        })
        .map_err(|err| {
            Diagnostic::error(
                Path::root(),
                format!("Provider produced an invalid {what}"),
                format!(
                    "The provider's {what} does not match its own schema ({err}). This is a bug \
                     in the provider; please report it."
                ),
            )
        })
}
