//! `statistics_maker_cells`: the facts' maker shares summed per month, shop, craft,
//! destination, payment method and maker. Makers' consented characteristics are joined when
//! read, so a withdrawn consent takes effect at once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "statistics_maker_cells")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub month: String,
    pub shop_id: Uuid,
    pub category_id: Uuid,
    pub country: String,
    pub method: String,
    /// The nil id for lines whose product names no maker.
    pub maker_id: Uuid,
    pub gross_mnt: i64,
    pub gross_usd: i64,
    pub share_mnt: i64,
    pub share_usd: i64,
    /// The number of the drain that last wrote the row (`statistics_state.seq`): servers
    /// read the rows changed since their copy.
    pub seq: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
