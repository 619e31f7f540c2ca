//! Accounts: registration, sign-in sessions, profiles and roles.

pub mod email_links;
pub mod password;
pub mod service;
