//! GraphQL face of promotion codes: creating and switching them (admins and shops) and
//! listing them. Applying a code to a cart is a cart operation, in the orders GraphQL.

mod inputs;
mod mutation;
mod query;
mod types;

pub use inputs::*;
pub use mutation::*;
pub use query::*;
pub use types::*;
