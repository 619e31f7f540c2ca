//! `sale_items`: a product, or one of its variants, in a sale.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sale_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sale_id: Uuid,
    pub product_id: Uuid,
    /// Null: every variant of the product.
    pub variant_id: Option<Uuid>,
    /// The price during the sale, in the product's currency; null: the sale's percentage.
    pub sale_price_minor: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
