//! Value validators attached to attributes.
//!
//! String validators apply to every string inside the attribute (so a
//! `list(string)` is checked element by element); number validators likewise
//! to every number. Unknown values are skipped: they are checked once known.

use crate::diagnostic::Diagnostic;
use pvelxc_cty::{Path, Value};
use std::fmt;
use std::sync::Arc;

/// Signature of a custom validator: the value (known, non-null) and its path.
pub type CustomFn = dyn Fn(&Value, &Path) -> Vec<Diagnostic> + Send + Sync;

/// A check on a configured value.
#[derive(Clone)]
pub enum Validator {
    /// The string must match the regular expression (anchor it yourself).
    Regex {
        /// The compiled pattern, or the compile error (reported by `internal_validate`).
        pattern: Result<regex::Regex, String>,
        /// What a valid value looks like, for the error message.
        expectation: String,
    },
    /// The string must be one of these.
    OneOf(Vec<String>),
    /// String length in characters, inclusive bounds.
    Length {
        /// Minimum length.
        min: Option<usize>,
        /// Maximum length.
        max: Option<usize>,
    },
    /// The number must be a whole number within these inclusive bounds.
    IntRange {
        /// Minimum.
        min: Option<i64>,
        /// Maximum.
        max: Option<i64>,
    },
    /// No newline, carriage return or NUL: such a value would smuggle a line
    /// into a config file. Applied to every string attribute by default.
    SingleLine,
    /// No NUL character (for attributes that may hold several lines).
    NoNul,
    /// An IPv4 or IPv6 CIDR (`10.0.0.5/24`); `allow_plain` also accepts a bare address.
    Cidr {
        /// Accept an address without prefix length.
        allow_plain: bool,
    },
    /// Anything else.
    Custom {
        /// What the check enforces, for documentation.
        description: String,
        /// The check.
        check: Arc<CustomFn>,
    },
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Validator {
    /// A regular-expression check. `expectation` tells the user what is valid,
    /// e.g. "a hostname of letters, digits and hyphens".
    pub fn regex(pattern: &str, expectation: impl Into<String>) -> Self {
        Validator::Regex {
            pattern: regex::Regex::new(pattern).map_err(|e| e.to_string()),
            expectation: expectation.into(),
        }
    }

    /// Must be one of `choices`.
    pub fn one_of<S: Into<String>>(choices: impl IntoIterator<Item = S>) -> Self {
        Validator::OneOf(choices.into_iter().map(Into::into).collect())
    }

    /// Length between `min` and `max` characters (inclusive).
    pub fn length(min: usize, max: usize) -> Self {
        Validator::Length {
            min: Some(min),
            max: Some(max),
        }
    }

    /// Whole number between `min` and `max` (inclusive).
    pub fn int_range(min: i64, max: i64) -> Self {
        Validator::IntRange {
            min: Some(min),
            max: Some(max),
        }
    }

    /// CIDR notation required.
    pub fn cidr() -> Self {
        Validator::Cidr { allow_plain: false }
    }

    /// A custom check.
    pub fn custom(
        description: impl Into<String>,
        check: impl Fn(&Value, &Path) -> Vec<Diagnostic> + Send + Sync + 'static,
    ) -> Self {
        Validator::Custom {
            description: description.into(),
            check: Arc::new(check),
        }
    }

    /// A one-line description for documentation.
    pub fn describe(&self) -> String {
        match self {
            Validator::Regex { expectation, .. } => expectation.clone(),
            Validator::OneOf(choices) => {
                let quoted: Vec<String> = choices.iter().map(|c| format!("`{c}`")).collect();
                format!("one of {}", quoted.join(", "))
            }
            Validator::Length { min, max } => match (min, max) {
                (Some(a), Some(b)) => format!("{a} to {b} characters"),
                (Some(a), None) => format!("at least {a} characters"),
                (None, Some(b)) => format!("at most {b} characters"),
                (None, None) => "any length".into(),
            },
            Validator::IntRange { min, max } => match (min, max) {
                (Some(a), Some(b)) => format!("a whole number from {a} to {b}"),
                (Some(a), None) => format!("a whole number of at least {a}"),
                (None, Some(b)) => format!("a whole number of at most {b}"),
                (None, None) => "a whole number".into(),
            },
            Validator::SingleLine => "a single line".into(),
            Validator::NoNul => "no NUL characters".into(),
            Validator::Cidr { allow_plain: false } => "an address in CIDR notation".into(),
            Validator::Cidr { allow_plain: true } => {
                "an address, optionally in CIDR notation".into()
            }
            Validator::Custom { description, .. } => description.clone(),
        }
    }

    /// Runs the check on `value` (at `path`, attribute `name` for messages).
    pub fn check(&self, value: &Value, path: &Path) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        self.walk(value, path, &mut out);
        out
    }

    fn walk(&self, value: &Value, path: &Path, out: &mut Vec<Diagnostic>) {
        if let Validator::Custom { check, .. } = self {
            if value.is_wholly_known() && !value.is_null() {
                out.extend(check(value, path));
            }
            return;
        }
        match value.unwrap_dynamic() {
            Value::String(s) => {
                if let Some(d) = self.check_string(s, path) {
                    out.push(d);
                }
            }
            Value::Number(n) => {
                if let Validator::IntRange { min, max } = self {
                    let ok = n
                        .as_i64()
                        .is_some_and(|i| min.is_none_or(|m| i >= m) && max.is_none_or(|m| i <= m));
                    if !ok {
                        out.push(Diagnostic::error(
                            path.clone(),
                            "Value out of range",
                            format!("{} must be {}; got {n}.", label(path), self.describe()),
                        ));
                    }
                }
            }
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk(item, &path.index(i as i64), out);
                }
            }
            Value::Map(m) => {
                for (k, item) in m {
                    let p = path.key(k.clone());
                    // Map keys end up in config files too.
                    if matches!(self, Validator::SingleLine | Validator::NoNul) {
                        out.extend(self.check_string(k, &p));
                    }
                    self.walk(item, &p, out);
                }
            }
            Value::Object(m) => {
                for (k, item) in m {
                    let p = path.attr(k.clone());
                    // Object keys of `dynamic` values are user-chosen as well.
                    if matches!(self, Validator::SingleLine | Validator::NoNul) {
                        out.extend(self.check_string(k, &p));
                    }
                    self.walk(item, &p, out);
                }
            }
            _ => {}
        }
    }

    fn check_string(&self, s: &str, path: &Path) -> Option<Diagnostic> {
        let (summary, detail) = match self {
            Validator::Regex {
                pattern: Ok(re),
                expectation,
            } if !re.is_match(s) => (
                "Invalid value",
                format!("{} must be {expectation}; got {s:?}.", label(path)),
            ),
            Validator::OneOf(choices) if !choices.iter().any(|c| c == s) => (
                "Invalid value",
                format!("{} must be {}; got {s:?}.", label(path), self.describe()),
            ),
            Validator::Length { min, max } => {
                let n = s.chars().count();
                if min.is_none_or(|m| n >= m) && max.is_none_or(|m| n <= m) {
                    return None;
                }
                (
                    "Invalid value length",
                    format!("{} must be {}; got {n} characters.", label(path), self.describe()),
                )
            }
            Validator::SingleLine if s.contains(['\n', '\r', '\0']) => (
                "Value must be a single line",
                format!(
                    "{} contains a newline, carriage return or NUL character, which would end up as an extra line in a configuration file. Remove it (check for a trailing newline from file() or a heredoc; trimspace() removes it).",
                    label(path)
                ),
            ),
            Validator::NoNul if s.contains('\0') => (
                "Value contains NUL",
                format!("{} must not contain a NUL character.", label(path)),
            ),
            Validator::Cidr { allow_plain } if !is_cidr(s, *allow_plain) => (
                "Invalid address",
                format!(
                    "{} must be {} such as \"192.168.1.10/24\" or \"fd00::10/64\"; got {s:?}.",
                    label(path),
                    self.describe()
                ),
            ),
            _ => return None,
        };
        Some(Diagnostic::error(path.clone(), summary, detail))
    }
}

fn label(path: &Path) -> String {
    if path.is_root() {
        "The value".into()
    } else {
        format!("`{path}`")
    }
}

/// Accepts `addr/len` with a valid IPv4/IPv6 address and prefix length.
fn is_cidr(s: &str, allow_plain: bool) -> bool {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None if allow_plain => (s, None),
        None => return false,
    };
    let Ok(ip) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    match len {
        None => true,
        Some(l) => {
            !l.is_empty()
                && l.bytes().all(|b| b.is_ascii_digit())
                && l.len() <= 3
                && l.parse::<u32>().is_ok_and(|n| n <= max)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_validators_report_the_path() {
        let p = Path::root().attr("hostname");
        assert!(Validator::SingleLine.check(&Value::string("a\nb"), &p)[0].path == p);
        assert!(Validator::SingleLine
            .check(&Value::string("ab"), &p)
            .is_empty());
        let d = Validator::one_of(["a", "b"])
            .check(&Value::list([Value::string("a"), Value::string("c")]), &p);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path.to_string(), "hostname[1]");
        assert!(
            Validator::regex("^[a-z]+$", "lowercase")
                .check(&Value::string("ABC"), &p)
                .len()
                == 1
        );
        assert!(
            Validator::length(1, 3)
                .check(&Value::string("abcd"), &p)
                .len()
                == 1
        );
        assert!(Validator::int_range(1, 3).check(&Value::int(4), &p).len() == 1);
        assert!(Validator::int_range(1, 3)
            .check(&Value::int(2), &p)
            .is_empty());
        assert!(Validator::int_range(1, 3)
            .check(&Value::unknown(), &p)
            .is_empty());
    }

    #[test]
    fn custom_validators_see_known_values_only() {
        let v = Validator::custom("an even number", |v, p| {
            if v.as_i64().is_some_and(|i| i % 2 == 1) {
                vec![Diagnostic::error(p.clone(), "Odd", "must be even")]
            } else {
                Vec::new()
            }
        });
        let p = Path::root().attr("n");
        assert_eq!(v.check(&Value::int(3), &p).len(), 1);
        assert!(v.check(&Value::int(4), &p).is_empty());
        assert!(v.check(&Value::unknown(), &p).is_empty());
        assert!(v.check(&Value::Null, &p).is_empty());
        assert_eq!(v.describe(), "an even number");
    }

    #[test]
    fn map_keys_are_single_line_too() {
        let p = Path::root().attr("env");
        let v = Value::map([("A\nB", Value::string("x"))]);
        let d = Validator::SingleLine.check(&v, &p);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].path, p.key("A\nB"));
    }

    #[test]
    fn cidr() {
        for ok in ["10.0.0.1/24", "fd00::1/64", "0.0.0.0/0"] {
            assert!(is_cidr(ok, false), "{ok}");
        }
        for bad in [
            "10.0.0.1",
            "10.0.0.1/33",
            "10.0.0.1/",
            "x/24",
            "fd00::1/129",
            "10.0.0.1/+1",
        ] {
            assert!(!is_cidr(bad, false), "{bad}");
        }
        assert!(is_cidr("10.0.0.1", true));
    }
}
