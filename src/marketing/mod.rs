//! Marketing for buyers: verified reviews with the shop's reply, reports and moderation, and
//! the ratings every product and shop carries. (Favourites, promotion codes, sales and
//! campaigns come next.)

pub mod loaders;
pub mod reviews;

pub use loaders::{MarketingLoaders, Rating};
