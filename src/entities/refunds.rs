//! `refunds`: money given back for (part of) an order.

use sea_orm::entity::prelude::*;

pub use super::payments::Provider as RefundMethod;

/// Where a refund stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum RefundStatus {
    /// Recorded; the provider has not answered yet.
    #[sea_orm(string_value = "REQUESTED")]
    Requested,
    /// Accepted by Stripe, not yet settled.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "SUCCEEDED")]
    Succeeded,
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub checkout_id: Uuid,
    pub method: RefundMethod,
    pub status: RefundStatus,
    /// In the buyer's currency, as paid.
    pub amount_minor: i64,
    pub currency: String,
    /// What the shop gives back, in its settlement currency, before the commission returned.
    pub shop_amount_minor: i64,
    /// The part of the commission the platform returns with it.
    pub shop_commission_minor: i64,
    pub shop_currency: String,
    /// Stripe's refund id (`re_…`) or the bank's reference.
    pub provider_ref: Option<String>,
    pub reason: Option<String>,
    pub actor_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
