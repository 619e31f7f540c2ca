//! `analytics_daily`: what every analytics query reads, per shop, product, UTC day, buyer
//! country and channel. The row with the nil product holds whole orders (their count and
//! revenue); product rows hold views, additions to carts, orders containing the product,
//! units and line revenue. Amounts are in the shop's currency.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "analytics_daily")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shop_id: Uuid,
    pub product_id: Uuid,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// ISO 3166-1 alpha-2; empty when unknown.
    pub country: String,
    pub channel: String,
    pub views: i64,
    pub add_to_carts: i64,
    pub orders: i64,
    pub revenue_minor: i64,
    pub product_orders: i64,
    pub units: i64,
    pub product_revenue_minor: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
