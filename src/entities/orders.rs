//! `orders`: one shop's part of a checkout, with prices snapshotted.

use sea_orm::entity::prelude::*;

/// Where an order is in its life; changes go through `orders::lifecycle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(20))")]
pub enum OrderStatus {
    #[sea_orm(string_value = "PENDING_PAYMENT")]
    PendingPayment,
    #[sea_orm(string_value = "PAID")]
    Paid,
    #[sea_orm(string_value = "SHIPPED")]
    Shipped,
    #[sea_orm(string_value = "DELIVERED")]
    Delivered,
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub checkout_id: Uuid,
    pub shop_id: Uuid,
    pub buyer_id: Uuid,
    /// Human number such as `DK-2026-000123`.
    pub number: String,
    pub status: OrderStatus,
    /// The buyer's currency and amounts in it.
    pub currency: String,
    pub subtotal_minor: i64,
    pub shipping_minor: i64,
    pub total_minor: i64,
    /// The shop's settlement currency and amounts in it.
    pub shop_currency: String,
    pub shop_subtotal_minor: i64,
    pub shop_shipping_minor: i64,
    pub shop_total_minor: i64,
    /// The rate from shop to buyer currency locked at checkout, as `numerator/denominator`.
    pub exchange_rate: String,
    /// JSON snapshot of the address shipped to.
    pub shipping_address: String,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// An unpaid order is cancelled after this, and its stock returned.
    pub expires_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    /// The platform's commission in basis points, frozen when the order was placed.
    pub commission_bps: i32,
    /// Refunded so far, in the buyer's currency.
    pub refunded_minor: i64,
    /// When it was marked delivered; its money becomes available a holding period later.
    pub delivered_at: Option<DateTimeUtc>,
    /// The promotion's discount on the lines, in the buyer's currency (0 without a code).
    pub discount_minor: i64,
    /// The same discount in the shop's currency.
    pub shop_discount_minor: i64,
    /// The promotion code redeemed for this order's checkout, if any.
    pub promotion_id: Option<Uuid>,
    /// Who pays for the discount: `SHOP` or `PLATFORM`.
    pub discount_funded_by: Option<String>,
    /// Where the buyer came from, as last seen on the cart at checkout.
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    /// The referring site's host name.
    pub referrer: Option<String>,
    /// The rates from the shop's currency to MNT and to USD, locked at checkout (or when
    /// statistics first counted an order placed before) as `numerator/denominator`.
    pub rate_to_mnt: Option<String>,
    pub rate_to_usd: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
