//! Request parameters the way pve-http-server collects them: query string for every
//! method, plus a form-encoded or JSON body for POST/PUT; query values win.

use serde_json::Value;

use crate::error::ApiError;
use crate::schema::Params;

/// Collects parameters from a query string and (for POST/PUT) the body.
pub fn collect(
    method: &str,
    query: Option<&str>,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<Params, ApiError> {
    let mut params = Params::new();
    if matches!(method, "POST" | "PUT") && !body.is_empty() {
        let is_json = content_type
            .map(|ct| {
                ct.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            })
            .unwrap_or(false);
        if is_json {
            let value: Value = serde_json::from_slice(body).map_err(|e| {
                ApiError::with_status(400, format!("unable to parse JSON body - {e}\n"))
            })?;
            match value {
                Value::Object(map) => params.extend(map),
                Value::Null => {}
                _ => {
                    return Err(ApiError::with_status(
                        400,
                        "JSON body must be an object of parameters\n",
                    ))
                }
            }
        } else {
            params.extend(form_pairs(body)?);
        }
    }
    if let Some(query) = query {
        params.extend(form_pairs(query.as_bytes())?);
    }
    Ok(params)
}

fn form_pairs(bytes: &[u8]) -> Result<Vec<(String, Value)>, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(bytes)
        .map_err(|e| ApiError::with_status(400, format!("unable to parse parameters - {e}\n")))?;
    Ok(pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect())
}

/// A parameter as text (JSON numbers and booleans as PVE stringifies them).
pub fn text(params: &Params, name: &str) -> Option<String> {
    match params.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
        _ => None,
    }
}

/// A validated boolean parameter.
pub fn flag(params: &Params, name: &str) -> bool {
    text(params, name).is_some_and(|v| v == "1")
}

/// A validated integer parameter.
pub fn integer(params: &Params, name: &str) -> Option<i64> {
    text(params, name).and_then(|v| v.trim_start_matches('+').parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_overrides_form_body() {
        let params = collect("POST", Some("a=2"), None, b"a=1&b=x%20y").expect("parses");
        assert_eq!(text(&params, "a").as_deref(), Some("2"));
        assert_eq!(text(&params, "b").as_deref(), Some("x y"));
    }

    #[test]
    fn json_bodies_keep_types() {
        let params = collect(
            "PUT",
            None,
            Some("application/json"),
            br#"{"onboot":true,"memory":1024}"#,
        )
        .expect("parses");
        assert_eq!(params["onboot"], Value::Bool(true));
        assert_eq!(text(&params, "memory").as_deref(), Some("1024"));
        assert!(flag(&params, "onboot"));
    }

    #[test]
    fn get_ignores_body() {
        let params = collect("GET", None, None, b"a=1").expect("parses");
        assert!(params.is_empty());
    }
}
