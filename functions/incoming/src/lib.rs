//! Incoming webhook integrations: the framework every integration shares ([`integration`]),
//! the integrations themselves ([`integrations`], one folder each), and the HTTP adapter
//! that runs one behind API Gateway ([`http`]).

pub mod http;
pub mod integration;
pub mod integrations;
pub mod lambda;
