//! `tracing` events written to stderr as hclog JSON lines.
//!
//! go-plugin reads the provider's stderr line by line; lines that parse as
//! hclog JSON (`@level`, `@message`, `@timestamp`, `@module`) are re-logged by
//! Terraform at their own level, so `TF_LOG=debug terraform plan` shows them
//! next to Terraform's own output. Anything else would land at debug level
//! without structure.
//!
//! Sensitive values never reach this layer: the framework logs attribute
//! paths, never attribute values.

use std::fmt::Write as _;
use std::io::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::Layer;

/// Environment variables read for the level, most specific first.
pub const LEVEL_ENV: [&str; 2] = ["TF_LOG_PROVIDER", "TF_LOG"];

/// The hclog level names Terraform uses, mapped to tracing levels. `None`
/// means logging is off.
pub fn level_from_env(value: Option<&str>) -> Option<Level> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("trace") | Some("json") => Some(Level::TRACE),
        Some("debug") => Some(Level::DEBUG),
        Some("info") => Some(Level::INFO),
        Some("warn") => Some(Level::WARN),
        Some("error") => Some(Level::ERROR),
        Some("off") => None,
        // Unset or unrecognised: warnings and errors still reach Terraform,
        // which discards them unless its own log level lets them through.
        _ => Some(Level::WARN),
    }
}

/// Installs the global subscriber. `module` becomes `@module`
/// (e.g. `provider.terraform-provider-pvelxc`).
pub fn init(module: &'static str) {
    let level = LEVEL_ENV
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()));
    let Some(level) = level_from_env(level.as_deref()) else {
        return;
    };
    let subscriber = tracing_subscriber::registry().with(HclogLayer { module, level });
    // A second init (tests) keeps the first subscriber.
    let _ = tracing::subscriber::set_global_default(subscriber);
}

/// Formats events as one JSON object per line on stderr.
pub struct HclogLayer {
    module: &'static str,
    level: Level,
}

impl HclogLayer {
    /// A layer emitting events at `level` and more severe.
    pub fn new(module: &'static str, level: Level) -> Self {
        HclogLayer { module, level }
    }

    /// Renders one event as a JSON line (without the newline).
    pub fn render(&self, event: &Event<'_>, timestamp: &str) -> String {
        let mut fields = JsonFields::default();
        event.record(&mut fields);
        let mut object = serde_json::Map::new();
        object.insert(
            "@level".into(),
            hclog_level(*event.metadata().level()).into(),
        );
        object.insert("@message".into(), fields.message.unwrap_or_default().into());
        object.insert("@module".into(), self.module.into());
        object.insert("@timestamp".into(), timestamp.into());
        object.insert("@target".into(), event.metadata().target().into());
        for (key, value) in fields.fields {
            object.entry(key).or_insert(value);
        }
        serde_json::Value::Object(object).to_string()
    }
}

impl<S: Subscriber> Layer<S> for HclogLayer {
    fn enabled(&self, metadata: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        *metadata.level() <= self.level
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() > self.level {
            return;
        }
        let line = self.render(event, &timestamp_now());
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    }
}

fn hclog_level(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// go-plugin parses `2006-01-02T15:04:05.000000Z07:00`: exactly six
/// fractional digits and `Z` for UTC.
pub fn timestamp_now() -> String {
    format_timestamp(time::OffsetDateTime::now_utc())
}

/// See [`timestamp_now`].
pub fn format_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let mut out = String::with_capacity(27);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    );
    out
}

#[derive(Default)]
struct JsonFields {
    message: Option<String>,
    fields: Vec<(String, serde_json::Value)>,
}

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.fields.push((field.name().to_string(), text.into()));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_string());
        } else {
            self.fields.push((field.name().to_string(), value.into()));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.fields.push((field.name().to_string(), value.into()));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.fields.push((field.name().to_string(), value.into()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    struct Capture(Arc<Mutex<Vec<String>>>, HclogLayer);

    impl<S: Subscriber> Layer<S> for Capture {
        fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
            if let Ok(mut lines) = self.0.lock() {
                lines.push(self.1.render(event, "2026-01-02T03:04:05.000006Z"));
            }
        }
    }

    #[test]
    fn events_become_hclog_json() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let layer = Capture(
            lines.clone(),
            HclogLayer::new("provider.test", Level::DEBUG),
        );
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(path = "ssh.private_key", count = 3, "configured");
        });
        let lines = lines.lock().expect("lock");
        let json: serde_json::Value = serde_json::from_str(&lines[0]).expect("json line");
        assert_eq!(json["@level"], "info");
        assert_eq!(json["@message"], "configured");
        assert_eq!(json["@module"], "provider.test");
        assert_eq!(json["@timestamp"], "2026-01-02T03:04:05.000006Z");
        assert_eq!(json["path"], "ssh.private_key");
        assert_eq!(json["count"], 3);
    }

    #[test]
    fn levels_follow_terraform_names() {
        assert_eq!(level_from_env(Some("DEBUG")), Some(Level::DEBUG));
        assert_eq!(level_from_env(Some("off")), None);
        assert_eq!(level_from_env(None), Some(Level::WARN));
    }

    #[test]
    fn timestamp_has_six_fraction_digits_and_z() {
        let t = time::OffsetDateTime::from_unix_timestamp(0).expect("epoch");
        assert_eq!(format_timestamp(t), "1970-01-01T00:00:00.000000Z");
    }
}
