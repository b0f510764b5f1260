//! Description comment encoding (`PVE::Tools::encode_text` / `decode_text`).
//!
//! Descriptions are stored as `#` lines; control characters, bytes >= 0x7F, `:` and `%` are
//! written as `%XX` so a description can never become a config line of its own.

/// Encodes one description line for a `#` comment.
pub fn encode_text(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for b in line.bytes() {
        if !(0x20..0x7f).contains(&b) || b == b':' || b == b'%' {
            out.push_str(&format!("%{b:02X}"));
        } else {
            out.push(char::from(b));
        }
    }
    out
}

/// Decodes a `#` comment (URI unescape; malformed escapes stay literal).
pub fn decode_text(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex_val(bytes[i + 1]), hex_val(bytes[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_val(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for s in [
            "Transcoder: Intel Arc",
            "100% done",
            "tab\there",
            "ünïcode",
            "plain text, with; stuff",
        ] {
            let e = encode_text(s);
            assert!(
                !e.contains(':') && !e.contains('\n') && !e.contains('\t'),
                "{e}"
            );
            assert_eq!(decode_text(&e), s);
        }
        assert_eq!(encode_text("a:b%"), "a%3Ab%25");
        assert_eq!(decode_text("50%"), "50%");
        assert_eq!(decode_text("%zz%4"), "%zz%4");
        assert_eq!(decode_text("%e2%82"), "\u{fffd}");
        assert_eq!(decode_text("%\u{e9}x"), "%\u{e9}x");
    }
}
