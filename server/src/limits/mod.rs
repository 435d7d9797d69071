//! Rate limits kept in the store, so that every replica enforces the same budget.
//!
//! Each limit is a counter record updated with a compare-and-swap ([`crate::store::Repo::update`]),
//! so a budget is *reserved* atomically before the work it pays for: N concurrent requests
//! are limited exactly like N sequential ones. Records carry their own `expires_at` and are
//! removed by the sweeper.

pub mod address;
pub mod messages;
pub mod window;
