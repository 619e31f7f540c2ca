//! `statistics_market`: the market grid, one cell per month, craft, destination and payment
//! method, summed from the cubes with its shops, makers and days listed: researchers'
//! questions that do not break down by shops' regions, countries or sizes read it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statistics_market")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `YYYY-MM`.
    pub month: String,
    pub category_id: Uuid,
    pub country: String,
    pub method: String,
    /// Comma-separated shop ids, as the database prints them.
    pub shops: String,
    /// Comma-separated ids of the named makers.
    pub makers: String,
    /// JSON `[[kind, days, orders], ...]`.
    pub days: String,
    pub orders: i64,
    pub units: i64,
    pub gross_mnt: i64,
    pub gross_usd: i64,
    pub share_mnt: i64,
    pub share_usd: i64,
    pub refunded_orders: i64,
    pub new_buyers: i64,
    pub repeat_orders: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
