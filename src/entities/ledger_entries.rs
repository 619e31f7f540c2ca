//! `ledger_entries`: what the marketplace owes each shop, append-only.

use sea_orm::entity::prelude::*;

/// Why an entry was written; the sign of the amount follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum EntryKind {
    /// + the order's total in the shop's currency, when paid.
    #[sea_orm(string_value = "SALE")]
    Sale,
    /// − the platform's commission on the sale.
    #[sea_orm(string_value = "COMMISSION")]
    Commission,
    /// − money given back to the buyer.
    #[sea_orm(string_value = "REFUND")]
    Refund,
    /// + the part of the commission returned with a refund.
    #[sea_orm(string_value = "COMMISSION_REFUND")]
    CommissionRefund,
    /// − money paid out to the shop.
    #[sea_orm(string_value = "PAYOUT")]
    Payout,
    /// Within one payout: plus on an order that owed money (refunded after its payout), minus
    /// on the order whose share settles it.
    #[sea_orm(string_value = "DEBT_SETTLEMENT")]
    DebtSettlement,
    /// + a payout debit given back because the transfer failed.
    #[sea_orm(string_value = "PAYOUT_REVERSAL")]
    PayoutReversal,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub shop_id: Uuid,
    pub order_id: Uuid,
    pub kind: EntryKind,
    /// Signed, in minor units of `currency` (the shop's settlement currency).
    pub amount_minor: i64,
    pub currency: String,
    pub refund_id: Option<Uuid>,
    pub payout_id: Option<Uuid>,
    /// The Stripe transfer (`tr_…`) behind a payout entry.
    pub provider_ref: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
