//! PVE's `disk-size` values (`8G`, `8192M`, `1.5T`, plain bytes).
//!
//! PVE re-prints sizes with `format_size` (largest unit that divides evenly), so `8192M` comes
//! back as `8G`. Comparing [`DiskSize`] values in bytes keeps that rewrite from looking like a
//! change.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// A size in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DiskSize(pub u64);

/// A size string PVE would refuse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid size '{0}': expected a number with an optional K, M, G or T unit, e.g. 8G")]
pub struct SizeError(pub String);

impl DiskSize {
    /// Whole gibibytes, for the `STORAGE:SIZE_IN_GiB` allocation syntax.
    pub fn from_gib(gib: u64) -> Self {
        Self(gib.saturating_mul(1 << 30))
    }

    /// The size in bytes.
    pub fn bytes(self) -> u64 {
        self.0
    }

    /// The size in whole GiB when it is an exact multiple.
    pub fn as_whole_gib(self) -> Option<u64> {
        (self.0 % (1 << 30) == 0).then_some(self.0 >> 30)
    }
}

impl FromStr for DiskSize {
    type Err = SizeError;

    /// Parses like `PVE::JSONSchema::parse_size`: `\d+(\.\d+)?[KMGT]?`.
    fn from_str(s: &str) -> Result<Self, SizeError> {
        let err = || SizeError(s.to_string());
        let (num, mult): (&str, u64) = match s.as_bytes().last() {
            Some(b'K') => (&s[..s.len() - 1], 1 << 10),
            Some(b'M') => (&s[..s.len() - 1], 1 << 20),
            Some(b'G') => (&s[..s.len() - 1], 1 << 30),
            Some(b'T') => (&s[..s.len() - 1], 1 << 40),
            _ => (s, 1),
        };
        let (int_part, frac_part) = match num.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (num, None),
        };
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(int_part) || frac_part.is_some_and(|f| !digits(f)) {
            return Err(err());
        }
        let int: u64 = int_part.parse().map_err(|_| err())?;
        let mut bytes = int.checked_mul(mult).ok_or_else(err)?;
        if let Some(frac) = frac_part {
            // Exact decimal arithmetic on at most 18 fraction digits; PVE truncates to an integer.
            let frac = &frac[..frac.len().min(18)];
            let scale = 10u128.pow(frac.len() as u32);
            let f: u128 = frac.parse().map_err(|_| err())?;
            let extra = (f * u128::from(mult)) / scale;
            bytes = bytes
                .checked_add(u64::try_from(extra).map_err(|_| err())?)
                .ok_or_else(err)?;
        }
        Ok(Self(bytes))
    }
}

impl fmt::Display for DiskSize {
    /// Prints like `PVE::JSONSchema::format_size`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let size = self.0;
        if size % 1024 != 0 {
            return write!(f, "{size}");
        }
        let kb = size / 1024;
        if kb % 1024 != 0 {
            return write!(f, "{kb}K");
        }
        let mb = kb / 1024;
        if mb % 1024 != 0 {
            return write!(f, "{mb}M");
        }
        let gb = mb / 1024;
        if gb % 1024 != 0 {
            return write!(f, "{gb}G");
        }
        write!(f, "{}T", gb / 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pve_format_size_table() {
        for (input, printed, bytes) in [
            ("8G", "8G", 8u64 << 30),
            ("8192M", "8G", 8 << 30),
            ("20G", "20G", 20 << 30),
            ("1024G", "1T", 1 << 40),
            ("1.5G", "1536M", 3 << 29),
            ("512", "512", 512),
            ("2048", "2K", 2048),
            ("0", "0T", 0),
            ("0.5K", "512", 512),
        ] {
            let s: DiskSize = input.parse().unwrap();
            assert_eq!(s.bytes(), bytes, "{input}");
            assert_eq!(s.to_string(), printed, "{input}");
        }
    }

    #[test]
    fn refuses_garbage() {
        for bad in [
            "",
            "G",
            "8g",
            "8 G",
            "-1G",
            "1.G",
            ".5G",
            "8GB",
            "99999999999999999999T",
        ] {
            assert!(bad.parse::<DiskSize>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn whole_gib() {
        assert_eq!(DiskSize::from_gib(20).as_whole_gib(), Some(20));
        assert_eq!("1.5G".parse::<DiskSize>().unwrap().as_whole_gib(), None);
    }
}
