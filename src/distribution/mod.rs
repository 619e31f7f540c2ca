//! Distribution: how buyers reach the marketplace. For now, sales by channel (the UTM tags
//! and referring sites frozen on orders); feeds, indexable pages and analytics rollups come
//! next.

pub mod channels;
