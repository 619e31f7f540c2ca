//! `statistics_cells`: the monthly cube every statistics query reads: the facts summed per
//! month, shop, craft, destination and payment method. Shops' regions, countries and sizes
//! are joined when read, so they are always today's.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statistics_cells")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub month: String,
    pub shop_id: Uuid,
    pub category_id: Uuid,
    pub country: String,
    pub method: String,
    pub orders: i64,
    pub units: i64,
    pub gross_mnt: i64,
    pub gross_usd: i64,
    pub share_mnt: i64,
    pub share_usd: i64,
    pub refunded_orders: i64,
    pub new_buyers: i64,
    pub repeat_orders: i64,
    /// The number of the drain that last wrote the row (`statistics_state.seq`): servers
    /// read the rows changed since their copy.
    pub seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
