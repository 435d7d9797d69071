//! The server's behaviour, one concern per file. Every function takes `now` as an
//! argument; handlers read the clock.

pub mod admin;
pub mod attempts;
pub mod challenge_codes;
pub mod codes;
pub mod devices;
pub mod directory;
pub mod operators;
pub mod selfservice;
pub mod sessions;
pub mod signed_in;
pub mod signin;
pub mod stepup;
pub mod views;
