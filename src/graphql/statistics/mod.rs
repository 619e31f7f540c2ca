//! GraphQL face of the market statistics.

mod query;

pub use query::*;
