//! End-to-end tests: `hookline-local` started as a process and driven over real HTTP.

mod e2e_access;
mod e2e_aws;
mod e2e_botserver;
mod e2e_concurrency;
mod e2e_crash;
mod e2e_faults;
mod e2e_hostile;
mod e2e_http_limits;
mod e2e_incoming;
mod e2e_load;
mod e2e_management;
mod e2e_messages;
mod e2e_outgoing;
mod e2e_rate_limits;
mod e2e_readme;
mod fault_proxy;
mod receiver;
mod support;
