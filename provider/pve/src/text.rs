//! Checks shared by every value that ends up in a PVE config file or API parameter.
//!
//! PVE stores configs as line-oriented text, so a value carrying a line break (or a NUL, which
//! PVE uses as a list separator for `env`) could smuggle extra keys into `/etc/pve/lxc/*.conf`.
//! Every renderer in this crate funnels values through [`check_single_line`].

use thiserror::Error;

/// A value that cannot be written to a single config line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{what} must not contain {found}; remove the line break or control character")]
pub struct LineError {
    /// The key or attribute the value belongs to.
    pub what: String,
    /// Human description of the offending character.
    pub found: &'static str,
}

/// Refuses values containing `\n`, `\r` or NUL.
pub fn check_single_line(what: &str, value: &str) -> Result<(), LineError> {
    let found = if value.contains('\n') {
        Some("a newline")
    } else if value.contains('\r') {
        Some("a carriage return")
    } else if value.contains('\0') {
        Some("a NUL byte")
    } else {
        None
    };
    match found {
        Some(found) => Err(LineError {
            what: what.to_string(),
            found,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_line_breaks_and_nul() {
        assert!(check_single_line("hostname", "ok-value").is_ok());
        for bad in ["a\nb", "a\rb", "a\0b", "\n"] {
            let err = check_single_line("hostname", bad).unwrap_err();
            assert!(err.to_string().starts_with("hostname must not contain"));
        }
    }
}
