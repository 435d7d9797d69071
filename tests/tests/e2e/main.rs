//! One integration binary: the real server on 127.0.0.1 and real clients over HTTP.

#![allow(clippy::unwrap_used)]

mod contract;
mod core_agent;
mod core_authenticator;
mod core_channels;
mod core_client_kinds;
mod core_devices;
mod core_errors;
mod core_first_access;
mod core_passcode;
mod core_support;
mod core_tls;
mod replicas;
mod sec_limits;
mod sec_registrations;
mod sec_sessions;
mod sec_sweeper;
mod sec_transport;
mod server_bad_input;
mod server_channels;
mod server_directory;
mod server_ops;
mod server_security;
mod server_signin;
