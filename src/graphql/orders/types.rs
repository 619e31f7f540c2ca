//! Output types and payloads of the orders GraphQL.

use async_graphql::{Context, Enum, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::payments::CardPayment;
use crate::orders::loaders::OrderLoaders;
use crate::{
    catalog::loaders::Loaders,
    entities::{
        addresses as address_rows, order_lines,
        orders::{self as order_rows, OrderStatus as DbStatus},
        shipping_profiles, shipping_zones,
    },
    error::AppError,
    graphql::catalog::Shop,
    graphql::payments::{Payment, Refund},
    kit::{Money, View},
    money::{Currency, Money as MoneyValue},
    orders::state::Party,
    payments::loaders::PaymentLoaders,
};

pub fn money(minor: i64, code: &str) -> Money {
    match Currency::parse(code) {
        Some(c) => MoneyValue::new(minor, c).into(),
        None => Money {
            amount: minor.to_string(),
            currency_code: code.to_owned(),
        },
    }
}

/// A postal address.
#[derive(SimpleObject, Clone)]
pub struct Address {
    /// Stable identifier (for address-book entries).
    pub id: ID,
    /// Recipient's name.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// Flat, building, district.
    pub line2: Option<String>,
    /// City or soum.
    pub city: String,
    /// Region, state or aimag.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Phone number for the carrier.
    pub phone: Option<String>,
}

impl From<address_rows::Model> for Address {
    fn from(a: address_rows::Model) -> Self {
        Self {
            id: ID(a.id.to_string()),
            name: a.name,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
        }
    }
}

/// A shop's shipping rate to a set of countries.
#[derive(SimpleObject)]
pub struct ShippingZone {
    /// Stable identifier.
    pub id: ID,
    /// Name, e.g. Europe.
    pub name: String,
    /// ISO 3166-1 alpha-2 codes; empty for the rest of the world.
    pub countries: Vec<String>,
    /// Cost of the first item, in the shop's currency.
    pub first_item: Money,
    /// Cost of each further item, in the shop's currency.
    pub additional_item: Money,
    /// Fewest days to deliver.
    pub min_days: i32,
    /// Most days to deliver.
    pub max_days: i32,
}

/// A shop's way of shipping, with rates per zone.
#[derive(SimpleObject)]
pub struct ShippingProfile {
    /// Stable identifier; products name it as `shippingProfileId`.
    pub id: ID,
    /// Name, e.g. Small parcels.
    pub name: String,
    /// Used by products that name no profile.
    pub is_default: bool,
    /// Rates per zone.
    pub zones: Vec<ShippingZone>,
}

pub fn profile(
    p: shipping_profiles::Model,
    zones: Vec<shipping_zones::Model>,
    currency: &str,
) -> ShippingProfile {
    ShippingProfile {
        id: ID(p.id.to_string()),
        name: p.name,
        is_default: p.is_default,
        zones: zones.into_iter().map(|z| zone(z, currency)).collect(),
    }
}

fn zone(z: shipping_zones::Model, currency: &str) -> ShippingZone {
    ShippingZone {
        id: ID(z.id.to_string()),
        name: z.name.clone(),
        countries: serde_json::from_str(&z.countries).unwrap_or_default(),
        first_item: money(z.first_item_minor, currency),
        additional_item: money(z.additional_item_minor, currency),
        min_days: z.min_days,
        max_days: z.max_days,
    }
}

/// Where an order is in its life.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum OrderStatus {
    /// Placed; waiting for payment. Stock is held until it expires.
    PendingPayment,
    /// Paid; the shop prepares it.
    Paid,
    /// On its way.
    Shipped,
    /// Arrived.
    Delivered,
    /// Cancelled; stock returned if nothing was shipped.
    Cancelled,
}

impl From<DbStatus> for OrderStatus {
    fn from(s: DbStatus) -> Self {
        match s {
            DbStatus::PendingPayment => Self::PendingPayment,
            DbStatus::Paid => Self::Paid,
            DbStatus::Shipped => Self::Shipped,
            DbStatus::Delivered => Self::Delivered,
            DbStatus::Cancelled => Self::Cancelled,
        }
    }
}

impl From<OrderStatus> for DbStatus {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::PendingPayment => Self::PendingPayment,
            OrderStatus::Paid => Self::Paid,
            OrderStatus::Shipped => Self::Shipped,
            OrderStatus::Delivered => Self::Delivered,
            OrderStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// A line of an order, as it was at checkout.
#[derive(SimpleObject)]
pub struct OrderLine {
    /// Stable identifier: what `writeReview` takes.
    pub id: ID,
    /// The product.
    pub product_id: ID,
    /// The variant.
    pub variant_id: ID,
    /// Title in the buyer's language at checkout.
    pub title: String,
    /// SKU, for packing.
    pub sku: String,
    /// Units.
    pub quantity: i32,
    /// Unit price in the order's currency.
    pub unit_price: Money,
    /// Unit price in the shop's currency.
    pub shop_unit_price: Money,
    /// The promotion code's discount on the whole line, in the order's currency.
    pub discount: Money,
}

/// A change of an order's status.
#[derive(SimpleObject)]
pub struct OrderEvent {
    /// The status before; null for placing the order.
    pub from: Option<OrderStatus>,
    /// The status after.
    pub to: OrderStatus,
    /// Who made the change; null for the system.
    pub actor_id: Option<ID>,
    /// Why, if said.
    pub note: Option<String>,
    /// When (UTC).
    pub at: DateTime<Utc>,
}

/// The channel an order came through.
#[derive(SimpleObject)]
pub struct OrderAttribution {
    /// `utm_source`, lower case.
    pub utm_source: Option<String>,
    /// `utm_medium`, lower case.
    pub utm_medium: Option<String>,
    /// `utm_campaign`, lower case.
    pub utm_campaign: Option<String>,
    /// The referring site's host name.
    pub referrer: Option<String>,
}

/// One item on a CN22/CN23 customs declaration.
#[derive(SimpleObject)]
pub struct CustomsItem {
    /// Description in English.
    pub description: String,
    /// Harmonized System code.
    pub hs_code: Option<String>,
    /// ISO 3166-1 alpha-2 country of origin.
    pub origin_country: String,
    /// Units.
    pub quantity: i32,
    /// Net weight of all units, in grams.
    pub weight_grams: Option<i32>,
    /// Value of all units, in the order's currency.
    pub value: Money,
}

/// What a CN22/CN23 customs declaration needs.
#[derive(SimpleObject)]
pub struct CustomsDeclaration {
    /// One entry per line.
    pub items: Vec<CustomsItem>,
    /// Total weight in grams (lines without a weight are left out).
    pub total_weight_grams: i32,
    /// Total declared value of the goods.
    pub total_value: Money,
}

/// One shop's part of a checkout.
pub struct Order(pub order_rows::Model, pub View);

impl Order {
    async fn lines_of(&self, ctx: &Context<'_>) -> Result<Vec<order_lines::Model>> {
        let loaders = crate::kit::data::<OrderLoaders>(ctx)?;
        Ok(crate::kit::loaders::many(&loaders.lines, self.0.id).await?)
    }
}

/// One shop's part of a checkout, with prices and address as they were when it was placed.
#[Object]
impl Order {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Human number, e.g. DK-2026-000123.
    async fn number(&self) -> &str {
        &self.0.number
    }
    /// Where the order is in its life.
    async fn status(&self) -> OrderStatus {
        self.0.status.into()
    }
    /// The checkout (payment) this order belongs to.
    async fn checkout_id(&self) -> ID {
        ID(self.0.checkout_id.to_string())
    }
    /// The shop fulfilling it.
    async fn shop(&self, ctx: &Context<'_>) -> Result<Shop> {
        let loaders = ctx.data::<Loaders>()?;
        let shop = crate::kit::loaders::one(&loaders.shops, self.0.shop_id)
            .await?
            .ok_or_else(|| AppError::NotFound("shop missing".into()))?;
        Ok(Shop(shop, self.1.clone()))
    }
    /// Sum of the lines, in the buyer's currency.
    async fn subtotal(&self) -> Money {
        money(self.0.subtotal_minor, &self.0.currency)
    }
    /// Shipping, in the buyer's currency.
    async fn shipping(&self) -> Money {
        money(self.0.shipping_minor, &self.0.currency)
    }
    /// The promotion code's discount, in the buyer's currency, frozen at checkout.
    async fn discount(&self) -> Money {
        money(self.0.discount_minor, &self.0.currency)
    }
    /// The same discount in the shop's currency.
    async fn shop_discount(&self) -> Money {
        money(self.0.shop_discount_minor, &self.0.shop_currency)
    }
    /// Who pays for the discount: the shop (its sale is lower) or the platform (the shop is
    /// credited as if there were none). Null without a discount.
    async fn discount_funded_by(&self) -> Option<crate::graphql::promotions::FundedBy> {
        crate::graphql::promotions::FundedBy::parse(self.0.discount_funded_by.as_deref())
    }
    /// Where the buyer came from (UTM tags and referring site), as on the cart at checkout;
    /// null for a direct visit.
    async fn attribution(&self) -> Option<OrderAttribution> {
        let o = &self.0;
        let any = o.utm_source.is_some()
            || o.utm_medium.is_some()
            || o.utm_campaign.is_some()
            || o.referrer.is_some();
        any.then(|| OrderAttribution {
            utm_source: o.utm_source.clone(),
            utm_medium: o.utm_medium.clone(),
            utm_campaign: o.utm_campaign.clone(),
            referrer: o.referrer.clone(),
        })
    }
    /// What the buyer pays for this order: subtotal − discount + shipping.
    async fn total(&self) -> Money {
        money(self.0.total_minor, &self.0.currency)
    }
    /// The same total in the shop's currency, at the locked rate.
    async fn shop_total(&self) -> Money {
        money(self.0.shop_total_minor, &self.0.shop_currency)
    }
    /// The rate from the shop's to the buyer's currency locked at checkout, as an exact fraction.
    async fn exchange_rate(&self) -> &str {
        &self.0.exchange_rate
    }
    /// Where it goes.
    async fn shipping_address(&self) -> Result<Address> {
        let a: address_rows::Model = serde_json::from_str(&self.0.shipping_address)
            .map_err(|e| AppError::Internal(e.into()))?;
        Ok(a.into())
    }
    /// What to pack.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<OrderLine>> {
        let (cur, shop_cur) = (&self.0.currency, &self.0.shop_currency);
        Ok(self
            .lines_of(ctx)
            .await?
            .into_iter()
            .map(|l| OrderLine {
                id: ID(l.id.to_string()),
                product_id: ID(l.product_id.to_string()),
                variant_id: ID(l.variant_id.to_string()),
                title: l.title,
                sku: l.sku,
                quantity: l.quantity,
                unit_price: money(l.unit_price_minor, cur),
                shop_unit_price: money(l.shop_unit_price_minor, shop_cur),
                discount: money(l.discount_minor, cur),
            })
            .collect())
    }
    /// Every status change, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<OrderEvent>> {
        let loaders = crate::kit::data::<OrderLoaders>(ctx)?;
        let rows = crate::kit::loaders::many(&loaders.events, self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(|e| OrderEvent {
                from: e.from_status.map(Into::into),
                to: e.to_status.into(),
                actor_id: e.actor_id.map(|a| ID(a.to_string())),
                note: e.note,
                at: e.created_at,
            })
            .collect())
    }
    /// The carrier, once shipped.
    async fn carrier(&self) -> Option<&str> {
        self.0.carrier.as_deref()
    }
    /// The tracking number, once shipped.
    async fn tracking_number(&self) -> Option<&str> {
        self.0.tracking_number.as_deref()
    }
    /// The carrier's tracking page, for carriers the platform knows.
    async fn tracking_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let state = ctx.data::<crate::state::AppState>()?;
        let (Some(carrier), Some(number)) = (&self.0.carrier, &self.0.tracking_number) else {
            return Ok(None);
        };
        Ok(crate::orders::lifecycle::tracking(&state.settings.orders.carriers, carrier, number).1)
    }
    /// For an order paid by bank transfer: the account, amount for the whole checkout,
    /// reference and deadline, in the request's language. Null for card payments.
    async fn bank_transfer(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::graphql::payments::BankTransferInstructions>> {
        let state = ctx.data::<crate::state::AppState>()?;
        let loaders = crate::kit::data::<PaymentLoaders>(ctx)?;
        let Some(checkout) =
            crate::kit::loaders::one(&loaders.checkouts, self.0.checkout_id).await?
        else {
            return Ok(None);
        };
        let language = self.1.languages.first().map_or("en", String::as_str);
        Ok(
            crate::payments::bank::instructions(state, &checkout, self.0.expires_at, language)
                .map(Into::into),
        )
    }
    /// What a customs declaration needs.
    async fn customs(&self, ctx: &Context<'_>) -> Result<CustomsDeclaration> {
        let lines = self.lines_of(ctx).await?;
        let cur = &self.0.currency;
        let total_weight = lines
            .iter()
            .filter_map(|l| l.weight_grams.map(|w| w * l.quantity))
            .sum();
        let total_value: i64 = lines
            .iter()
            .map(|l| l.unit_price_minor * i64::from(l.quantity))
            .sum();
        Ok(CustomsDeclaration {
            items: lines
                .into_iter()
                .map(|l| CustomsItem {
                    description: l.title_en,
                    hs_code: l.hs_code,
                    origin_country: l.origin_country,
                    quantity: l.quantity,
                    weight_grams: l.weight_grams.map(|w| w * l.quantity),
                    value: money(l.unit_price_minor * i64::from(l.quantity), cur),
                })
                .collect(),
            total_weight_grams: total_weight,
            total_value: money(total_value, cur),
        })
    }
    /// When it was placed (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When an unpaid order expires (UTC).
    async fn expires_at(&self) -> DateTime<Utc> {
        self.0.expires_at
    }
    /// When payment was confirmed (UTC).
    async fn paid_at(&self) -> Option<DateTime<Utc>> {
        self.0.paid_at
    }
    /// When it was marked delivered (UTC); its money reaches the shop's available balance a
    /// holding period later.
    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
    /// Refunded so far, in the buyer's currency.
    async fn refunded(&self) -> Money {
        money(self.0.refunded_minor, &self.0.currency)
    }
    /// The platform's commission on this order in basis points, frozen when it was placed.
    async fn commission_basis_points(&self) -> i32 {
        self.0.commission_bps
    }
    /// The checkout's payment (shared by all its orders), once one was started.
    async fn payment(&self, ctx: &Context<'_>) -> Result<Option<Payment>> {
        use crate::auth::CallerExt;
        let loaders = crate::kit::data::<PaymentLoaders>(ctx)?;
        // Whoever may read the order is one of its parties; `Party::of` says which.
        let caller = ctx.current_user()?;
        let shop =
            crate::kit::loaders::one(&crate::kit::data::<Loaders>(ctx)?.shops, self.0.shop_id)
                .await?
                .ok_or_else(|| AppError::NotFound("no such shop".into()))?;
        let viewer = Party::of(caller, &self.0, shop.owner_id).unwrap_or(Party::Shop);
        let payment = crate::kit::loaders::one(&loaders.payments, self.0.checkout_id).await?;
        Ok(payment.map(|p| Payment(p, viewer)))
    }
    /// Refunds of this order, oldest first.
    async fn refunds(&self, ctx: &Context<'_>) -> Result<Vec<Refund>> {
        let loaders = crate::kit::data::<PaymentLoaders>(ctx)?;
        let rows = crate::kit::loaders::many(&loaders.refunds, self.0.id).await?;
        Ok(rows.into_iter().map(Refund).collect())
    }
}

/// How the buyer pays.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PaymentMethod {
    /// Bank transfer; an admin confirms receipt.
    BankTransfer,
    /// Card through Stripe: `placeOrder` returns the PaymentIntent's client secret.
    Card,
}

/// Result of `addAddress`.
#[derive(SimpleObject)]
pub struct AddressPayload {
    /// The new address.
    pub address: Address,
}

/// Result of `removeAddress`.
#[derive(SimpleObject)]
pub struct RemoveAddressPayload {
    /// True once removed.
    pub success: bool,
}

/// Result of `saveShippingProfile`.
#[derive(SimpleObject)]
pub struct ShippingProfilePayload {
    /// The profile as saved.
    pub profile: ShippingProfile,
}

/// Result of `placeOrder`.
#[derive(SimpleObject)]
pub struct PlaceOrderPayload {
    /// The checkout: one payment for all its orders.
    pub checkout_id: ID,
    /// One order per shop.
    pub orders: Vec<Order>,
    /// What the buyer pays in all.
    pub total: crate::graphql::catalog::Money,
    /// For CARD: the Stripe PaymentIntent to confirm on the client. Null for bank transfers.
    pub payment: Option<CardPayment>,
    /// For BANK_TRANSFER: where to send the money and the reference to quote. Null for cards.
    pub bank_transfer: Option<crate::graphql::payments::BankTransferInstructions>,
}

/// Result of an order change.
#[derive(SimpleObject)]
pub struct OrderPayload {
    /// The order after the change.
    pub order: Order,
}
