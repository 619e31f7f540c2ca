//! Promotion codes: created by admins (paid for by the platform) or by a shop for its own
//! products (paid for by the shop), quoted on carts and counted atomically at checkout.
//!
//! A domain of its own below `orders`, rather than inside `marketing` as DESIGN.md sketched:
//! checkout must quote and count a code in its own transaction, and `marketing` already
//! builds on `orders` (reviews need delivered lines), so codes sit where both can reach them.

pub mod codes;
pub mod loaders;
pub mod redeem;
pub mod rules;

pub use rules::{Line, LineDiscount, Refusal};
