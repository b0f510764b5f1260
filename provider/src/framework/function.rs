//! Provider-defined functions (`provider::pvelxc::name(...)`).
//!
//! Functions are pure: Terraform calls them without configuring the
//! provider, possibly during validation, and expects the same result for the
//! same arguments every time.

use pvelxc_cty::{Type, Value};

/// One positional parameter.
#[derive(Debug, Clone)]
pub struct Parameter {
    /// Name shown in docs and error messages.
    pub name: String,
    /// Type constraint.
    pub ty: Type,
    /// Whether null may be passed (otherwise Terraform rejects it).
    pub allow_null: bool,
    /// Markdown description.
    pub description: String,
}

impl Parameter {
    /// A non-null parameter.
    pub fn new(name: impl Into<String>, ty: Type, description: impl Into<String>) -> Self {
        Parameter {
            name: name.into(),
            ty,
            allow_null: false,
            description: description.into(),
        }
    }
}

/// Everything Terraform and the docs need to know about a function.
#[derive(Debug, Clone)]
pub struct FunctionSignature {
    /// Positional parameters.
    pub parameters: Vec<Parameter>,
    /// Optional trailing variadic parameter.
    pub variadic: Option<Parameter>,
    /// Result type.
    pub return_type: Type,
    /// One-line summary.
    pub summary: String,
    /// Markdown description.
    pub description: String,
    /// Set when the function is deprecated.
    pub deprecation_message: Option<String>,
    /// Example Terraform snippet for the docs.
    pub example: String,
}

/// A failed call: the text Terraform shows and, if one argument is at
/// fault, its zero-based position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// Message for the user.
    pub text: String,
    /// Index of the offending argument.
    pub argument: Option<i64>,
}

impl FunctionError {
    /// An error blamed on argument `index`.
    pub fn argument(index: i64, text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: Some(index),
        }
    }

    /// An error not tied to one argument.
    pub fn general(text: impl Into<String>) -> Self {
        FunctionError {
            text: text.into(),
            argument: None,
        }
    }
}

/// A provider-defined function.
pub trait Function: Send + Sync + 'static {
    /// Name without the `provider::<name>::` prefix.
    fn name(&self) -> &'static str;
    /// Parameters, result type and documentation.
    fn signature(&self) -> FunctionSignature;
    /// Computes the result. Arguments are decoded against the declared
    /// parameter types and are wholly known.
    fn call(&self, args: &[Value]) -> Result<Value, FunctionError>;
}
