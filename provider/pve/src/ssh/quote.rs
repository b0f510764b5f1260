//! Quoting argv for the remote shell.
//!
//! SSH sends one command string that the remote login shell parses, so every argument is
//! wrapped in POSIX single quotes (inside which nothing is special) with embedded single
//! quotes written as `'\''`. This holds for sh, dash, bash and zsh alike.

use super::SshError;

/// Quotes one argument for a POSIX shell.
pub fn quote_arg(arg: &str) -> String {
    let mut out = String::with_capacity(arg.len() + 2);
    out.push('\'');
    for c in arg.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Joins argv into a command line the remote shell splits back into exactly these
/// arguments. NUL cannot be passed through a shell at all and is refused.
pub fn command_line<S: AsRef<str>>(argv: &[S]) -> Result<String, SshError> {
    if argv.is_empty() {
        return Err(SshError::InvalidInput("empty command".into()));
    }
    let mut parts = Vec::with_capacity(argv.len());
    for a in argv {
        let a = a.as_ref();
        if a.contains('\0') {
            return Err(SshError::InvalidInput(format!(
                "argument {:?} contains a NUL byte, which no remote command can receive",
                a.replace('\0', "\\0")
            )));
        }
        parts.push(quote_arg(a));
    }
    Ok(parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_shapes() {
        assert_eq!(quote_arg(""), "''");
        assert_eq!(quote_arg("abc"), "'abc'");
        assert_eq!(quote_arg("it's"), "'it'\\''s'");
        assert_eq!(
            command_line(&["cat", "--", "/etc/pve/lxc/100.conf"]).unwrap(),
            "'cat' '--' '/etc/pve/lxc/100.conf'"
        );
        assert!(command_line(&["a\0b"]).is_err());
        assert!(command_line::<&str>(&[]).is_err());
    }
}
