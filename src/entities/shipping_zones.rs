//! `shipping_zones`: a shipping profile's rate to a set of countries (or the rest of the world).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipping_zones")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shop_id: Uuid,
    pub profile_id: Uuid,
    pub name: String,
    /// JSON array of ISO 3166-1 alpha-2 codes; empty means the rest of the world.
    pub countries: String,
    pub first_item_minor: i64,
    pub additional_item_minor: i64,
    pub min_days: i32,
    pub max_days: i32,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
