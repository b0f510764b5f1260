//! Codec errors. Every error names the path inside the value where it happened.

use crate::path::Path;
use thiserror::Error;

/// A decode, encode or type-parse failure at a specific place in a value.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{}: {kind}", PathLabel(path))]
pub struct Error {
    /// Where in the value the problem is (root = empty path).
    pub path: Path,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl Error {
    /// Builds an error at `path`.
    pub fn new(path: &Path, kind: ErrorKind) -> Self {
        Error {
            path: path.clone(),
            kind,
        }
    }

    /// Builds an error at the root; callers add steps with [`Error::within`]
    /// as the error travels up, so the success path never builds paths.
    pub fn at_root(kind: ErrorKind) -> Self {
        Error {
            path: Path::root(),
            kind,
        }
    }

    /// The same error, one step further from the root (`step` first).
    pub fn within(mut self, step: crate::PathStep) -> Self {
        self.path.0.insert(0, step);
        self
    }
}

struct PathLabel<'a>(&'a Path);

impl std::fmt::Display for PathLabel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_root() {
            f.write_str("at the root value")
        } else {
            write!(f, "at {}", self.0)
        }
    }
}

/// The kinds of codec failure.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ErrorKind {
    /// The input ended in the middle of a value.
    #[error("unexpected end of input")]
    Truncated,
    /// Bytes remained after the top-level value.
    #[error("{0} unexpected bytes after the value")]
    TrailingBytes(usize),
    /// The encoded item does not fit the expected type.
    #[error("expected {expected}, found {found}")]
    TypeMismatch {
        /// What the type called for.
        expected: String,
        /// What the input held.
        found: String,
    },
    /// An object did not carry exactly its attributes (msgpack requires all).
    #[error("an object with {expected} attributes is required ({found} given)")]
    ObjectAttributeCount {
        /// Attributes in the object type.
        expected: usize,
        /// Entries in the input.
        found: usize,
    },
    /// An object carried an attribute its type does not have.
    #[error("unsupported attribute {0:?}")]
    UnsupportedAttribute(String),
    /// An object value lacks an attribute its type requires.
    #[error("missing attribute {0:?}; objects must carry every attribute (use null)")]
    MissingAttribute(String),
    /// A map or object key appeared twice.
    #[error("duplicate key {0:?}")]
    DuplicateKey(String),
    /// A tuple had the wrong number of elements.
    #[error("a tuple of length {expected} is required ({found} given)")]
    TupleLength {
        /// Elements in the tuple type.
        expected: usize,
        /// Elements in the input.
        found: usize,
    },
    /// A number could not be parsed or is outside the supported range.
    #[error("invalid number {0:?}")]
    InvalidNumber(String),
    /// A string was not valid UTF-8.
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    /// Nesting exceeded [`crate::MAX_DEPTH`].
    #[error("value nests deeper than {0} levels")]
    TooDeep(usize),
    /// A type description could not be understood.
    #[error("invalid type description: {0}")]
    InvalidType(String),
    /// An extension value that is not an unknown-value marker.
    #[error("unsupported msgpack extension type {code} with length {len}")]
    UnsupportedExtension {
        /// Extension type code.
        code: i8,
        /// Payload length.
        len: u32,
    },
    /// An unknown-value refinement payload was malformed or oversized.
    #[error("invalid unknown value refinement: {0}")]
    InvalidRefinement(String),
    /// JSON cannot carry unknown values.
    #[error("unknown values cannot be represented in JSON")]
    UnknownInJson,
    /// JSON syntax error.
    #[error("invalid JSON: {0}")]
    Syntax(String),
    /// A `dynamic` value was given without its concrete type.
    #[error("a value for a dynamic attribute must carry its concrete type (Value::Dynamic)")]
    DynamicWithoutType,
    /// Anything else; the message says what.
    #[error("{0}")]
    Other(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
