//! `checkouts`: one payment covering one order per shop.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checkouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub buyer_id: Uuid,
    pub idempotency_key: String,
    pub currency: String,
    pub total_minor: i64,
    pub payment_method: String,
    /// JSON snapshot of the address shipped to.
    pub shipping_address: String,
    /// Hex SHA-256 of the placeOrder request the key was first used with; `None` for
    /// checkouts placed before it was recorded.
    pub request_digest: Option<String>,
    /// A bank transfer's human reference, e.g. `DK-7F3K9Q`, quoted by the buyer to the bank.
    pub payment_reference: Option<String>,
    /// When the buyer was reminded that the transfer's window is closing.
    pub reminded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
