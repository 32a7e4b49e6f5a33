//! Request parameters, as Zulip reads them: the query string and the body (form-encoded, or
//! JSON) merged into one set, body first. In form bodies, list and object values are
//! JSON-encoded strings, as Zulip's clients send them; in JSON bodies they are plain JSON.
//! Unknown parameters are ignored.

use std::collections::HashMap;

use lambda_http::RequestExt as _;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::{ApiError, Request};

/// The largest body any API route accepts.
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Debug, Default, Clone)]
pub struct Params {
    values: HashMap<String, Value>,
}

impl Params {
    /// Reads the query string and body of `request`.
    pub fn from_request(request: &Request) -> Result<Self, ApiError> {
        let mut values = HashMap::new();
        for (key, value) in request.query_string_parameters().iter() {
            values.insert(key.to_owned(), Value::String(value.to_owned()));
        }
        let body = request.body().as_ref();
        if body.len() > MAX_BODY {
            return Err(ApiError::payload_too_large(MAX_BODY));
        }
        if !body.is_empty() {
            let content_type =
                request.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_ascii_lowercase();
            if content_type.starts_with("application/json") {
                match serde_json::from_slice::<Value>(body) {
                    Ok(Value::Object(map)) => values.extend(map),
                    Ok(_) => return Err(ApiError::bad_request("Malformed JSON: expected an object")),
                    Err(_) => return Err(ApiError::bad_request("Malformed JSON")),
                }
            } else {
                let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
                    .map_err(|_| ApiError::bad_request("Malformed form-encoded body"))?;
                values.extend(pairs.into_iter().map(|(k, v)| (k, Value::String(v))));
            }
        }
        Ok(Self { values })
    }

    /// Parameters from a list of pairs (tests and the local stack).
    #[must_use]
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self { values: pairs.into_iter().map(|(k, v)| (k.to_owned(), Value::String(v.to_owned()))).collect() }
    }

    /// A text parameter; numbers and booleans are accepted in their text form.
    pub fn optional_str(&self, name: &str) -> Result<Option<String>, ApiError> {
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(v @ (Value::Number(_) | Value::Bool(_))) => Ok(Some(v.to_string())),
            Some(_) => Err(ApiError::invalid_argument(name, "not a string")),
        }
    }

    pub fn str(&self, name: &str) -> Result<String, ApiError> {
        self.optional_str(name)?.ok_or_else(|| ApiError::missing_argument(name))
    }

    /// The first of several names that is present (for renamed parameters like `topic`/`subject`).
    pub fn optional_str_of(&self, names: &[&str]) -> Result<Option<String>, ApiError> {
        for name in names {
            if let Some(v) = self.optional_str(name)? {
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// A structured parameter: JSON-encoded text in forms, plain JSON in JSON bodies. A plain
    /// string that is not JSON is read as a JSON string, as Zulip does for `to`.
    pub fn optional_json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ApiError> {
        let value = match self.values.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) => serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone())),
            Some(v) => v.clone(),
        };
        serde_json::from_value(value).map(Some).map_err(|e| ApiError::invalid_argument(name, e))
    }

    pub fn json<T: DeserializeOwned>(&self, name: &str) -> Result<T, ApiError> {
        self.optional_json(name)?.ok_or_else(|| ApiError::missing_argument(name))
    }

    pub fn optional_u64(&self, name: &str) -> Result<Option<u64>, ApiError> {
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => {
                n.as_u64().map(Some).ok_or_else(|| ApiError::invalid_argument(name, "not a number"))
            }
            Some(Value::String(s)) => {
                s.trim().parse().map(Some).map_err(|_| ApiError::invalid_argument(name, "not a number"))
            }
            Some(_) => Err(ApiError::invalid_argument(name, "not a number")),
        }
    }

    pub fn optional_bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.values.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => Ok(Some(true)),
                "false" | "0" => Ok(Some(false)),
                _ => Err(ApiError::invalid_argument(name, "not a boolean")),
            },
            Some(Value::Number(n)) => Ok(Some(n.as_u64() != Some(0))),
            Some(_) => Err(ApiError::invalid_argument(name, "not a boolean")),
        }
    }
}

/// A path parameter that API Gateway (or the local router) extracted.
pub fn path_param(request: &Request, name: &str) -> Result<String, ApiError> {
    request.path_parameters().first(name).map(str::to_owned).ok_or_else(ApiError::endpoint_not_found)
}

/// A numeric path parameter; anything else is an unknown route.
pub fn path_id(request: &Request, name: &str) -> Result<u64, ApiError> {
    path_param(request, name)?.parse().map_err(|_| ApiError::endpoint_not_found())
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::Body;

    fn request(content_type: &str, body: &str, query: &str) -> Request {
        let mut r = lambda_http::http::Request::builder()
            .uri(format!("https://h/api/v1/messages?{query}"))
            .header("content-type", content_type)
            .body(Body::from(body))
            .unwrap();
        let map: HashMap<String, String> = serde_urlencoded::from_str(query).unwrap();
        r = r.with_query_string_parameters(map);
        r
    }

    #[test]
    fn form_values_are_json_decoded_when_structured() {
        let p = Params::from_request(&request(
            "application/x-www-form-urlencoded",
            "type=stream&to=%5B1%2C2%5D&content=hi+there&flag=true",
            "topic=q",
        ))
        .unwrap();
        assert_eq!(p.str("content").unwrap(), "hi there");
        assert_eq!(p.json::<Vec<u64>>("to").unwrap(), vec![1, 2]);
        assert_eq!(p.str("topic").unwrap(), "q", "query parameters are read too");
        assert_eq!(p.optional_bool("flag").unwrap(), Some(true));
        assert_eq!(p.optional_str("missing").unwrap(), None);
        assert_eq!(p.str("missing").unwrap_err().code, "REQUEST_VARIABLE_MISSING");
        // A plain string that is not JSON reads as a string
        let p = Params::from_pairs([("to", "general")]);
        assert_eq!(p.json::<String>("to").unwrap(), "general");
    }

    #[test]
    fn json_bodies_keep_their_types() {
        let p =
            Params::from_request(&request("application/json", r#"{"to": [3], "n": 5, "x": {"a": 1}}"#, "")).unwrap();
        assert_eq!(p.json::<Vec<u64>>("to").unwrap(), vec![3]);
        assert_eq!(p.optional_u64("n").unwrap(), Some(5));
        assert_eq!(p.str("n").unwrap(), "5");
        assert!(p.str("x").is_err());
    }

    #[test]
    fn malformed_bodies_are_400s() {
        let e = Params::from_request(&request("application/json", "{\"a\":", "")).unwrap_err();
        assert_eq!((e.status.as_u16(), e.msg.as_str()), (400, "Malformed JSON"));
        let e = Params::from_request(&request("application/json", "[1]", "")).unwrap_err();
        assert_eq!(e.status, 400);
        let big = "a".repeat(MAX_BODY + 1);
        assert_eq!(Params::from_request(&request("text/plain", &big, "")).unwrap_err().status, 413);
        let e = Params::from_pairs([("n", "x")]).optional_u64("n").unwrap_err();
        assert_eq!(e.msg, "Invalid n: not a number");
    }

    /// What any request's parameters must come to: a Zulip-shaped 4xx, or values whose every
    /// accessor answers without panicking, with a 4xx when the value has the wrong type.
    fn check(params: Result<Params, ApiError>) {
        let assert_4xx = |e: &ApiError| {
            assert!(e.status.is_client_error() && !e.msg.is_empty() && !e.code.is_empty(), "{e:?}");
        };
        let params = match params {
            Ok(params) => params,
            Err(e) => return assert_4xx(&e),
        };
        for name in ["to", "content", "n", "flag", "only_events", "x"] {
            let results = [
                params.optional_str(name).err(),
                params.optional_u64(name).err(),
                params.optional_bool(name).err(),
                params.optional_json::<Value>(name).err(),
                params.optional_json::<Vec<String>>(name).err(),
                params.optional_json::<Vec<u64>>(name).err(),
            ];
            results.iter().flatten().for_each(assert_4xx);
        }
    }

    #[test]
    fn randomized_form_and_json_bodies_give_values_or_zulip_shaped_4xx() {
        let corpus: Vec<Vec<u8>> = [
            "type=stream&to=%5B1%2C2%5D&content=hi+there&flag=true&n=5",
            "only_events=%5B%22push%22%2C%22issue*%22%5D&x=%7B%22a%22%3A%5B1%5D%7D",
            r#"{"to": [3], "n": 5, "x": {"a": [1, {"b": null}]}, "content": "caf\u00e9", "flag": false}"#,
            r#"{"only_events": ["push", "pull_request*"], "to": "general", "n": "7"}"#,
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        let mut fuzzer = hookline_model::fuzzing::Fuzzer::from_env("params")
            .with_dictionary(&["%", "%FF", "%C0%80", "+", "&", "=", "[", "{", "\"", "\\u", "\\ud800", "1e999", "-1"]);
        let content_types = [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "",
            "APPLICATION/JSON; charset=utf-8",
        ];
        while let Some(input) = fuzzer.next_input(&corpus) {
            let content_type = content_types[fuzzer.below(content_types.len())];
            let request = lambda_http::http::Request::builder()
                .uri("https://h/api/v1/messages")
                .header("content-type", content_type)
                .body(Body::from(input.clone()))
                .unwrap();
            let outcome =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(Params::from_request(&request))));
            assert!(outcome.is_ok(), "seed {}: {content_type} {:?}", fuzzer.seed(), String::from_utf8_lossy(&input));
            // The same bytes as one form value, as Zulip's clients JSON-encode structured values
            let value = String::from_utf8_lossy(&input);
            check(Ok(Params::from_pairs([("to", &*value), ("only_events", &*value), ("n", &*value)])));
        }
        assert!(fuzzer.iterations() > 0);
        println!("{} inputs checked", fuzzer.iterations());
    }

    #[test]
    fn json_nested_100_000_deep_is_a_400_in_a_body_and_text_in_a_form_value() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let e = Params::from_request(&request("application/json", &format!("{{\"to\": {deep}}}"), "")).unwrap_err();
        assert_eq!((e.status.as_u16(), e.msg.as_str()), (400, "Malformed JSON"));
        let p = Params::from_pairs([("to", deep.as_str())]);
        assert_eq!(p.json::<Vec<u64>>("to").unwrap_err().status, 400);
        assert_eq!(p.json::<String>("to").unwrap(), deep, "too deep to be JSON: read as text, as Zulip does");
    }
}
