//! GraphQL face of orders: addresses, shipping profiles, the cart, checkout and order views.

mod cart;
mod inputs;
mod mutation;
mod query;
mod subscription;
mod types;

pub use cart::*;
pub use inputs::*;
pub use mutation::*;
pub use query::*;
pub use subscription::*;
pub use types::*;
