//! cty values.
//!
//! Values are checked against a [`Type`] when encoded and are produced
//! type-checked by the decoders, so they do not carry their type except where
//! cty itself does: inside `dynamic` attributes ([`Value::Dynamic`]).

use crate::error::{Error, ErrorKind, Result};
use crate::number::Number;
use crate::path::{Path, PathStep};
use crate::ty::Type;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// What is known about a value that is not known yet (Terraform ≥ 1.6).
///
/// Kept so that a provider can re-encode what Terraform sent and honour it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refinements {
    /// `Some(false)`: definitely not null. `Some(true)`: definitely null.
    pub null: Option<bool>,
    /// Known prefix of an unknown string.
    pub string_prefix: Option<String>,
    /// Lower bound of an unknown number, and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of an unknown number, and whether it is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// Minimum length of an unknown collection.
    pub length_lower: Option<i64>,
    /// Maximum length of an unknown collection.
    pub length_upper: Option<i64>,
}

impl Refinements {
    /// True when nothing is known beyond the type.
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }

    /// Unknown, but definitely not null.
    pub fn not_null() -> Self {
        Refinements {
            null: Some(false),
            ..Default::default()
        }
    }
}

/// A cty value.
///
/// Sets compare equal regardless of element order; [`Value::set`] and the
/// decoders remove duplicate (wholly known) elements.
#[derive(Clone, Debug, Default)]
pub enum Value {
    /// A null of whatever type the context calls for.
    #[default]
    Null,
    /// A value not known until apply, with optional refinements.
    Unknown(Refinements),
    /// A bool.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A set (order irrelevant).
    Set(Vec<Value>),
    /// A map.
    Map(BTreeMap<String, Value>),
    /// An object; it must carry every attribute of its type (null if unset).
    Object(BTreeMap<String, Value>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A value of a `dynamic` attribute together with its concrete type.
    Dynamic {
        /// The concrete type of `value`.
        ty: Type,
        /// The value.
        value: Box<Value>,
    },
}

impl Value {
    // ---- constructors ----

    /// The null value (of any type).
    pub fn null() -> Self {
        Value::Null
    }

    /// Null of `ty`. Values do not carry types, so this is [`Value::Null`];
    /// it exists to make call sites say which type they mean.
    pub fn null_of(_ty: &Type) -> Self {
        Value::Null
    }

    /// An unrefined unknown value.
    pub fn unknown() -> Self {
        Value::Unknown(Refinements::default())
    }

    /// An unrefined unknown of `ty` (see [`Value::null_of`]).
    pub fn unknown_of(_ty: &Type) -> Self {
        Value::unknown()
    }

    /// A string.
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    /// A bool.
    pub fn bool(b: bool) -> Self {
        Value::Bool(b)
    }

    /// An integer number.
    pub fn int(i: i64) -> Self {
        Value::Number(Number::from_i64(i))
    }

    /// A number.
    pub fn number(n: impl Into<Number>) -> Self {
        Value::Number(n.into())
    }

    /// A list.
    pub fn list(elements: impl IntoIterator<Item = Value>) -> Self {
        Value::List(elements.into_iter().collect())
    }

    /// A set: duplicate wholly-known elements are removed, order is canonical.
    pub fn set(elements: impl IntoIterator<Item = Value>) -> Self {
        Value::Set(normalize_set(elements.into_iter().collect()))
    }

    /// A map.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Self {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An object from `(name, value)` pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Value)>) -> Self {
        Value::Object(attrs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An object of type `ty` with every attribute null.
    pub fn object_of_nulls(ty: &Type) -> Self {
        match ty {
            Type::Object(attrs) => {
                Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect())
            }
            _ => Value::Null,
        }
    }

    /// A tuple.
    pub fn tuple(elements: impl IntoIterator<Item = Value>) -> Self {
        Value::Tuple(elements.into_iter().collect())
    }

    /// A `dynamic` attribute's value with its concrete type.
    pub fn dynamic(ty: Type, value: Value) -> Self {
        Value::Dynamic {
            ty,
            value: Box::new(value),
        }
    }

    // ---- predicates ----

    /// True for null (a dynamic wrapper around null counts as null).
    pub fn is_null(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Dynamic { value, .. } => value.is_null(),
            _ => false,
        }
    }

    /// False only if this value itself is unknown (children may be unknown).
    pub fn is_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Dynamic { value, .. } => value.is_known(),
            _ => true,
        }
    }

    /// True if neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic { value, .. } => value.is_wholly_known(),
        }
    }

    /// A short description of the value's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Unknown(_) => "an unknown value",
            Value::Bool(_) => "a bool",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::List(_) => "a list",
            Value::Set(_) => "a set",
            Value::Map(_) => "a map",
            Value::Object(_) => "an object",
            Value::Tuple(_) => "a tuple",
            Value::Dynamic { .. } => "a dynamic value",
        }
    }

    // ---- accessors ----

    /// The value inside a dynamic wrapper, or `self`.
    pub fn unwrap_dynamic(&self) -> &Value {
        match self {
            Value::Dynamic { value, .. } => value.unwrap_dynamic(),
            other => other,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self.unwrap_dynamic() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self.unwrap_dynamic() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<&Number> {
        match self.unwrap_dynamic() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as `i64`, if it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    /// Elements of a list, set or tuple.
    pub fn as_elements(&self) -> Option<&[Value]> {
        match self.unwrap_dynamic() {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v),
            _ => None,
        }
    }

    /// Entries of a map or attributes of an object.
    pub fn as_entries(&self) -> Option<&BTreeMap<String, Value>> {
        match self.unwrap_dynamic() {
            Value::Map(m) | Value::Object(m) => Some(m),
            _ => None,
        }
    }

    /// An object attribute.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        match self.unwrap_dynamic() {
            Value::Object(m) => m.get(name),
            _ => None,
        }
    }

    /// Mutable object attribute.
    pub fn get_attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(name),
            Value::Dynamic { value, .. } => value.get_attr_mut(name),
            _ => None,
        }
    }

    /// A map element.
    pub fn get_key(&self, key: &str) -> Option<&Value> {
        match self.unwrap_dynamic() {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// A list/tuple/set element by position.
    pub fn get_index(&self, index: i64) -> Option<&Value> {
        let i = usize::try_from(index).ok()?;
        self.as_elements()?.get(i)
    }

    /// Follows `path` from this value.
    pub fn get_path(&self, path: &Path) -> Option<&Value> {
        let mut cur = self;
        for step in path.steps() {
            cur = match step {
                PathStep::Attr(name) => cur.get_attr(name)?,
                PathStep::Key(key) => cur.get_key(key)?,
                PathStep::Index(i) => cur.get_index(*i)?,
            };
        }
        Some(cur)
    }

    /// Number of elements of a known collection, tuple or object.
    pub fn len(&self) -> Option<usize> {
        match self.unwrap_dynamic() {
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => Some(v.len()),
            Value::Map(m) | Value::Object(m) => Some(m.len()),
            _ => None,
        }
    }

    /// True for a known, empty collection.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Checks that the value has the shape of `ty`: every object attribute
    /// present, no extra ones, tuple lengths right, primitives of the right kind.
    pub fn check_type(&self, ty: &Type) -> Result<()> {
        check_type(self, ty, &mut Path::root())
    }

    /// A total order used to put set elements in canonical order.
    pub fn canonical_cmp(&self, other: &Value) -> Ordering {
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Unknown(_) => 1,
                Value::Bool(_) => 2,
                Value::Number(_) => 3,
                Value::String(_) => 4,
                Value::List(_) => 5,
                Value::Set(_) => 6,
                Value::Map(_) => 7,
                Value::Object(_) => 8,
                Value::Tuple(_) => 9,
                Value::Dynamic { .. } => 10,
            }
        }
        fn seq(a: &[Value], b: &[Value]) -> Ordering {
            for (x, y) in a.iter().zip(b) {
                match x.canonical_cmp(y) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            a.len().cmp(&b.len())
        }
        fn entries(a: &BTreeMap<String, Value>, b: &BTreeMap<String, Value>) -> Ordering {
            for ((ka, va), (kb, vb)) in a.iter().zip(b) {
                match ka.cmp(kb).then_with(|| va.canonical_cmp(vb)) {
                    Ordering::Equal => {}
                    o => return o,
                }
            }
            a.len().cmp(&b.len())
        }
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Number(a), Value::Number(b)) => a.cmp(b),
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => seq(a, b),
            (Value::Set(a), Value::Set(b)) => {
                let (a, b) = (sorted_refs(a), sorted_refs(b));
                for (x, y) in a.iter().zip(&b) {
                    match x.canonical_cmp(y) {
                        Ordering::Equal => {}
                        o => return o,
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => entries(a, b),
            (Value::Unknown(_), Value::Unknown(_)) => Ordering::Equal,
            (Value::Dynamic { ty: ta, value: va }, Value::Dynamic { ty: tb, value: vb }) => {
                ta.cmp(tb).then_with(|| va.canonical_cmp(vb))
            }
            _ => rank(self).cmp(&rank(other)),
        }
    }
}

fn sorted_refs(v: &[Value]) -> Vec<&Value> {
    let mut refs: Vec<&Value> = v.iter().collect();
    refs.sort_by(|a, b| a.canonical_cmp(b));
    refs
}

/// Sorts set elements canonically and drops duplicates among wholly-known
/// elements (unknown elements may turn out distinct, so all are kept).
pub(crate) fn normalize_set(mut elements: Vec<Value>) -> Vec<Value> {
    elements.sort_by(|a, b| a.canonical_cmp(b));
    elements.dedup_by(|a, b| a.is_wholly_known() && b.is_wholly_known() && a == b);
    elements
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Unknown(a), Value::Unknown(b)) => a == b,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => {
                a.len() == b.len()
                    && sorted_refs(a)
                        .into_iter()
                        .zip(sorted_refs(b))
                        .all(|(x, y)| x == y)
            }
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a == b,
            (Value::Dynamic { ty: ta, value: va }, Value::Dynamic { ty: tb, value: vb }) => {
                ta == tb && va == vb
            }
            _ => false,
        }
    }
}

fn mismatch(path: &Path, ty: &Type, v: &Value) -> Error {
    Error::new(
        path,
        ErrorKind::TypeMismatch {
            expected: ty.to_string(),
            found: v.kind().to_string(),
        },
    )
}

fn check_type(v: &Value, ty: &Type, path: &mut Path) -> Result<()> {
    if path.steps().len() > crate::MAX_DEPTH {
        return Err(Error::new(path, ErrorKind::TooDeep(crate::MAX_DEPTH)));
    }
    match (v, ty) {
        (Value::Null | Value::Unknown(_), _) => Ok(()),
        (Value::Dynamic { ty: inner, value }, Type::Dynamic) => check_type(value, inner, path),
        (_, Type::Dynamic) => Err(Error::new(path, ErrorKind::DynamicWithoutType)),
        (Value::Bool(_), Type::Bool)
        | (Value::Number(_), Type::Number)
        | (Value::String(_), Type::String) => Ok(()),
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
            for (i, item) in items.iter().enumerate() {
                path.push(PathStep::Index(i as i64));
                let r = check_type(item, et, path);
                path.pop();
                r?;
            }
            Ok(())
        }
        (Value::Map(m), Type::Map(et)) => {
            for (k, item) in m {
                path.push(PathStep::Key(k.clone()));
                let r = check_type(item, et, path);
                path.pop();
                r?;
            }
            Ok(())
        }
        (Value::Object(m), Type::Object(attrs)) => {
            if let Some(extra) = m.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(Error::new(
                    path,
                    ErrorKind::UnsupportedAttribute(extra.clone()),
                ));
            }
            for (name, aty) in attrs {
                let Some(item) = m.get(name) else {
                    return Err(Error::new(path, ErrorKind::MissingAttribute(name.clone())));
                };
                path.push(PathStep::Attr(name.clone()));
                let r = check_type(item, aty, path);
                path.pop();
                r?;
            }
            Ok(())
        }
        (Value::Tuple(items), Type::Tuple(types)) => {
            if items.len() != types.len() {
                return Err(Error::new(
                    path,
                    ErrorKind::TupleLength {
                        expected: types.len(),
                        found: items.len(),
                    },
                ));
            }
            for (i, (item, t)) in items.iter().zip(types).enumerate() {
                path.push(PathStep::Index(i as i64));
                let r = check_type(item, t, path);
                path.pop();
                r?;
            }
            Ok(())
        }
        _ => Err(mismatch(path, ty, v)),
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::int(i)
    }
}

impl From<Number> for Value {
    fn from(n: Number) -> Self {
        Value::Number(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_ignore_order_and_duplicates() {
        let a = Value::set([Value::string("b"), Value::string("a"), Value::string("b")]);
        assert_eq!(a.len(), Some(2));
        let b = Value::Set(vec![Value::string("a"), Value::string("b")]);
        let c = Value::Set(vec![Value::string("b"), Value::string("a")]);
        assert_eq!(a, b);
        assert_eq!(b, c);
        let unknowns = Value::set([Value::unknown(), Value::unknown()]);
        assert_eq!(unknowns.len(), Some(2), "unknown elements may be distinct");
    }

    #[test]
    fn path_access_and_knownness() {
        let v = Value::object([
            (
                "rootfs",
                Value::list([Value::object([("size", Value::string("8G"))])]),
            ),
            ("tags", Value::map([("env", Value::unknown())])),
        ]);
        let p = Path::root().attr("rootfs").index(0).attr("size");
        assert_eq!(v.get_path(&p), Some(&Value::string("8G")));
        assert!(v.is_known());
        assert!(!v.is_wholly_known());
        assert!(v.get_path(&Path::root().attr("nope")).is_none());
    }

    #[test]
    fn check_type_names_the_attribute() {
        let ty = Type::object([("a", Type::list(Type::Number))]);
        let v = Value::object([("a", Value::list([Value::string("x")]))]);
        let e = v.check_type(&ty).unwrap_err();
        assert_eq!(e.path.to_string(), "a[0]");
        let e = Value::object([("b", Value::Null)])
            .check_type(&ty)
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnsupportedAttribute("b".into()));
    }
}
