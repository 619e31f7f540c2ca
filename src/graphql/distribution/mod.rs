//! GraphQL face of distribution: sales by channel.

mod query;

pub use query::*;
