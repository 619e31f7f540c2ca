//! `product_images`: a product's photos, uploaded or by URL, with alt text per language.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "product_images")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub product_id: Uuid,
    /// An external photo's address; empty when `image_id` names an uploaded one.
    pub url: String,
    pub image_id: Option<Uuid>,
    /// JSON object: language tag to alt text.
    pub alt: String,
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
