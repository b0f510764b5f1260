//! The `/etc/pve/lxc/<vmid>.conf` file format.
//!
//! The API cannot write raw `lxc.*` keys, so those are edited in the file itself. An edit must
//! leave every other byte of the file as it was (description comments, option lines, the
//! `[pve:pending]` section, snapshot sections), because PVE and its users own them.

mod encoding;
mod file;
mod rawkeys;

pub use encoding::{decode_text, encode_text};
pub use file::{Line, LineKind, PctConf, Section, SectionData, SectionKind};
pub use rawkeys::{check_raw_key, check_raw_line, parse_idmap_entry, IdmapEntry, RawLineError};

/// SHA-1 hex of the file bytes: the `digest` PVE reports for a config.
pub fn digest(bytes: &[u8]) -> String {
    use sha1::Digest as _;
    hex::encode(sha1::Sha1::digest(bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn digest_is_sha1_hex() {
        assert_eq!(
            super::digest(b"abc"),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }
}
