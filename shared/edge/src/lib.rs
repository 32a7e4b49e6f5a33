//! Hookline's API edge: Zulip's conventions, written once for every HTTP function.
//!
//! - [`params`]: form-encoded (with JSON-encoded list/object values) and JSON bodies, plus the
//!   query string, as one parameter set; unknown parameters are ignored.
//! - [`auth`]: HTTP Basic `email:api_key`, and `Bearer <admin key>` for the deployment admin.
//! - [`error`] and [`response`]: `{"result": "success", "msg": "", …}` and Zulip's error shape.
//! - [`rate_limit`]: Zulip's per-user and failed-authentication limits (429 `RATE_LIMIT_HIT`).
//! - [`routes`]: the one route table the local router and `template.yaml` both follow.
//! - [`services`]: the store, queue, clock and settings a function is built from.

pub mod auth;
pub mod error;
pub mod params;
pub mod rate_limit;
pub mod response;
pub mod routes;
pub mod services;

pub use error::ApiError;
pub use lambda_http::{Body, Request, Response};
pub use services::{Services, Settings};

/// What an HTTP function's handler returns.
pub type HttpResponse = Response<Body>;
