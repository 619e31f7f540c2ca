//! `promotion_redemptions`: one use of a code, by one checkout.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "promotion_redemptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub promotion_id: Uuid,
    pub checkout_id: Uuid,
    pub buyer_id: Uuid,
    pub created_at: DateTimeUtc,
    /// When the use was given back (every order of the checkout cancelled).
    pub released_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
