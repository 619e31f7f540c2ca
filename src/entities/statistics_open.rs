//! `statistics_open`: the open grid, one cell per quarter, craft and destination, summed from
//! the cubes with its shops, makers and days listed. Every public figure is a sum of these
//! cells' published ones.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statistics_open")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `YYYY-Qn`.
    pub quarter: String,
    pub category_id: Uuid,
    pub country: String,
    /// Always empty: the open grid is not broken down by payment method.
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
