//! `collections`: curated product lists of the platform (no shop) or of a shop.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shop_id: Option<Uuid>,
    pub slug: String,
    /// JSON object: language tag to name.
    pub names: String,
    /// JSON object: language tag to description.
    pub descriptions: String,
    pub featured: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
