//! Zulip's success shape: `{"result": "success", "msg": "", …fields}`.

use lambda_http::http::StatusCode;
use serde_json::{Value, json};

use crate::{Body, HttpResponse};

/// A JSON response with `status`.
#[must_use]
pub fn json_response(status: StatusCode, body: &Value) -> HttpResponse {
    let mut response = HttpResponse::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert("Content-Type", "application/json".parse().expect("static header"));
    response
}

/// `{"result": "success", "msg": ""}` plus the fields of `fields` (an object).
#[must_use]
pub fn success(fields: Value) -> HttpResponse {
    let mut body = json!({"result": "success", "msg": ""});
    if let (Value::Object(body), Value::Object(fields)) = (&mut body, fields) {
        body.extend(fields);
    }
    json_response(StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn success_merges_fields() {
        let r = success(json!({"id": 3}));
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["Content-Type"], "application/json");
        let body: Value = serde_json::from_slice(r.body().as_ref()).unwrap();
        assert_eq!(body, json!({"result": "success", "msg": "", "id": 3}));
    }
}
