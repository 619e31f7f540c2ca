//! Marketing for buyers: verified reviews with the shop's reply, reports and moderation, the
//! ratings every product and shop carries, and favourites. (Promotion codes, sales and
//! campaigns come next.)

pub mod favourites;
pub mod loaders;
pub mod reviews;

pub use loaders::{MarketingLoaders, Rating};
