//! `order_lines`: what was bought, as it was described and priced at checkout.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub product_id: Uuid,
    pub variant_id: Uuid,
    /// Title in the buyer's language.
    pub title: String,
    /// English title, for customs declarations.
    pub title_en: String,
    pub sku: String,
    /// Unit price in the buyer's currency.
    pub unit_price_minor: i64,
    /// Unit price in the shop's currency.
    pub shop_unit_price_minor: i64,
    pub quantity: i32,
    pub hs_code: Option<String>,
    pub origin_country: String,
    pub weight_grams: Option<i32>,
    pub position: i32,
    /// The line's share of the order's discount, in the buyer's currency.
    pub discount_minor: i64,
    /// The same share in the shop's currency.
    pub shop_discount_minor: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
