//! Credentials: API tokens and root@pam tickets.
//!
//! PVE treats a token request as coming from `user@realm!token`, never from `root@pam`, so
//! bind mounts, `devN`, feature changes on privileged containers and hookscripts need a ticket
//! obtained with root@pam's password. Both can be configured; [`AuthPreference`] picks per
//! request.

use std::fmt;
use std::time::Instant;

use secrecy::{ExposeSecret, SecretString};

use crate::error::ApiError;

/// An API token `USER@REALM!TOKENID=SECRET`.
#[derive(Clone)]
pub struct ApiToken {
    id: String,
    secret: SecretString,
}

impl ApiToken {
    /// Parses `USER@REALM!TOKENID=SECRET`.
    pub fn parse(text: &str) -> Result<Self, ApiError> {
        let bad = |why: &str| ApiError::Config {
            attribute: "api_token",
            message: format!(
                "{why}; expected USER@REALM!TOKENID=SECRET, e.g. root@pam!pvelxc=xxxxxxxx-xxxx-..."
            ),
        };
        let text = text.trim();
        let (id, secret) = text
            .rsplit_once('=')
            .ok_or_else(|| bad("missing '=' before the secret"))?;
        let (user, token) = id
            .split_once('!')
            .ok_or_else(|| bad("missing '!' between user and token id"))?;
        if !user.contains('@') || user.starts_with('@') || user.ends_with('@') {
            return Err(bad("the user must include its realm (USER@REALM)"));
        }
        if token.is_empty() || secret.is_empty() {
            return Err(bad("token id and secret must not be empty"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("whitespace or control characters are not allowed"));
        }
        Ok(Self {
            id: id.to_string(),
            secret: SecretString::from(secret.to_string()),
        })
    }

    /// The token id `USER@REALM!TOKENID` (not secret).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The `Authorization` header value.
    pub(crate) fn header_value(&self) -> String {
        format!("PVEAPIToken={}={}", self.id, self.secret.expose_secret())
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiToken")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// Username and password for a ticket (normally `root@pam`).
#[derive(Clone)]
pub struct PasswordLogin {
    username: String,
    password: SecretString,
}

impl PasswordLogin {
    /// `username` must include the realm (`root@pam`).
    pub fn new(username: &str, password: SecretString) -> Result<Self, ApiError> {
        let u = username.trim();
        if !u.contains('@')
            || u.starts_with('@')
            || u.ends_with('@')
            || u.contains(char::is_whitespace)
        {
            return Err(ApiError::Config {
                attribute: "username",
                message: format!("'{u}' must include the realm, e.g. root@pam"),
            });
        }
        if password.expose_secret().is_empty() {
            return Err(ApiError::Config {
                attribute: "password",
                message: "must not be empty when username is set".into(),
            });
        }
        Ok(Self {
            username: u.to_string(),
            password,
        })
    }

    /// The user name (not secret).
    pub fn username(&self) -> &str {
        &self.username
    }

    pub(crate) fn password(&self) -> &SecretString {
        &self.password
    }

    /// Whether this login is root@pam, the only user PVE lets do everything.
    pub fn is_root(&self) -> bool {
        self.username == "root@pam"
    }
}

impl fmt::Debug for PasswordLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordLogin")
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// What the client may authenticate with.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    pub token: Option<ApiToken>,
    pub login: Option<PasswordLogin>,
}

/// Which credential a request should use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AuthPreference {
    /// The API token when configured, else the ticket.
    #[default]
    Token,
    /// The root@pam ticket when a login is configured (needed for root-only changes), else
    /// the token (PVE will then refuse root-only changes with its own message).
    Root,
}

/// A ticket and its CSRF token.
#[derive(Clone)]
pub(crate) struct Ticket {
    pub ticket: SecretString,
    pub csrf: SecretString,
    pub obtained: Instant,
}

impl fmt::Debug for Ticket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticket")
            .field("obtained", &self.obtained)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_parsing_and_redaction() {
        let t = ApiToken::parse("root@pam!pvelxc=0b6c2e5a-1111-2222-3333-444455556666").unwrap();
        assert_eq!(t.id(), "root@pam!pvelxc");
        assert_eq!(
            t.header_value(),
            "PVEAPIToken=root@pam!pvelxc=0b6c2e5a-1111-2222-3333-444455556666"
        );
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("0b6c2e5a"), "{dbg}");
        for bad in [
            "root@pam!pvelxc",
            "root!x=y",
            "root@pam=y",
            "root@pam!=y",
            "root@pam!x=",
            "root@pam!x=a b",
        ] {
            let e = ApiToken::parse(bad).unwrap_err();
            assert!(e.to_string().starts_with("api_token: "), "{bad}: {e}");
        }
    }

    #[test]
    fn login_validation_and_redaction() {
        let l = PasswordLogin::new("root@pam", SecretString::from("hunter22".to_string())).unwrap();
        assert!(l.is_root());
        assert!(!format!("{l:?}").contains("hunter22"));
        assert!(PasswordLogin::new("root", SecretString::from("x".to_string())).is_err());
        assert!(PasswordLogin::new("root@pam", SecretString::from(String::new())).is_err());
    }
}
