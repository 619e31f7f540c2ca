//! `favourites`: a product or shop saved by a buyer, or by a guest under their cart token.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "favourites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The buyer, or
    pub user_id: Option<Uuid>,
    /// the guest cart whose token saved it.
    pub guest_cart_id: Option<Uuid>,
    /// The product saved, or
    pub product_id: Option<Uuid>,
    /// the shop saved.
    pub shop_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
