//! `statistics_days`: how many orders of a cube cell took so many whole days from payment to
//! shipping (`kind` S) or to delivery (D): medians read from it without the orders.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statistics_days")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub month: String,
    pub shop_id: Uuid,
    pub category_id: Uuid,
    pub country: String,
    pub method: String,
    pub kind: String,
    pub days: i32,
    pub orders: i64,
    /// The number of the drain that last wrote the row (`statistics_state.seq`): servers
    /// read the rows changed since their copy.
    pub seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
