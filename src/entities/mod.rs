//! sea-orm entities, one file per table. No GraphQL derives: the API wraps these.

pub mod refresh_tokens;
pub mod users;
