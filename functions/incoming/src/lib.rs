//! Incoming webhook integrations: the framework every integration shares ([`integration`]),
//! the integrations themselves ([`integrations`], one folder each), and the HTTP adapter
//! that runs one behind API Gateway ([`http`]), and the catalogue of them all ([`catalog`]).

pub mod catalog;
pub mod chat;
pub mod git;
pub mod http;
pub mod integration;
pub mod integrations;
pub mod lambda;
pub mod mrkdwn;
pub mod remote;
pub mod signature;
