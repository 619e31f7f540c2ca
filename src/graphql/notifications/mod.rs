//! GraphQL face of notifications: the inbox, email preferences and the admins' delivery log.

mod inputs;
mod mutation;
mod query;
mod subscription;
mod types;

pub use inputs::*;
pub use mutation::*;
pub use query::*;
pub use subscription::*;
pub use types::*;
