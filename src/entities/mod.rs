//! sea-orm entities, one file per table. No GraphQL derives: the API wraps these.

pub mod categories;
pub mod collection_products;
pub mod collections;
pub mod exchange_rates;
pub mod makers;
pub mod product_images;
pub mod product_makers;
pub mod product_materials;
pub mod product_translations;
pub mod product_variants;
pub mod products;
pub mod refresh_tokens;
pub mod shops;
pub mod users;
