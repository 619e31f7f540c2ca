//! `cart_items`: what a buyer, signed in or guest, intends to buy.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cart_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The signed-in owner, or none for a guest cart's line.
    pub user_id: Option<Uuid>,
    pub guest_cart_id: Option<Uuid>,
    pub variant_id: Uuid,
    pub quantity: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
