//! `analytics_daily`: what every analytics query reads: per shop and UTC day, one row for the
//! day (`dim` T), one per buyer country (C), one per channel (H) and one per product (P).
//! Orders and their revenue come from whole orders; views, additions to carts, units and
//! line revenue (`product_*`) from products. Amounts are in the shop's currency.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "analytics_daily")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shop_id: Uuid,
    /// `T`, `C`, `H` or `P`.
    pub dim: String,
    /// The product in `P` rows; the nil id otherwise.
    pub product_id: Uuid,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// ISO 3166-1 alpha-2 in `C` rows (empty when unknown); empty otherwise.
    pub country: String,
    /// The channel in `H` rows; empty otherwise.
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
