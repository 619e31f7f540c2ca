//! sea-orm entities, one file per table. No GraphQL derives: the API wraps these.

pub mod addresses;
pub mod cart_items;
pub mod categories;
pub mod checkouts;
pub mod collection_products;
pub mod collections;
pub mod exchange_rates;
pub mod guest_carts;
pub mod makers;
pub mod order_events;
pub mod order_lines;
pub mod orders;
pub mod product_images;
pub mod product_makers;
pub mod product_materials;
pub mod product_translations;
pub mod product_variants;
pub mod products;
pub mod refresh_tokens;
pub mod shipping_profiles;
pub mod shipping_zones;
pub mod shops;
pub mod users;
