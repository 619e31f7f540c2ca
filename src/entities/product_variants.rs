//! `product_variants`: a buyable version of a product, with its own SKU and stock.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_variants")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub product_id: Uuid,
    /// Copied from the product so SKUs can be unique within a shop.
    pub shop_id: Uuid,
    pub sku: String,
    /// JSON array of `{"name": ..., "value": ...}`.
    pub options: String,
    pub price_override_minor: Option<i64>,
    pub stock: i32,
    pub position: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
