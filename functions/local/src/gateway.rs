//! API Gateway, emulated: an HTTP request becomes the HTTP API (payload 2.0) event Lambda
//! would receive, goes through `lambda_http`'s own event parsing into the function's handler,
//! and the handler's response goes back over HTTP.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hookline_edge::routes::{Function, INCOMING, INTEGRATIONS, MANAGEMENT, MESSAGES, Matched, match_route};
use hookline_edge::{ApiError, HttpResponse};
use serde_json::{Map, Value, json};

use crate::Functions;

/// The largest body API Gateway's HTTP APIs accept.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// The API Gateway HTTP API event for a request that matched `matched`.
#[must_use]
pub fn api_gateway_event(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    source: SocketAddr,
    matched: &Matched,
) -> Value {
    let mut header_map = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == "cookie" {
            cookies.extend(value.split(';').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()));
            continue;
        }
        // API Gateway joins repeated headers with commas.
        match header_map.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                header_map.insert(name.as_str().to_owned(), Value::String(value));
            }
        }
    }
    let raw_query = uri.query().unwrap_or("");
    let mut query = Map::new();
    for (key, value) in serde_urlencoded::from_str::<Vec<(String, String)>>(raw_query).unwrap_or_default() {
        match query.get_mut(&key) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                query.insert(key, Value::String(value));
            }
        }
    }
    let path_parameters: Map<String, Value> =
        matched.path_parameters.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let (body, is_base64) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(body), true),
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let host = headers.get("host").and_then(|h| h.to_str().ok()).unwrap_or("localhost").to_owned();
    let mut event = json!({
        "version": "2.0",
        "routeKey": matched.route_key(),
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split('.').next().unwrap_or("local"),
            "http": {
                "method": method.as_str(),
                "path": uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": source.ip().to_string(),
                "userAgent": headers.get("user-agent").and_then(|h| h.to_str().ok()).unwrap_or(""),
            },
            "requestId": format!("{:016x}", rand::random::<u64>()),
            "routeKey": matched.route_key(),
            "stage": "$default",
            "time": "",
            "timeEpoch": u64::try_from(now.as_millis()).unwrap_or(0),
        },
        "isBase64Encoded": is_base64,
    });
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if !path_parameters.is_empty() {
        event["pathParameters"] = Value::Object(path_parameters);
    }
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if !body.is_empty() {
        event["body"] = Value::String(body);
    }
    event
}

/// Runs `function`'s handler on `request`.
pub async fn invoke(function: Function, functions: &Functions, request: lambda_http::Request) -> HttpResponse {
    match function {
        f if f == MANAGEMENT => hookline_management::handle(&functions.services, request).await,
        f if f == MESSAGES => functions.messages.handle(request).await,
        f if f == INCOMING => {
            use lambda_http::RequestExt as _;
            let name = request.path_parameters().first("integration").unwrap_or_default().to_owned();
            match hookline_incoming::integrations::find(&name) {
                Some(integration) => {
                    let sender = functions.messages.sender();
                    hookline_incoming::http::serve(&functions.services, &sender, integration, request).await
                }
                None => ApiError::endpoint_not_found().into_response(),
            }
        }
        f if f == INTEGRATIONS => hookline_incoming::catalog::handle(&functions.services, &request).await,
        other => {
            tracing::error!(function = other.binary, "no handler for function");
            ApiError::internal().into_response()
        }
    }
}

/// The axum handler every request goes through.
pub async fn serve(
    State(functions): State<Arc<Functions>>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let matched = match_route(method.as_str(), uri.path());
    let event = api_gateway_event(&method, &uri, &headers, &body, source, &matched);
    let response = match lambda_http::request::from_str(&event.to_string()) {
        Ok(request) => invoke(matched.route.function, &functions, request).await,
        Err(e) => {
            tracing::error!(error = %e, "event did not parse");
            ApiError::internal().into_response()
        }
    };
    // The path only: query strings can carry API keys.
    tracing::info!(
        method = %method,
        path = uri.path(),
        route = matched.route_key(),
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    into_http(response)
}

fn into_http(response: HttpResponse) -> Response {
    let (parts, body) = response.into_parts();
    let bytes: Vec<u8> = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(text) => text.into_bytes(),
        lambda_http::Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    };
    let mut out = (StatusCode::from_u16(parts.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), bytes)
        .into_response();
    // The function's headers replace the defaults of the bytes response (its octet-stream type)
    for name in parts.headers.keys() {
        out.headers_mut().remove(name);
    }
    for (name, value) in &parts.headers {
        out.headers_mut().append(name, value.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt as _;

    #[test]
    fn the_event_parses_into_the_request_lambda_would_see() {
        let uri: Uri = "/api/v1/bots/12?stream=a%20b&x=1&x=2".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:9000".parse().unwrap());
        headers.insert("content-type", "application/x-www-form-urlencoded".parse().unwrap());
        headers.insert("cookie", "a=1; b=2".parse().unwrap());
        let matched = match_route("PATCH", uri.path());
        let event = api_gateway_event(
            &Method::PATCH,
            &uri,
            &headers,
            b"full_name=X",
            "10.0.0.1:5555".parse().unwrap(),
            &matched,
        );
        assert_eq!(event["routeKey"], "PATCH /api/v1/bots/{bot_id}");
        assert_eq!(event["cookies"], json!(["a=1", "b=2"]));
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(request.method(), "PATCH");
        assert_eq!(request.path_parameters().first("bot_id"), Some("12"));
        assert_eq!(request.query_string_parameters().first("stream"), Some("a b"));
        assert_eq!(request.query_string_parameters().all("x"), Some(vec!["1", "2"]));
        assert_eq!(request.body().as_ref(), b"full_name=X");
        assert_eq!(request.headers()["content-type"], "application/x-www-form-urlencoded");
    }

    #[test]
    fn binary_bodies_travel_base64_encoded() {
        let uri: Uri = "/api/v1/realms".parse().unwrap();
        let matched = match_route("POST", uri.path());
        let event = api_gateway_event(
            &Method::POST,
            &uri,
            &HeaderMap::new(),
            &[0xff, 0x00],
            "127.0.0.1:1".parse().unwrap(),
            &matched,
        );
        assert_eq!(event["isBase64Encoded"], true);
        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(request.body().as_ref(), &[0xff, 0x00]);
    }

    #[test]
    fn a_functions_content_type_is_the_only_one_sent() {
        let response = into_http(hookline_edge::response::success(serde_json::json!({})));
        let types: Vec<_> = response.headers().get_all("content-type").iter().collect();
        assert_eq!(types, ["application/json"]);
    }
}
