//! Accounts: registration, sign-in sessions, profiles and roles.

pub mod password;
pub mod service;
pub mod throttle;
