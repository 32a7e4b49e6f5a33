//! The API's one error type, and its mapping to Zulip's status, code and message.

use hookline_model::store::StoreError;
use lambda_http::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::HttpResponse;
use crate::response::json_response;

/// An error as the client sees it: status, Zulip `code`, message, and extra fields.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {code}: {msg}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub msg: String,
    pub extra: Map<String, Value>,
    /// For 429: seconds until the client may try again.
    pub retry_after: Option<u64>,
}

impl ApiError {
    #[must_use]
    pub fn new(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Self {
        Self { status, code, msg: msg.into(), extra: Map::new(), retry_after: None }
    }

    #[must_use]
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extra.insert(key.to_owned(), value.into());
        self
    }

    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", msg)
    }

    pub fn missing_argument(name: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "REQUEST_VARIABLE_MISSING", format!("Missing '{name}' argument"))
            .with("var_name", name)
    }

    pub fn invalid_argument(name: &str, why: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", format!("Invalid {name}: {why}")).with("var_name", name)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "UNAUTHORIZED",
            "Not logged in: API authentication or user session required",
        )
    }

    pub fn invalid_api_key() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "INVALID_API_KEY", "Invalid API key")
    }

    pub fn user_deactivated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "USER_DEACTIVATED", "Account is deactivated")
    }

    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "UNAUTHORIZED_PRINCIPAL", msg)
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "BAD_REQUEST", msg)
    }

    pub fn endpoint_not_found() -> Self {
        Self::not_found("Endpoint not found")
    }

    pub fn stream_does_not_exist(name: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "STREAM_DOES_NOT_EXIST", format!("Channel '{name}' does not exist"))
            .with("stream", name)
    }

    pub fn rate_limited(retry_after: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "RATE_LIMIT_HIT", "API usage exceeded rate limit")
            .with("retry-after", retry_after);
        e.retry_after = Some(retry_after);
        e
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, "BAD_REQUEST", format!("Request body is larger than {limit} bytes"))
    }

    /// 503 with `Retry-After`: a dependency is throttling or unreachable for now.
    pub fn unavailable(retry_after: u64) -> Self {
        let mut e = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "SERVICE_UNAVAILABLE",
            "The server is busy; please try again shortly",
        );
        e.retry_after = Some(retry_after);
        e
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR", "Internal server error")
    }

    /// The response the client gets.
    #[must_use]
    pub fn into_response(self) -> HttpResponse {
        let mut body = Map::new();
        body.insert("result".into(), json!("error"));
        body.insert("msg".into(), json!(self.msg));
        body.insert("code".into(), json!(self.code));
        body.extend(self.extra);
        let mut response = json_response(self.status, &Value::Object(body));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert("WWW-Authenticate", "Basic realm=\"zulip\"".parse().expect("static header"));
        }
        if let Some(seconds) = self.retry_after
            && let Ok(value) = seconds.to_string().parse()
        {
            response.headers_mut().insert("Retry-After", value);
        }
        response
    }
}

/// Seconds a client is asked to wait after a 503.
pub const UNAVAILABLE_RETRY_AFTER: u64 = 1;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::RealmExists => Self::bad_request("An organization with this string id already exists"),
            StoreError::EmailTaken => Self::bad_request("Email is already in use"),
            StoreError::StreamExists => Self::bad_request("A channel with this name already exists"),
            StoreError::NotFound(what) => Self::bad_request(format!("No such {what}")),
            StoreError::Conflict | StoreError::LeaseLost | StoreError::AlreadyReplied | StoreError::Duplicate(_) => {
                let mut e = Self::new(
                    StatusCode::CONFLICT,
                    "BAD_REQUEST",
                    "The object was changed concurrently; please try again",
                );
                e.retry_after = Some(1);
                e
            }
            StoreError::StorageLimit { over, limit } => Self::bad_request(format!(
                "Request exceeds storage limit by {over} characters. The limit is {limit} characters."
            )),
            StoreError::Unavailable(why) => {
                tracing::warn!(error = %why, "storage unavailable");
                Self::unavailable(UNAVAILABLE_RETRY_AFTER)
            }
            StoreError::Corrupt(why) | StoreError::Backend(why) => {
                tracing::error!(error = %why, "storage failed");
                Self::internal()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(r: &HttpResponse) -> Value {
        serde_json::from_slice(r.body().as_ref()).unwrap()
    }

    #[test]
    fn errors_have_zulips_shape_and_headers() {
        let r = ApiError::missing_argument("content").into_response();
        assert_eq!(r.status(), 400);
        assert_eq!(
            body(&r),
            json!({"result": "error", "msg": "Missing 'content' argument", "code": "REQUEST_VARIABLE_MISSING", "var_name": "content"})
        );
        let r = ApiError::rate_limited(7).into_response();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["Retry-After"], "7");
        assert_eq!(body(&r)["code"], "RATE_LIMIT_HIT");
        let r = ApiError::invalid_api_key().into_response();
        assert_eq!(r.headers()["WWW-Authenticate"], "Basic realm=\"zulip\"");
    }

    #[test]
    fn backend_failures_do_not_leak_details() {
        let r = ApiError::from(StoreError::Backend("secret table name".into())).into_response();
        assert_eq!(r.status(), 500);
        assert!(!String::from_utf8_lossy(r.body().as_ref()).contains("secret"));
    }

    #[test]
    fn a_throttled_store_answers_503_with_retry_after() {
        let r = ApiError::from(StoreError::Unavailable("ThrottlingException in table".into())).into_response();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["Retry-After"], "1");
        let body = body(&r);
        assert_eq!((body["result"].as_str(), body["code"].as_str()), (Some("error"), Some("SERVICE_UNAVAILABLE")));
        assert!(!body.to_string().contains("table"));
    }
}
