//! Reading a spec from JSON (the provider's form) or TOML (the form for people),
//! with errors that carry the path of the offending field.

use crate::validate::{validate, Invalid};
use crate::Spec;
use std::path::{Path, PathBuf};

/// Why a spec could not be used. Nothing has been changed on the system when
/// any of these is returned.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The spec file could not be read.
    #[error("cannot read spec {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The document does not parse, or a field has the wrong name or type.
    #[error("spec field `{field}`: {message}")]
    Syntax {
        /// Path of the field, e.g. `items[2].user.uid` (`.` for the document).
        field: String,
        message: String,
    },
    /// The document parses but breaks a rule (see [`crate::validate`]).
    #[error("{}", render_invalid(.0))]
    Invalid(Vec<Invalid>),
}

fn render_invalid(list: &[Invalid]) -> String {
    let mut out = String::from("the spec is invalid:");
    for i in list {
        out.push_str("\n  ");
        out.push_str(&i.to_string());
    }
    out
}

/// Parses and validates a JSON spec.
pub fn parse_json(text: &str) -> Result<Spec, SpecError> {
    let de = &mut serde_json::Deserializer::from_str(text);
    let spec: Spec = serde_path_to_error::deserialize(de).map_err(|e| SpecError::Syntax {
        field: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    checked(spec)
}

/// Parses and validates a TOML spec.
pub fn parse_toml(text: &str) -> Result<Spec, SpecError> {
    let de = toml::Deserializer::new(text);
    let spec: Spec = serde_path_to_error::deserialize(de).map_err(|e| SpecError::Syntax {
        field: e.path().to_string(),
        message: e.inner().message().trim().to_string(),
    })?;
    checked(spec)
}

/// Reads a spec file: `.toml` is TOML, anything else JSON.
pub fn load_file(path: &Path) -> Result<Spec, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    if path.extension().is_some_and(|e| e == "toml") {
        parse_toml(&text)
    } else {
        parse_json(&text)
    }
}

fn checked(spec: Spec) -> Result<Spec, SpecError> {
    let problems = validate(&spec);
    if problems.is_empty() {
        Ok(spec)
    } else {
        Err(SpecError::Invalid(problems))
    }
}
