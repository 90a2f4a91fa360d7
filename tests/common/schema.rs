//! A small JSON Schema validator for the subset `docs/schema/*.json` uses:
//! type, const, enum, required, properties, additionalProperties, items,
//! minimum, $ref to `#/$defs/...`, oneOf. Any other keyword is an error, so a
//! schema cannot silently say more than is checked. (The `jsonschema` crate
//! would pull in ~40 crates, an HTTP client among them, for this.)

use serde_json::Value;

const NOTES: &[&str] = &["$schema", "$id", "title", "description", "$defs"];

pub struct Schema {
    root: Value,
}

impl Schema {
    pub fn load(path: &std::path::Path) -> Schema {
        let text = std::fs::read_to_string(path).unwrap();
        Schema {
            root: serde_json::from_str(&text).unwrap(),
        }
    }

    /// The errors of `doc` against the schema, each with its JSON pointer.
    pub fn errors(&self, doc: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.check(&self.root, doc, "", &mut out);
        out
    }

    fn resolve<'a>(&'a self, r: &str) -> &'a Value {
        let name = r
            .strip_prefix("#/$defs/")
            .unwrap_or_else(|| panic!("unsupported $ref {r}"));
        &self.root["$defs"][name]
    }

    fn check(&self, s: &Value, v: &Value, at: &str, out: &mut Vec<String>) {
        let Some(s) = s.as_object() else {
            panic!("schema at {at} is not an object");
        };
        for (k, want) in s {
            match k.as_str() {
                k if NOTES.contains(&k) => {}
                "$ref" => self.check(self.resolve(want.as_str().unwrap()), v, at, out),
                "type" => {
                    let types: Vec<&str> = match want {
                        Value::String(t) => vec![t.as_str()],
                        Value::Array(a) => a.iter().map(|t| t.as_str().unwrap()).collect(),
                        _ => panic!("bad type at {at}"),
                    };
                    if !types.iter().any(|t| is_type(v, t)) {
                        out.push(format!("{at}: {v} is not of type {types:?}"));
                    }
                }
                "const" => {
                    if v != want {
                        out.push(format!("{at}: {v} is not {want}"));
                    }
                }
                "enum" => {
                    if !want.as_array().unwrap().contains(v) {
                        out.push(format!("{at}: {v} is not one of {want}"));
                    }
                }
                "minimum" => {
                    if let Some(n) = v.as_f64()
                        && n < want.as_f64().unwrap()
                    {
                        out.push(format!("{at}: {n} < {want}"));
                    }
                }
                "required" => {
                    if let Some(o) = v.as_object() {
                        for r in want.as_array().unwrap() {
                            if !o.contains_key(r.as_str().unwrap()) {
                                out.push(format!("{at}: missing {r}"));
                            }
                        }
                    }
                }
                "properties" => {
                    if let Some(o) = v.as_object() {
                        for (name, sub) in want.as_object().unwrap() {
                            if let Some(x) = o.get(name) {
                                self.check(sub, x, &format!("{at}/{name}"), out);
                            }
                        }
                    }
                }
                "additionalProperties" => {
                    if let Some(o) = v.as_object() {
                        let known = s.get("properties").and_then(Value::as_object);
                        for (name, x) in o {
                            if known.is_some_and(|k| k.contains_key(name)) {
                                continue;
                            }
                            match want {
                                Value::Bool(false) => {
                                    out.push(format!("{at}: unexpected property {name}"))
                                }
                                Value::Bool(true) => {}
                                sub => self.check(sub, x, &format!("{at}/{name}"), out),
                            }
                        }
                    }
                }
                "items" => {
                    if let Some(a) = v.as_array() {
                        for (i, x) in a.iter().enumerate() {
                            self.check(want, x, &format!("{at}/{i}"), out);
                        }
                    }
                }
                "oneOf" => {
                    let fits = want
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|sub| {
                            let mut e = Vec::new();
                            self.check(sub, v, at, &mut e);
                            e.is_empty()
                        })
                        .count();
                    if fits != 1 {
                        out.push(format!("{at}: matches {fits} of oneOf, not exactly 1"));
                    }
                }
                other => panic!("the test validator does not know the keyword {other:?} (at {at})"),
            }
        }
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        other => panic!("unknown type {other}"),
    }
}
