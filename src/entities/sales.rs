//! `sales`: a shop's prices lowered for a period.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sales")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shop_id: Uuid,
    pub title: String,
    /// 1 to 95: every item without its own sale price is this much cheaper.
    pub percent_off: Option<i32>,
    pub starts_at: DateTimeUtc,
    /// The sale ends by itself at this moment (ending it early moves it to now).
    pub ends_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
