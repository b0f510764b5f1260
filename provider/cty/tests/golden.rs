//! Golden vectors: exact bytes for cty's msgpack and JSON encodings, read
//! from `tests/data/*.txt` (derived by hand from cty's documented encoding).

use pvelxc_cty::{json, msgpack, Type};

struct Case {
    line: usize,
    kind: String,
    name: String,
    ty: Type,
    input: String,
    expect: String,
}

fn load(file: &str) -> Vec<Case> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.splitn(5, " | ").collect();
        assert_eq!(parts.len(), 5, "{file}:{}: malformed line", i + 1);
        let ty = Type::from_json(parts[2].as_bytes())
            .unwrap_or_else(|e| panic!("{file}:{}: type: {e}", i + 1));
        out.push(Case {
            line: i + 1,
            kind: parts[0].to_string(),
            name: parts[1].to_string(),
            ty,
            input: parts[3].trim().to_string(),
            expect: parts[4].to_string(),
        });
    }
    assert!(out.len() > 20, "{file}: too few cases");
    out
}

fn unhex(s: &str) -> Vec<u8> {
    let compact: String = s.split_whitespace().collect();
    hex::decode(compact).expect("valid hex in golden file")
}

#[test]
fn msgpack_golden_vectors() {
    let mut failures = Vec::new();
    for c in load("msgpack_golden.txt") {
        let bytes = unhex(&c.input);
        let result = msgpack::decode(&bytes, &c.ty);
        let label = format!("line {} ({})", c.line, c.name);
        match c.kind.as_str() {
            "roundtrip" | "decode" => match result {
                Ok(v) => {
                    if v.to_string() != c.expect {
                        failures.push(format!("{label}: decoded {v} but expected {}", c.expect));
                        continue;
                    }
                    match msgpack::encode(&v, &c.ty) {
                        Ok(again) => {
                            if c.kind == "roundtrip" && again != bytes {
                                failures.push(format!(
                                    "{label}: re-encoded as {} instead of {}",
                                    hex::encode(&again),
                                    hex::encode(&bytes)
                                ));
                            }
                            // Whatever the input form, the canonical form decodes to the same value.
                            match msgpack::decode(&again, &c.ty) {
                                Ok(v2) if v2 == v => {}
                                other => failures
                                    .push(format!("{label}: canonical form decodes to {other:?}")),
                            }
                        }
                        Err(e) => failures.push(format!("{label}: encode failed: {e}")),
                    }
                }
                Err(e) => failures.push(format!("{label}: decode failed: {e}")),
            },
            "error" => match result {
                Ok(v) => failures.push(format!("{label}: decoded {v} but expected an error")),
                Err(e) if !e.to_string().contains(&c.expect) => failures.push(format!(
                    "{label}: error {e:?} does not mention {:?}",
                    c.expect
                )),
                Err(_) => {}
            },
            other => failures.push(format!("{label}: unknown kind {other}")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn json_golden_vectors() {
    let mut failures = Vec::new();
    for c in load("json_golden.txt") {
        let result = json::decode(c.input.as_bytes(), &c.ty);
        let label = format!("line {} ({})", c.line, c.name);
        match c.kind.as_str() {
            "roundtrip" | "decode" => match result {
                Ok(v) => {
                    if v.to_string() != c.expect {
                        failures.push(format!("{label}: decoded {v} but expected {}", c.expect));
                        continue;
                    }
                    match json::encode(&v, &c.ty) {
                        Ok(again) => {
                            if c.kind == "roundtrip" && again != c.input.as_bytes() {
                                failures.push(format!(
                                    "{label}: re-encoded as {} instead of {}",
                                    String::from_utf8_lossy(&again),
                                    c.input
                                ));
                            }
                            match json::decode(&again, &c.ty) {
                                Ok(v2) if v2 == v => {}
                                other => failures
                                    .push(format!("{label}: canonical form decodes to {other:?}")),
                            }
                        }
                        Err(e) => failures.push(format!("{label}: encode failed: {e}")),
                    }
                }
                Err(e) => failures.push(format!("{label}: decode failed: {e}")),
            },
            "error" => match result {
                Ok(v) => failures.push(format!("{label}: decoded {v} but expected an error")),
                Err(e) if !e.to_string().contains(&c.expect) => failures.push(format!(
                    "{label}: error {e:?} does not mention {:?}",
                    c.expect
                )),
                Err(_) => {}
            },
            other => failures.push(format!("{label}: unknown kind {other}")),
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
