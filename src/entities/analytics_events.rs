//! `analytics_events`: counted events without a row of their own (product views, additions
//! to carts), written in batches: one row per product, day, country and channel per flush.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "analytics_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `VIEW` or `ADD_TO_CART`.
    pub kind: String,
    pub shop_id: Uuid,
    pub product_id: Uuid,
    /// UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// ISO 3166-1 alpha-2; empty when unknown.
    pub country: String,
    pub channel: String,
    pub count: i64,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
