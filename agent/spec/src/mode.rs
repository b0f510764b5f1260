//! File permission bits as written in specs: an octal string such as `"2775"`.
//!
//! Modes are strings on purpose: a JSON or TOML integer `2775` would be decimal, and
//! tools that accept both have dropped the setgid digit of four-digit modes.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Permission bits including setuid, setgid and sticky (`0o7777` at most).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileMode(pub u32);

impl FileMode {
    /// Parses `"755"`, `"0644"` or `"2775"`; 3 or 4 octal digits.
    pub fn parse(text: &str) -> Result<Self, String> {
        let digits = text.strip_prefix("0o").unwrap_or(text);
        if !(3..=4).contains(&digits.len()) || !digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
            return Err(format!(
                "invalid mode {text:?}: write 3 or 4 octal digits as a string, e.g. \"0644\" or \"2775\""
            ));
        }
        u32::from_str_radix(digits, 8)
            .map(FileMode)
            .map_err(|e| format!("invalid mode {text:?}: {e}"))
    }

    /// The bits, for `chmod`.
    pub fn bits(self) -> u32 {
        self.0
    }
}

impl fmt::Display for FileMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04o}", self.0)
    }
}

impl Serialize for FileMode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for FileMode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = FileMode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an octal mode string such as \"0644\" or \"2775\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<FileMode, E> {
                FileMode::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::FileMode;

    #[test]
    fn four_digit_modes_keep_setgid() {
        assert_eq!(FileMode::parse("2775").unwrap().bits(), 0o2775);
        assert_eq!(FileMode::parse("0644").unwrap().bits(), 0o644);
        assert_eq!(FileMode::parse("755").unwrap().bits(), 0o755);
        assert_eq!(FileMode::parse("2775").unwrap().to_string(), "2775");
    }

    #[test]
    fn rejects_non_octal_and_integers() {
        assert!(FileMode::parse("0899").is_err());
        assert!(FileMode::parse("12345").is_err());
        let err = serde_json::from_str::<FileMode>("2775").unwrap_err();
        assert!(err.to_string().contains("octal mode string"), "{err}");
    }
}
