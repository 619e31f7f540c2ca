//! Distribution: how buyers reach the marketplace. Product feeds for shopping channels,
//! pages that search engines index and chat apps preview, and sales by channel (the UTM tags
//! and referring sites frozen on orders).

pub mod analytics;
pub mod channels;
pub mod feeds;
pub mod listings;
pub mod pages;
