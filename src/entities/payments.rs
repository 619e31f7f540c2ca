//! `payments`: how a checkout is paid, one row per checkout.

use sea_orm::entity::prelude::*;

/// Who carries the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum Provider {
    #[sea_orm(string_value = "STRIPE")]
    Stripe,
    #[sea_orm(string_value = "BANK_TRANSFER")]
    BankTransfer,
}

/// Where a payment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum PaymentStatus {
    /// Waiting for the buyer (also after a failed attempt, until the orders expire).
    #[sea_orm(string_value = "REQUIRES_PAYMENT")]
    RequiresPayment,
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    /// Money arrived that does not match the checkout, or arrived too late: an admin looks.
    #[sea_orm(string_value = "REVIEW")]
    Review,
    /// A bank transfer that arrived after its orders expired and was sent back to the buyer.
    #[sea_orm(string_value = "RETURNED")]
    Returned,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub checkout_id: Uuid,
    pub provider: Provider,
    /// The PaymentIntent id (`pi_…`) or the bank's reference.
    pub provider_ref: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub status: PaymentStatus,
    /// Failed card attempts so far.
    pub failures: i32,
    pub last_error: Option<String>,
    pub review_reason: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
