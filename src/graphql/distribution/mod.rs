//! GraphQL face of distribution: sales by channel and analytics.

mod analytics;
mod query;

pub use analytics::*;
pub use query::*;
