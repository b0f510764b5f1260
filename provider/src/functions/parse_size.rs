//! `provider::pvelxc::parse_size(size)`.

use pvelxc_cty::{Number, Type, Value};

use crate::framework::{Function, FunctionError, FunctionSignature, Parameter};
use crate::lxc::size::parse_size;

/// Converts a PVE size string to bytes.
pub struct ParseSizeFunction;

impl Function for ParseSizeFunction {
    fn name(&self) -> &'static str {
        "parse_size"
    }

    fn signature(&self) -> FunctionSignature {
        FunctionSignature {
            parameters: vec![Parameter::new(
                "size",
                Type::String,
                "A size as Proxmox writes it: a number with an optional unit `K`, `M`, `G` or `T` \
                 (binary, 1K = 1024), optionally followed by `B` or `iB`; decimals allowed \
                 (`1.5G`).",
            )],
            variadic: None,
            return_type: Type::Number,
            summary: "Size string (\"8G\") to bytes".into(),
            description: "Returns the number of bytes a Proxmox-style size denotes. Units are \
                binary: `8G` is 8589934592. A plain number is taken as bytes. The result must be \
                a whole number of bytes."
                .into(),
            deprecation_message: None,
            example: "output \"rootfs_bytes\" {\n  value = provider::pvelxc::parse_size(\"8G\") # 8589934592\n}".into(),
        }
    }

    fn call(&self, args: &[Value]) -> Result<Value, FunctionError> {
        let text = args
            .first()
            .and_then(Value::as_str)
            .ok_or_else(|| FunctionError::argument(0, "size must be a string such as \"8G\""))?;
        let bytes = parse_size(text).map_err(|e| FunctionError::argument(0, e.to_string()))?;
        Ok(Value::Number(Number::from_u64(bytes)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_bytes_or_blames_argument_zero() {
        let v = ParseSizeFunction
            .call(&[Value::string("1.5G")])
            .expect("valid");
        assert_eq!(v.as_i64(), Some(1_610_612_736));
        let err = ParseSizeFunction
            .call(&[Value::string("lots")])
            .unwrap_err();
        assert_eq!(err.argument, Some(0));
    }
}
