//! GraphQL face of accounts: thin resolvers over `service`.

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
