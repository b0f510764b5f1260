//! A small JSON reader/writer that keeps number text exactly.
//!
//! cty numbers are arbitrary-precision decimals; a general-purpose JSON crate
//! would round them through `f64` (or change behaviour workspace-wide with a
//! feature flag), so this module keeps the literal text of every number.

use crate::error::{Error, ErrorKind, Result};
use crate::path::Path;
use crate::MAX_DEPTH;

/// A parsed JSON document. Object members keep their input order.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; duplicate keys are rejected by the parser.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// A short name of the JSON kind for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }
}

/// Parses a complete JSON document.
pub fn parse(input: &[u8]) -> Result<Json> {
    let mut p = Parser { input, pos: 0 };
    p.skip_ws();
    let v = p.value(0)?;
    p.skip_ws();
    if p.pos != input.len() {
        return Err(p.err(format!("unexpected content at byte {}", p.pos)));
    }
    Ok(v)
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self, msg: String) -> Error {
        Error::new(&Path::root(), ErrorKind::Syntax(msg))
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.input.get(self.pos) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn expect_literal(&mut self, lit: &[u8]) -> Result<()> {
        if self.input[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(self.err(format!("invalid literal at byte {}", self.pos)))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json> {
        if depth > MAX_DEPTH {
            return Err(Error::new(&Path::root(), ErrorKind::TooDeep(MAX_DEPTH)));
        }
        match self.peek() {
            None => Err(Error::new(&Path::root(), ErrorKind::Truncated)),
            Some(b'n') => self.expect_literal(b"null").map(|_| Json::Null),
            Some(b't') => self.expect_literal(b"true").map(|_| Json::Bool(true)),
            Some(b'f') => self.expect_literal(b"false").map(|_| Json::Bool(false)),
            Some(b'"') => self.string().map(Json::String),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    self.skip_ws();
                    items.push(self.value(depth + 1)?);
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        None => return Err(Error::new(&Path::root(), ErrorKind::Truncated)),
                        Some(_) => {
                            return Err(
                                self.err(format!("expected ',' or ']' at byte {}", self.pos))
                            )
                        }
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members: Vec<(String, Json)> = Vec::new();
                self.skip_ws();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    self.skip_ws();
                    if self.peek() != Some(b'"') {
                        return Err(
                            self.err(format!("expected an object key at byte {}", self.pos))
                        );
                    }
                    let key = self.string()?;
                    if members.iter().any(|(k, _)| *k == key) {
                        return Err(Error::new(&Path::root(), ErrorKind::DuplicateKey(key)));
                    }
                    self.skip_ws();
                    if self.peek() != Some(b':') {
                        return Err(self.err(format!("expected ':' at byte {}", self.pos)));
                    }
                    self.pos += 1;
                    self.skip_ws();
                    let v = self.value(depth + 1)?;
                    members.push((key, v));
                    self.skip_ws();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(members));
                        }
                        None => return Err(Error::new(&Path::root(), ErrorKind::Truncated)),
                        Some(_) => {
                            return Err(
                                self.err(format!("expected ',' or '}}' at byte {}", self.pos))
                            )
                        }
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Number),
            Some(c) => Err(self.err(format!(
                "unexpected character {:?} at byte {}",
                c as char, self.pos
            ))),
        }
    }

    fn number(&mut self) -> Result<String> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while let Some(b'0'..=b'9') = p.peek() {
                p.pos += 1;
            }
            p.pos > s
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        if !digits(self) {
            return Err(self.err(format!("invalid number at byte {start}")));
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.err(format!("invalid number at byte {start}")));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.err(format!("invalid number at byte {start}")));
            }
        }
        // Only ASCII was consumed, so this cannot fail; map defensively anyway.
        std::str::from_utf8(&self.input[start..self.pos])
            .map(str::to_owned)
            .map_err(|_| self.err(format!("invalid number at byte {start}")))
    }

    fn hex4(&mut self) -> Result<u32> {
        let Some(chunk) = self.input.get(self.pos..self.pos + 4) else {
            return Err(Error::new(&Path::root(), ErrorKind::Truncated));
        };
        let text = std::str::from_utf8(chunk).map_err(|_| self.err("invalid \\u escape".into()))?;
        let v = u32::from_str_radix(text, 16)
            .map_err(|_| self.err(format!("invalid \\u escape {text:?}")))?;
        self.pos += 4;
        Ok(v)
    }

    fn string(&mut self) -> Result<String> {
        // Caller guarantees the opening quote.
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while let Some(c) = self.peek() {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            let chunk = std::str::from_utf8(&self.input[start..self.pos])
                .map_err(|_| Error::new(&Path::root(), ErrorKind::InvalidUtf8))?;
            out.push_str(chunk);
            match self.peek() {
                None => return Err(Error::new(&Path::root(), ErrorKind::Truncated)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let Some(esc) = self.peek() else {
                        return Err(Error::new(&Path::root(), ErrorKind::Truncated));
                    };
                    self.pos += 1;
                    match esc {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.input[self.pos..].starts_with(b"\\u") {
                                    return Err(self.err("unpaired surrogate in \\u escape".into()));
                                }
                                self.pos += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("unpaired surrogate in \\u escape".into()));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            let ch = char::from_u32(code).ok_or_else(|| {
                                self.err("invalid code point in \\u escape".into())
                            })?;
                            out.push(ch);
                        }
                        other => {
                            return Err(self.err(format!("invalid escape \\{}", other as char)))
                        }
                    }
                }
                Some(_) => {
                    return Err(
                        self.err(format!("control character in string at byte {}", self.pos))
                    )
                }
            }
        }
    }
}

/// Appends `s` as a JSON string literal.
pub fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_documents_and_keeps_number_text() {
        let j = parse(br#" {"a": [1.50, -2e10, "x\n\u00e9\ud83d\ude00"], "b": null} "#).unwrap();
        let Json::Object(m) = j else {
            panic!("object expected")
        };
        assert_eq!(m[0].0, "a");
        assert_eq!(
            m[0].1,
            Json::Array(vec![
                Json::Number("1.50".into()),
                Json::Number("-2e10".into()),
                Json::String("x\né😀".into())
            ])
        );
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            &b"{"[..],
            b"[1,]",
            b"01x",
            b"\"abc",
            b"{\"a\":1,\"a\":2}",
            b"tru",
            b"1 2",
            b"\"\\ud800\"",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let deep = "[".repeat(10_000);
        assert!(matches!(
            parse(deep.as_bytes()).unwrap_err().kind,
            ErrorKind::TooDeep(_)
        ));
    }

    #[test]
    fn string_escaping_round_trips() {
        let mut s = String::new();
        write_string(&mut s, "a\"b\\c\n\u{1}");
        assert_eq!(s, r#""a\"b\\c\n\u0001""#);
        assert_eq!(
            parse(s.as_bytes()).unwrap(),
            Json::String("a\"b\\c\n\u{1}".into())
        );
    }
}
