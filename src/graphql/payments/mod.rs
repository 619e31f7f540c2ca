//! GraphQL face of payments: card sessions, refunds, finances, payouts and reviews.

mod inputs;
mod mutation;
mod query;
mod types;

pub use inputs::*;
pub use mutation::*;
pub use query::*;
pub use types::*;
