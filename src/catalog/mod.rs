//! The catalogue: shops and makers, products with variants, images and translations,
//! categories, collections, exchange rates and search.

pub mod cards;
mod kept;
pub mod listing;
pub mod loaders;
pub mod products;
pub mod rates;
pub mod sales;
pub mod search;
pub mod shops;
pub mod taxonomy;
pub mod texts;
