//! Notifications: delivering the outbox (`crate::outbox`) by email in the recipient's
//! language, the in-app inbox, and what each user wants to receive. The domains that cause
//! messages only write outbox rows; this domain depends on none of them.

pub mod compose;
pub mod inbox;
pub mod links;
pub mod mailer;
pub mod templates;
pub mod worker;

pub use mailer::Mailer;
