//! cty types and their JSON description (`"string"`, `["list","string"]`, ...).

use crate::error::{Error, ErrorKind, Result};
use crate::jsontext::{self, Json};
use crate::path::Path;
use std::collections::BTreeMap;
use std::fmt;

/// A cty type, as Terraform describes attribute types on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// `"bool"`
    Bool,
    /// `"number"` (arbitrary-precision decimal)
    Number,
    /// `"string"`
    String,
    /// `"dynamic"`: the concrete type travels with each value.
    Dynamic,
    /// `["list", T]`
    List(Box<Type>),
    /// `["set", T]`
    Set(Box<Type>),
    /// `["map", T]`
    Map(Box<Type>),
    /// `["object", {name: T, ...}]`
    Object(BTreeMap<String, Type>),
    /// `["tuple", [T, ...]]`
    Tuple(Vec<Type>),
}

impl Type {
    /// `list(element)`
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// `set(element)`
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// `map(element)`
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// `object({...})` from `(name, type)` pairs.
    pub fn object<K: Into<String>>(attrs: impl IntoIterator<Item = (K, Type)>) -> Type {
        Type::Object(attrs.into_iter().map(|(k, t)| (k.into(), t)).collect())
    }

    /// `tuple([...])`
    pub fn tuple(elements: impl IntoIterator<Item = Type>) -> Type {
        Type::Tuple(elements.into_iter().collect())
    }

    /// True for bool, number and string.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::Bool | Type::Number | Type::String)
    }

    /// True for list, set and map.
    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// The element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
            _ => None,
        }
    }

    /// The attribute types of an object type.
    pub fn attribute_types(&self) -> Option<&BTreeMap<String, Type>> {
        match self {
            Type::Object(attrs) => Some(attrs),
            _ => None,
        }
    }

    /// True if `dynamic` appears anywhere in this type.
    pub fn has_dynamic(&self) -> bool {
        match self {
            Type::Dynamic => true,
            Type::Bool | Type::Number | Type::String => false,
            Type::List(t) | Type::Set(t) | Type::Map(t) => t.has_dynamic(),
            Type::Object(attrs) => attrs.values().any(Type::has_dynamic),
            Type::Tuple(elems) => elems.iter().any(Type::has_dynamic),
        }
    }

    /// The type as cty's JSON type description, e.g. `["list","string"]`.
    /// Object attributes are written in sorted order, so output is deterministic.
    pub fn to_json(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    pub(crate) fn write_json(&self, out: &mut String) {
        match self {
            Type::Bool => out.push_str("\"bool\""),
            Type::Number => out.push_str("\"number\""),
            Type::String => out.push_str("\"string\""),
            Type::Dynamic => out.push_str("\"dynamic\""),
            Type::List(t) => Self::write_collection(out, "list", t),
            Type::Set(t) => Self::write_collection(out, "set", t),
            Type::Map(t) => Self::write_collection(out, "map", t),
            Type::Object(attrs) => {
                out.push_str("[\"object\",{");
                for (i, (name, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    jsontext::write_string(out, name);
                    out.push(':');
                    t.write_json(out);
                }
                out.push_str("}]");
            }
            Type::Tuple(elems) => {
                out.push_str("[\"tuple\",[");
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    t.write_json(out);
                }
                out.push_str("]]");
            }
        }
    }

    fn write_collection(out: &mut String, kind: &str, element: &Type) {
        out.push_str("[\"");
        out.push_str(kind);
        out.push_str("\",");
        element.write_json(out);
        out.push(']');
    }

    /// Parses cty's JSON type description.
    ///
    /// Object types may carry cty's third element (the list of optional
    /// attributes); it only matters for type conversion inside Terraform, so it
    /// is checked for shape and otherwise ignored.
    pub fn from_json(input: &[u8]) -> Result<Type> {
        let json = jsontext::parse(input)?;
        Self::from_json_value(&json)
    }

    pub(crate) fn from_json_value(json: &Json) -> Result<Type> {
        Self::parse(json, &mut Path::root())
    }

    fn parse(json: &Json, path: &mut Path) -> Result<Type> {
        let bad = |path: &Path, msg: String| Error::new(path, ErrorKind::InvalidType(msg));
        match json {
            Json::String(s) => match s.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(bad(path, format!("unknown primitive type {other:?}"))),
            },
            Json::Array(items) => {
                let Some(Json::String(kind)) = items.first() else {
                    return Err(bad(
                        path,
                        "a complex type must start with its kind as a string".into(),
                    ));
                };
                match (kind.as_str(), items.len()) {
                    ("list" | "set" | "map", 2) => {
                        let element = Box::new(Self::parse(&items[1], path)?);
                        Ok(match kind.as_str() {
                            "list" => Type::List(element),
                            "set" => Type::Set(element),
                            _ => Type::Map(element),
                        })
                    }
                    ("object", 2 | 3) => {
                        let Json::Object(members) = &items[1] else {
                            return Err(bad(
                                path,
                                "object attribute types must be a JSON object".into(),
                            ));
                        };
                        if let Some(optional) = items.get(2) {
                            let ok = matches!(optional, Json::Array(names) if names.iter().all(|n| matches!(n, Json::String(s) if members.iter().any(|(k, _)| k == s))));
                            if !ok {
                                return Err(bad(
                                    path,
                                    "optional attributes must be a list of attribute names".into(),
                                ));
                            }
                        }
                        let mut attrs = BTreeMap::new();
                        for (name, t) in members {
                            path.push(crate::PathStep::Attr(name.clone()));
                            let parsed = Self::parse(t, path);
                            path.pop();
                            attrs.insert(name.clone(), parsed?);
                        }
                        Ok(Type::Object(attrs))
                    }
                    ("tuple", 2) => {
                        let Json::Array(elems) = &items[1] else {
                            return Err(bad(
                                path,
                                "tuple element types must be a JSON array".into(),
                            ));
                        };
                        let mut out = Vec::with_capacity(elems.len());
                        for (i, t) in elems.iter().enumerate() {
                            path.push(crate::PathStep::Index(i as i64));
                            let parsed = Self::parse(t, path);
                            path.pop();
                            out.push(parsed?);
                        }
                        Ok(Type::Tuple(out))
                    }
                    (other, n) => Err(bad(
                        path,
                        format!("unknown complex type {other:?} with {n} elements"),
                    )),
                }
            }
            other => Err(bad(
                path,
                format!("a type must be a string or an array, not {}", other.kind()),
            )),
        }
    }
}

/// Renders the type like Terraform's type constraint syntax, e.g. `list(string)`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("any"),
            Type::List(t) => write!(f, "list({t})"),
            Type::Set(t) => write!(f, "set({t})"),
            Type::Map(t) => write!(f, "map({t})"),
            Type::Object(attrs) => {
                f.write_str("object({")?;
                for (i, (k, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={t}")?;
                }
                f.write_str("})")
            }
            Type::Tuple(elems) => {
                f.write_str("tuple([")?;
                for (i, t) in elems.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{t}")?;
                }
                f.write_str("])")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip() {
        let t = Type::object([
            ("a", Type::list(Type::String)),
            ("b", Type::tuple([Type::Number, Type::Dynamic])),
            ("c", Type::map(Type::set(Type::Bool))),
        ]);
        let j = t.to_json();
        assert_eq!(
            j,
            r#"["object",{"a":["list","string"],"b":["tuple",["number","dynamic"]],"c":["map",["set","bool"]]}]"#
        );
        assert_eq!(Type::from_json(j.as_bytes()).unwrap(), t);
    }

    #[test]
    fn optional_attribute_marker_is_accepted() {
        let t = Type::from_json(br#"["object",{"a":"string"},["a"]]"#).unwrap();
        assert_eq!(t, Type::object([("a", Type::String)]));
        assert!(Type::from_json(br#"["object",{"a":"string"},["b"]]"#).is_err());
    }

    #[test]
    fn errors_name_the_place() {
        let e = Type::from_json(br#"["object",{"a":["list","strin"]}]"#).unwrap_err();
        assert_eq!(e.path.to_string(), "a");
        assert!(Type::from_json(br#"["list"]"#).is_err());
        assert!(Type::from_json(br#"42"#).is_err());
    }
}
