//! Encoding of `#` description lines, the way PVE's `encode_text`/`decode_text` do it.
//!
//! PVE stores a container's description as comment lines at the top of each section and
//! percent-encodes control characters, bytes outside ASCII, `:` and `%` so that a
//! description can never inject a `key: value` line or a section header.

/// Encodes one description line: control bytes, non-ASCII bytes (of the UTF-8 form),
/// `:` and `%` become `%XX` (upper-case hex).
pub fn encode_text(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for byte in line.bytes() {
        if !(0x20..0x7f).contains(&byte) || byte == b':' || byte == b'%' {
            out.push_str(&format!("%{byte:02X}"));
        } else {
            out.push(char::from(byte));
        }
    }
    out
}

/// Decodes `%XX` sequences (either hex case) and interprets the bytes as UTF-8;
/// invalid UTF-8 is replaced rather than rejected, as a hand-edited file may contain it.
pub fn decode_text(encoded: &str) -> String {
    let bytes = encoded.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(high * 16 + low);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|v| u8::try_from(v).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_colon_percent_controls_and_unicode() {
        assert_eq!(encode_text("a: 100% ok"), "a%3A 100%25 ok");
        assert_eq!(encode_text("tab\there"), "tab%09here");
        assert_eq!(encode_text("Grüße"), "Gr%C3%BC%C3%9Fe");
        assert_eq!(encode_text("<div align='center'>"), "<div align='center'>");
    }

    #[test]
    fn decodes_both_cases_and_leaves_broken_escapes() {
        assert_eq!(decode_text("a%3a b%3A"), "a: b:");
        assert_eq!(decode_text("Gr%C3%BC%c3%9Fe"), "Grüße");
        assert_eq!(decode_text("50%"), "50%");
        assert_eq!(decode_text("%zz%4"), "%zz%4");
    }

    #[test]
    fn round_trips_any_line() {
        for line in ["", "plain", "x:y%z", "ünï\u{7f}", "%41"] {
            assert_eq!(decode_text(&encode_text(line)), line);
        }
    }
}
