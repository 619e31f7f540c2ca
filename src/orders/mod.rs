//! Orders: addresses, shipping zones, the cart, checkout and the order lifecycle.

pub mod addresses;
pub mod attribution;
pub mod cart;
pub mod checkout;
pub mod expiry;
pub mod lifecycle;
pub mod loaders;
pub mod notices;
pub mod reference;
pub mod shipping;
pub mod state;
pub mod views;
