//! Marketing for buyers: verified reviews with the shop's reply, reports and moderation, the
//! ratings every product and shop carries, favourites, and seasonal campaigns. (Promotion
//! codes are a domain of their own below orders; sales live in the catalogue, which prices.)

pub mod campaigns;
pub mod favourites;
pub mod loaders;
pub mod reviews;

pub use loaders::{MarketingLoaders, Rating};
