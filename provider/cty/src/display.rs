//! Human-readable rendering of values for diagnostics, in Terraform's
//! configuration syntax (`"8G"`, `["a", "b"]`, `{ size = 8 }`).

use crate::value::Value;
use std::fmt;

/// Longest rendering before it is cut short with `…`.
const MAX_RENDER: usize = 200;

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        render(self, &mut s);
        if s.chars().count() > MAX_RENDER {
            let cut: String = s.chars().take(MAX_RENDER).collect();
            write!(f, "{cut}…")
        } else {
            f.write_str(&s)
        }
    }
}

fn render(v: &Value, out: &mut String) {
    if out.len() > MAX_RENDER * 4 {
        return;
    }
    match v {
        Value::Null => out.push_str("null"),
        Value::Unknown(_) => out.push_str("(known after apply)"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&format!("{s:?}")),
        Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render(item, out);
            }
            out.push(']');
        }
        Value::Map(m) | Value::Object(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                out.push_str(if i > 0 { ", " } else { " " });
                out.push_str(k);
                out.push_str(" = ");
                render(item, out);
            }
            out.push_str(if m.is_empty() { "}" } else { " }" });
        }
        Value::Dynamic { value, .. } => render(value, out),
    }
}

#[cfg(test)]
mod tests {
    use crate::Value;

    #[test]
    fn renders_like_configuration() {
        let v = Value::object([
            ("a", Value::list([Value::string("x"), Value::int(1)])),
            ("b", Value::unknown()),
            ("c", Value::Null),
        ]);
        assert_eq!(
            v.to_string(),
            r#"{ a = ["x", 1], b = (known after apply), c = null }"#
        );
    }
}
