//! Sizes as Proxmox writes them (`8G`, `512M`, `1.5T`) converted to bytes.
//!
//! PVE's units are binary (K = 1024). Users also write `8GB` or `8GiB`; both
//! mean the same binary size here, because that is what PVE will allocate.

use thiserror::Error;

/// Why a size string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SizeError {
    /// Empty input.
    #[error("size is empty; write a number with an optional unit, e.g. \"8G\" or \"512M\"")]
    Empty,
    /// The text is not `<number>[K|M|G|T][B|iB]`.
    #[error(
        "{input:?} is not a size; write a number with an optional unit K, M, G or T \
         (optionally followed by B or iB), e.g. \"8G\", \"1.5T\", \"512MiB\" or \"1048576\""
    )]
    Malformed {
        /// The rejected text.
        input: String,
    },
    /// The value does not come to a whole number of bytes.
    #[error("{input:?} is not a whole number of bytes; use a smaller unit, e.g. \"1536M\" instead of \"1.5G\" with too many decimals")]
    Fractional {
        /// The rejected text.
        input: String,
    },
    /// The value does not fit into 64 bits.
    #[error("{input:?} is too large; sizes must be below 16 EiB")]
    TooLarge {
        /// The rejected text.
        input: String,
    },
}

/// Parses a PVE-style size into bytes.
pub fn parse_size(input: &str) -> Result<u64, SizeError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(SizeError::Empty);
    }
    let malformed = || SizeError::Malformed {
        input: input.to_string(),
    };
    let number_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(number_end);
    let multiplier: u128 = unit_multiplier(unit).ok_or_else(malformed)?;

    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() || (number.contains('.') && fraction.is_empty()) {
        return Err(malformed());
    }
    // Digits only: both halves were cut at the first non-digit/non-dot, and a
    // second dot would land in `fraction`.
    if fraction.contains('.') {
        return Err(malformed());
    }
    let too_large = || SizeError::TooLarge {
        input: input.to_string(),
    };
    if whole.len() > 30 || fraction.len() > 30 {
        return Err(too_large());
    }
    let whole_value: u128 = whole.parse().map_err(|_| malformed())?;
    let scale = 10u128.pow(fraction.len() as u32);
    let fraction_value: u128 = if fraction.is_empty() {
        0
    } else {
        fraction.parse().map_err(|_| malformed())?
    };
    let scaled = whole_value
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction_value))
        .and_then(|v| v.checked_mul(multiplier))
        .ok_or_else(too_large)?;
    if scaled % scale != 0 {
        return Err(SizeError::Fractional {
            input: input.to_string(),
        });
    }
    u64::try_from(scaled / scale).map_err(|_| too_large())
}

fn unit_multiplier(unit: &str) -> Option<u128> {
    let mut chars = unit.chars();
    let power = match chars.next() {
        None => return Some(1),
        Some('b' | 'B') => return chars.next().is_none().then_some(1),
        Some('k' | 'K') => 1,
        Some('m' | 'M') => 2,
        Some('g' | 'G') => 3,
        Some('t' | 'T') => 4,
        Some(_) => return None,
    };
    match chars.as_str() {
        "" | "B" | "b" | "iB" | "ib" => Some(1024u128.pow(power)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_are_binary() {
        assert_eq!(parse_size("8G"), Ok(8 * 1024 * 1024 * 1024));
        assert_eq!(parse_size("512M"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_size("4K"), Ok(4096));
        assert_eq!(parse_size("2T"), Ok(2 * 1024u64.pow(4)));
    }

    #[test]
    fn suffixes_and_plain_numbers() {
        assert_eq!(parse_size("8GB"), parse_size("8G"));
        assert_eq!(parse_size("8GiB"), parse_size("8G"));
        assert_eq!(parse_size("8g"), parse_size("8G"));
        assert_eq!(parse_size("1048576"), Ok(1_048_576));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size(" 1G "), Ok(1 << 30));
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_size("1.5G"), Ok(1_610_612_736));
        assert_eq!(parse_size("0.5K"), Ok(512));
        assert_eq!(parse_size("2.25M"), Ok(2_359_296));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "G", "8X", "8GBB", "1.2.3G", "1.G", ".5G", "-1G", "8 G", "1e3", "8Gi", "eight",
        ] {
            assert!(
                matches!(parse_size(bad), Err(SizeError::Malformed { .. })),
                "{bad:?} should be rejected"
            );
        }
        assert_eq!(parse_size(""), Err(SizeError::Empty));
    }

    #[test]
    fn rejects_fractional_bytes_and_overflow() {
        assert!(matches!(
            parse_size("1.3K"),
            Err(SizeError::Fractional { .. })
        ));
        assert!(matches!(
            parse_size("0.5"),
            Err(SizeError::Fractional { .. })
        ));
        assert!(matches!(
            parse_size("16777216T"),
            Err(SizeError::TooLarge { .. })
        ));
        assert_eq!(parse_size("16777215T"), Ok(16_777_215 * 1024u64.pow(4)));
    }
}
