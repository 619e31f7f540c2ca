//! `payouts`: money sent to a shop, by Stripe transfer or by a recorded bank payment.

use sea_orm::entity::prelude::*;

/// How a payout reaches the artisan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum PayoutMethod {
    #[sea_orm(string_value = "STRIPE_TRANSFER")]
    StripeTransfer,
    #[sea_orm(string_value = "BANK")]
    Bank,
}

/// Where a payout stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum PayoutStatus {
    /// Transfers are being made.
    #[sea_orm(string_value = "PROCESSING")]
    Processing,
    #[sea_orm(string_value = "PAID")]
    Paid,
    /// Stripe refused; the ledger was credited back.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payouts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shop_id: Uuid,
    pub method: PayoutMethod,
    pub status: PayoutStatus,
    pub amount_minor: i64,
    pub currency: String,
    /// The bank's reference for a bank payout.
    pub reference: Option<String>,
    pub failure: Option<String>,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
