//! `campaigns`: a collection shown as a seasonal campaign for a period.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The products, slug, name and description.
    pub collection_id: Uuid,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// An https address of the banner picture.
    pub banner_url: Option<String>,
    pub banner_alt: Option<String>,
    /// Featured order: lower first.
    pub position: i32,
    /// A promotion code advertised with it.
    pub promotion_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
