//! Notifications (ntfy, JSON webhooks, Apprise-style URLs) and the Jellyfin
//! targeted library scan. Requests are built as plain data first, so tests can
//! check the exact bytes a receiver gets; URLs can hold secrets and are never logged.

use base64::Engine;
use std::time::Duration;

/// Severity, named as Apprise names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Info,
    Success,
    Failure,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Info => "info",
            Kind::Success => "success",
            Kind::Failure => "failure",
        }
    }
}

/// One message.
#[derive(Debug, Clone)]
pub struct Message {
    pub title: String,
    pub body: String,
    pub kind: Kind,
}

/// An HTTP request to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
enum Service {
    Ntfy { topic: String },
    Json { path: String },
    Gotify { token: String },
    Discord { id: String, token: String },
}

/// A parsed notification URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    base: String,
    auth: Option<(String, String)>,
    service: Service,
}

struct Parts<'a> {
    secure: bool,
    auth: Option<(String, String)>,
    host: &'a str,
    path: &'a str,
}

fn split(url: &str, scheme_len: usize, secure: bool) -> Result<Parts<'_>, String> {
    let rest = &url[scheme_len..];
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (auth, host) = match authority.rsplit_once('@') {
        Some((ui, h)) => {
            let (u, p) = ui.split_once(':').unwrap_or((ui, ""));
            (Some((u.to_string(), p.to_string())), h)
        }
        None => (None, authority),
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    Ok(Parts {
        secure,
        auth,
        host,
        path,
    })
}

impl Target {
    /// Parses `ntfy://`, `ntfys://`, `json://`, `jsons://`, `http(s)://`,
    /// `gotify://`, `gotifys://` or `discord://` URLs.
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.chars().any(|c| c.is_control() || c == ' ') {
            return Err("a notification URL must not contain spaces or control characters".into());
        }
        let scheme = url.split("://").next().unwrap_or("");
        let len = scheme.len() + 3;
        if !url[scheme.len()..].starts_with("://") {
            return Err(format!(
                "{} is not a URL like ntfy://host/topic",
                redact(url)
            ));
        }
        let (secure, kind) = match scheme {
            "ntfy" => (false, "ntfy"),
            "ntfys" => (true, "ntfy"),
            "json" | "http" => (false, "json"),
            "jsons" | "https" => (true, "json"),
            "gotify" => (false, "gotify"),
            "gotifys" => (true, "gotify"),
            "discord" => (true, "discord"),
            other => {
                return Err(format!(
                    "unsupported scheme {other:?}; use ntfy(s)://, json(s)://, http(s)://, gotify(s):// or discord://"
                ))
            }
        };
        let p = split(url, len, secure).map_err(|e| format!("{} {e}", redact(url)))?;
        let web = if p.secure { "https" } else { "http" };
        let segs: Vec<&str> = p.path.split('/').filter(|s| !s.is_empty()).collect();
        let (base, service) = match kind {
            "ntfy" => {
                let topic = segs
                    .first()
                    .ok_or_else(|| format!("{} needs a topic: ntfy://host/topic", redact(url)))?;
                (
                    format!("{web}://{}", p.host),
                    Service::Ntfy {
                        topic: topic.to_string(),
                    },
                )
            }
            "json" => (
                format!("{web}://{}", p.host),
                Service::Json {
                    path: p.path.to_string(),
                },
            ),
            "gotify" => {
                let token = segs.last().ok_or_else(|| {
                    format!("{} needs an app token: gotify://host/TOKEN", redact(url))
                })?;
                let prefix = segs[..segs.len() - 1].join("/");
                let base = if prefix.is_empty() {
                    format!("{web}://{}", p.host)
                } else {
                    format!("{web}://{}/{prefix}", p.host)
                };
                (
                    base,
                    Service::Gotify {
                        token: token.to_string(),
                    },
                )
            }
            _ => {
                let token = segs
                    .first()
                    .ok_or_else(|| "discord:// needs webhook_id/webhook_token".to_string())?;
                (
                    "https://discord.com".to_string(),
                    Service::Discord {
                        id: p.host.to_string(),
                        token: token.to_string(),
                    },
                )
            }
        };
        Ok(Target {
            base,
            auth: p.auth,
            service,
        })
    }

    /// The request that delivers `m` to this target.
    pub fn request(&self, m: &Message) -> Request {
        let mut headers = Vec::new();
        if let Some((u, p)) = &self.auth {
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"));
            headers.push(("Authorization".to_string(), format!("Basic {token}")));
        }
        let one_line = |s: &str| s.replace(['\r', '\n'], " ");
        match &self.service {
            Service::Ntfy { topic } => {
                headers.push(("Title".into(), one_line(&m.title)));
                headers.push((
                    "Tags".into(),
                    match m.kind {
                        Kind::Failure => "warning".into(),
                        Kind::Success => "white_check_mark".into(),
                        Kind::Info => "cd".into(),
                    },
                ));
                if m.kind == Kind::Failure {
                    headers.push(("Priority".into(), "high".into()));
                }
                Request {
                    url: format!("{}/{topic}", self.base),
                    headers,
                    body: m.body.as_bytes().to_vec(),
                }
            }
            Service::Json { path } => {
                headers.push(("Content-Type".into(), "application/json".into()));
                let body = serde_json::json!({
                    "version": "1.0",
                    "title": m.title,
                    "message": m.body,
                    "type": m.kind.as_str(),
                    "attachments": [],
                });
                Request {
                    url: format!("{}{path}", self.base),
                    headers,
                    body: body.to_string().into_bytes(),
                }
            }
            Service::Gotify { token } => {
                headers.push(("Content-Type".into(), "application/json".into()));
                headers.push(("X-Gotify-Key".into(), token.clone()));
                let priority = if m.kind == Kind::Failure { 8 } else { 5 };
                let body =
                    serde_json::json!({"title": m.title, "message": m.body, "priority": priority});
                Request {
                    url: format!("{}/message", self.base),
                    headers,
                    body: body.to_string().into_bytes(),
                }
            }
            Service::Discord { id, token } => {
                headers.push(("Content-Type".into(), "application/json".into()));
                let body = serde_json::json!({"content": format!("**{}**\n{}", m.title, m.body)});
                Request {
                    url: format!("{}/api/webhooks/{id}/{token}", self.base),
                    headers,
                    body: body.to_string().into_bytes(),
                }
            }
        }
    }
}

/// `scheme://host` of a URL, for logs (paths and user info may hold secrets).
pub fn redact(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("?", url));
    let authority = rest.split('/').next().unwrap_or("");
    let host = authority.rsplit('@').next().unwrap_or("");
    format!("{scheme}://{host}/…")
}

/// The Jellyfin targeted scan for a newly published file.
pub fn jellyfin_request(base_url: &str, token: &str, path: &str) -> Request {
    let body = serde_json::json!({"Updates": [{"Path": path, "UpdateType": "Created"}]});
    Request {
        url: format!("{}/Library/Media/Updated", base_url.trim_end_matches('/')),
        headers: vec![
            (
                "Authorization".into(),
                format!("MediaBrowser Token=\"{token}\""),
            ),
            ("Content-Type".into(), "application/json".into()),
        ],
        body: body.to_string().into_bytes(),
    }
}

/// Sends a request (TLS verified against the bundled web roots).
pub fn send(req: &Request) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(15)))
        .build()
        .into();
    let mut r = agent.post(&req.url);
    for (k, v) in &req.headers {
        r = r.header(k, v);
    }
    r.send(&req.body[..])
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", redact(&req.url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg() -> Message {
        Message {
            title: "Published\nFilm".into(),
            body: "Film (2010)".into(),
            kind: Kind::Success,
        }
    }

    #[test]
    fn ntfy_posts_body_with_title_header_and_basic_auth() {
        let r = Target::parse("ntfy://me:pw@ntfy.lan:8080/media")
            .unwrap()
            .request(&msg());
        assert_eq!(r.url, "http://ntfy.lan:8080/media");
        assert!(r
            .headers
            .contains(&("Title".into(), "Published Film".into())));
        assert!(r
            .headers
            .contains(&("Authorization".into(), "Basic bWU6cHc=".into())));
        assert_eq!(r.body, b"Film (2010)");
    }

    #[test]
    fn json_and_gotify_and_discord_shapes() {
        let r = Target::parse("jsons://hooks.lan/x/y")
            .unwrap()
            .request(&msg());
        assert_eq!(r.url, "https://hooks.lan/x/y");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["message"], "Film (2010)");
        assert_eq!(v["type"], "success");
        let g = Target::parse("gotify://push.lan/AbC")
            .unwrap()
            .request(&msg());
        assert_eq!(g.url, "http://push.lan/message");
        assert!(g.headers.contains(&("X-Gotify-Key".into(), "AbC".into())));
        let d = Target::parse("discord://123/tok").unwrap().request(&msg());
        assert_eq!(d.url, "https://discord.com/api/webhooks/123/tok");
    }

    #[test]
    fn bad_urls_are_rejected_without_echoing_secrets() {
        let e = Target::parse("smtp://user:secret@mail/x").unwrap_err();
        assert!(
            e.contains("unsupported scheme") && !e.contains("secret"),
            "{e}"
        );
        let e = Target::parse("ntfy://user:secret@host").unwrap_err();
        assert!(!e.contains("secret"), "{e}");
        assert!(Target::parse("ntfy://host/t\nX-Evil: 1").is_err());
    }

    #[test]
    fn jellyfin_uses_mediabrowser_token_header() {
        let r = jellyfin_request(
            "http://jf:8096/",
            "k3y",
            "/media/Movies/F (2010)/F (2010).mkv",
        );
        assert_eq!(r.url, "http://jf:8096/Library/Media/Updated");
        assert_eq!(r.headers[0].1, "MediaBrowser Token=\"k3y\"");
        let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["Updates"][0]["UpdateType"], "Created");
    }
}
