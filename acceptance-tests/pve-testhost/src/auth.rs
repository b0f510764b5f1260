//! Authentication as pve-http-server does it: `PVEAPIToken=USER@REALM!TOKENID=SECRET`
//! headers, and tickets from `POST /access/ticket` sent as `PVEAuthCookie` with a
//! `CSRFPreventionToken` header on every write.
//!
//! The effective user of a token request is the token id (`root@pam!pvelxc`), never
//! `root@pam`: this is what makes PVE refuse bind mounts and device passthrough to tokens.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// PVE's ticket lifetime (`$ticket_lifetime = 3600 * 2`).
pub const TICKET_LIFETIME_SECS: u64 = 2 * 3600;

/// Users and API tokens of the node (the test host's `user.cfg`/`token.cfg` stand-in).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Credentials {
    /// `user@realm` -> password.
    pub users: BTreeMap<String, String>,
    /// `user@realm!tokenid` -> secret.
    pub tokens: BTreeMap<String, String>,
}

impl Credentials {
    /// Fresh credentials: `root@pam` with `password` and the token `root@pam!pvelxc`.
    pub fn generate(password: Option<String>) -> Self {
        let mut users = BTreeMap::new();
        users.insert(
            "root@pam".to_string(),
            password.unwrap_or_else(|| random_hex(12)),
        );
        let mut tokens = BTreeMap::new();
        tokens.insert("root@pam!pvelxc".to_string(), random_uuid());
        Credentials { users, tokens }
    }

    /// Loads `path`, or creates it (mode 0600) with generated credentials.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "{}: not a credentials file ({e}); delete it to regenerate",
                        path.display()
                    ),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let creds = Credentials::generate(None);
                let text = serde_json::to_vec_pretty(&creds).map_err(std::io::Error::other)?;
                crate::fsutil::write_private(path, &text)?;
                Ok(creds)
            }
            Err(e) => Err(e),
        }
    }

    /// The root@pam password.
    pub fn root_password(&self) -> Option<&str> {
        self.users.get("root@pam").map(String::as_str)
    }

    /// The `root@pam!pvelxc` token as `(id, secret)`.
    pub fn root_token(&self) -> Option<(&str, &str)> {
        self.tokens
            .get_key_value("root@pam!pvelxc")
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

/// Random bytes from the kernel, hex-encoded.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    fill_random(&mut buf);
    hex::encode(buf)
}

fn fill_random(buf: &mut [u8]) {
    use std::io::Read;
    let ok = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf));
    if ok.is_err() {
        // /dev/urandom is always present on Linux; fall back to a time-seeded hash.
        let seed = format!("{:?}{}", SystemTime::now(), std::process::id());
        let digest = Sha256::digest(seed.as_bytes());
        for (i, b) in buf.iter_mut().enumerate() {
            *b = digest[i % digest.len()];
        }
    }
}

/// A random RFC 4122 v4 UUID, the shape PVE uses for token secrets.
pub fn random_uuid() -> String {
    let mut b = [0u8; 16];
    fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Who is calling and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A ticket: the user itself (`root@pam`).
    Ticket { user: String },
    /// An API token: the effective user is the token id.
    Token { tokenid: String },
}

impl Caller {
    /// The `$authuser` PVE's permission checks compare against.
    pub fn authuser(&self) -> &str {
        match self {
            Caller::Ticket { user } => user,
            Caller::Token { tokenid } => tokenid,
        }
    }

    /// True only for a root@pam ticket, PVE's `$authuser eq 'root@pam'`.
    pub fn is_root_pam(&self) -> bool {
        self.authuser() == "root@pam"
    }
}

/// Issues and verifies tickets and CSRF tokens with a per-process secret.
#[derive(Debug)]
pub struct Authenticator {
    credentials: Credentials,
    secret: Vec<u8>,
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    let mut key_block = [0u8; 64];
    if key.len() > 64 {
        key_block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        key_block[..key.len()].copy_from_slice(key);
    }
    let inner: Vec<u8> = key_block.iter().map(|b| b ^ 0x36).collect();
    let outer: Vec<u8> = key_block.iter().map(|b| b ^ 0x5c).collect();
    let inner_hash = Sha256::new()
        .chain_update(&inner)
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(&outer)
        .chain_update(inner_hash)
        .finalize()
        .to_vec()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Authenticator {
    pub fn new(credentials: Credentials) -> Self {
        let mut secret = vec![0u8; 32];
        fill_random(&mut secret);
        Authenticator {
            credentials,
            secret,
        }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    fn sign(&self, data: &str) -> String {
        hex::encode(hmac_sha256(&self.secret, data.as_bytes()))
    }

    /// `PVE:<user>:<HEXTIME>::<signature>`.
    pub fn issue_ticket(&self, user: &str) -> String {
        let data = format!("PVE:{user}:{:08X}", now());
        format!("{data}::{}", self.sign(&data))
    }

    /// `<HEXTIME>:<signature>` bound to the user.
    pub fn issue_csrf(&self, user: &str) -> String {
        let stamp = format!("{:08X}", now());
        let sig = self.sign(&format!("{stamp}:{user}"));
        format!("{stamp}:{sig}")
    }

    /// Returns the user of a valid, unexpired ticket.
    pub fn verify_ticket(&self, ticket: &str) -> Option<String> {
        let (data, sig) = ticket.split_once("::")?;
        if !constant_time_eq(self.sign(data).as_bytes(), sig.as_bytes()) {
            return None;
        }
        let mut parts = data.splitn(3, ':');
        let (prefix, user, stamp) = (parts.next()?, parts.next()?, parts.next()?);
        let issued = u64::from_str_radix(stamp, 16).ok()?;
        (prefix == "PVE" && now() < issued + TICKET_LIFETIME_SECS).then(|| user.to_string())
    }

    /// Checks a CSRF token for `user`.
    pub fn verify_csrf(&self, user: &str, token: &str) -> bool {
        let Some((stamp, sig)) = token.split_once(':') else {
            return false;
        };
        let Ok(issued) = u64::from_str_radix(stamp, 16) else {
            return false;
        };
        constant_time_eq(
            self.sign(&format!("{stamp}:{user}")).as_bytes(),
            sig.as_bytes(),
        ) && now() < issued + TICKET_LIFETIME_SECS
    }

    /// `POST /access/ticket`: password login, or renewal with a valid ticket as password.
    pub fn login(
        &self,
        username: &str,
        password: &str,
        realm: Option<&str>,
    ) -> Result<String, ApiError> {
        let user = match (username.contains('@'), realm) {
            (false, Some(realm)) => format!("{username}@{realm}"),
            _ => username.to_string(),
        };
        if let Some(ticket_user) = self.verify_ticket(password) {
            if ticket_user == user {
                return Ok(user);
            }
        }
        match self.credentials.users.get(&user) {
            Some(expected) if constant_time_eq(expected.as_bytes(), password.as_bytes()) => {
                Ok(user)
            }
            _ => Err(ApiError::unauthorized("authentication failure\n")),
        }
    }

    /// Authenticates a request from its `Authorization`, `Cookie` and `CSRFPreventionToken`
    /// headers; `write` is true for POST/PUT/DELETE.
    pub fn authenticate(
        &self,
        authorization: Option<&str>,
        cookie: Option<&str>,
        csrf: Option<&str>,
        write: bool,
    ) -> Result<Caller, ApiError> {
        if let Some(value) = authorization.and_then(|a| a.trim().strip_prefix("PVEAPIToken")) {
            let value = value.trim_start_matches(['=', ' ']);
            let (tokenid, secret) = value
                .rsplit_once('=')
                .ok_or_else(|| ApiError::unauthorized("invalid token value!\n"))?;
            return match self.credentials.tokens.get(tokenid) {
                Some(expected) if constant_time_eq(expected.as_bytes(), secret.as_bytes()) => {
                    Ok(Caller::Token {
                        tokenid: tokenid.to_string(),
                    })
                }
                _ => Err(ApiError::unauthorized("authentication failure\n")),
            };
        }
        let ticket = authorization
            .and_then(|a| a.trim().strip_prefix("PVEAuthCookie="))
            .map(str::to_string)
            .or_else(|| cookie.and_then(cookie_ticket));
        let Some(ticket) = ticket else {
            return Err(ApiError::unauthorized("No ticket\n"));
        };
        let user = self
            .verify_ticket(&ticket)
            .ok_or_else(|| ApiError::unauthorized("authentication failure\n"))?;
        if write && !csrf.is_some_and(|token| self.verify_csrf(&user, token)) {
            return Err(ApiError::unauthorized(
                "Permission denied - invalid csrf token\n",
            ));
        }
        Ok(Caller::Ticket { user })
    }
}

/// Extracts `PVEAuthCookie` from a `Cookie` header (URL-decoded, as browsers and
/// proxmoxer may encode the ticket's `:`).
fn cookie_ticket(cookie: &str) -> Option<String> {
    cookie.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == "PVEAuthCookie").then(|| {
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Authenticator {
        let mut creds = Credentials::generate(Some("secret1".into()));
        creds
            .tokens
            .insert("root@pam!pvelxc".into(), "tok-secret".into());
        Authenticator::new(creds)
    }

    #[test]
    fn token_user_is_the_token_id() {
        let a = auth();
        let caller = a
            .authenticate(
                Some("PVEAPIToken=root@pam!pvelxc=tok-secret"),
                None,
                None,
                true,
            )
            .expect("valid token");
        assert_eq!(caller.authuser(), "root@pam!pvelxc");
        assert!(!caller.is_root_pam());
        let err = a
            .authenticate(Some("PVEAPIToken=root@pam!pvelxc=wrong"), None, None, false)
            .expect_err("wrong secret");
        assert_eq!(err.status, 401);
    }

    #[test]
    fn ticket_needs_csrf_on_writes_only() {
        let a = auth();
        let user = a.login("root", "secret1", Some("pam")).expect("login");
        let ticket = a.issue_ticket(&user);
        let csrf = a.issue_csrf(&user);
        let cookie = format!("PVEAuthCookie={}", ticket.replace(':', "%3A"));
        assert!(a.authenticate(None, Some(&cookie), None, false).is_ok());
        let err = a
            .authenticate(None, Some(&cookie), None, true)
            .expect_err("no csrf");
        assert_eq!(err.message, "Permission denied - invalid csrf token\n");
        let caller = a
            .authenticate(None, Some(&cookie), Some(&csrf), true)
            .expect("csrf ok");
        assert!(caller.is_root_pam());
        assert_eq!(
            a.login("root@pam", "wrong", None).expect_err("bad").status,
            401
        );
        assert_eq!(
            a.login("root@pam", &ticket, None).expect("renew"),
            "root@pam"
        );
    }

    #[test]
    fn forged_ticket_is_refused() {
        let a = auth();
        let ticket = a.issue_ticket("root@pam").replace("root@pam", "evil@pam");
        assert!(a.verify_ticket(&ticket).is_none());
        assert_eq!(
            a.authenticate(None, None, None, false)
                .expect_err("none")
                .message,
            "No ticket\n"
        );
    }
}
