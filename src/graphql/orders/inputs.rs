//! Input objects of the orders GraphQL.

use super::types::*;
use async_graphql::{ID, InputObject};

/// A new address.
#[derive(InputObject)]
pub struct AddAddressInput {
    /// Recipient's name.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// Flat, building, district.
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// Region or state.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Phone number for the carrier.
    pub phone: Option<String>,
}

/// An address to remove.
#[derive(InputObject)]
pub struct RemoveAddressInput {
    /// The address.
    pub address_id: ID,
}

/// One shipping zone.
#[derive(InputObject)]
pub struct ShippingZoneInput {
    /// Name, e.g. Europe.
    pub name: String,
    /// ISO 3166-1 alpha-2 codes; empty for the rest of the world.
    #[graphql(default)]
    pub countries: Vec<String>,
    /// Cost of the first item in the shop's currency (decimal string).
    pub first_item: String,
    /// Cost of each further item in the shop's currency (decimal string).
    pub additional_item: String,
    /// Fewest days to deliver.
    pub min_days: i32,
    /// Most days to deliver.
    pub max_days: i32,
}

/// A shipping profile with its zones.
#[derive(InputObject)]
pub struct SaveShippingProfileInput {
    /// The shop.
    pub shop_id: ID,
    /// The profile to replace; omit to create one.
    pub profile_id: Option<ID>,
    /// Name, e.g. Small parcels or Furniture.
    pub name: String,
    /// Use it for products that name no profile.
    #[graphql(default)]
    pub is_default: bool,
    /// Every zone; a country may be in one zone of the profile only.
    pub zones: Vec<ShippingZoneInput>,
}

/// A cart change.
#[derive(InputObject)]
pub struct CartLineInput {
    /// The variant.
    pub variant_id: ID,
    /// Units to add (`addToCart`) or to hold (`setCartQuantity`, 0 removes the line).
    pub quantity: i32,
    /// A guest cart's token; guests without one get a new cart and its token back.
    pub cart_token: Option<String>,
    /// ISO 4217 currency to show the returned cart in; default the buyer's preferred one
    /// (MNT for guests).
    pub currency: Option<String>,
    /// ISO 3166-1 alpha-2 destination to quote the returned cart's shipping for.
    pub country: Option<String>,
    /// BCP 47 language of the returned cart's titles.
    pub language: Option<String>,
    /// Where the buyer came from on this visit (from the landing page's address and
    /// `document.referrer`); the last one given is frozen on the orders at checkout.
    pub attribution: Option<AttributionInput>,
}

/// The channel of a visit.
#[derive(InputObject)]
pub struct AttributionInput {
    /// `utm_source`, e.g. `instagram`, `google`.
    pub utm_source: Option<String>,
    /// `utm_medium`, e.g. `social`, `cpc`, `email`.
    pub utm_medium: Option<String>,
    /// `utm_campaign`, e.g. `naadam-2027`.
    pub utm_campaign: Option<String>,
    /// The referring page's address; only its host is kept.
    pub referrer: Option<String>,
}

impl AttributionInput {
    /// The channel a client sent, checked; `None` when it sent none.
    pub fn read(
        input: Option<Self>,
    ) -> crate::error::AppResult<Option<crate::orders::attribution::Attribution>> {
        Ok(input
            .map(|a| {
                crate::orders::attribution::Attribution::parse(
                    a.utm_source.as_deref(),
                    a.utm_medium.as_deref(),
                    a.utm_campaign.as_deref(),
                    a.referrer.as_deref(),
                )
            })
            .transpose()?
            .flatten())
    }
}

/// A promotion code for the cart.
#[derive(InputObject)]
pub struct ApplyPromotionCodeInput {
    /// The code as the buyer typed it (any case).
    pub code: String,
    /// A guest cart's token.
    pub cart_token: Option<String>,
    /// ISO 4217 currency to show the returned cart in.
    pub currency: Option<String>,
    /// ISO 3166-1 alpha-2 destination to quote the returned cart's shipping for.
    pub country: Option<String>,
    /// BCP 47 language of the returned cart's titles.
    pub language: Option<String>,
}

/// Taking the promotion code off the cart.
#[derive(InputObject)]
pub struct RemovePromotionCodeInput {
    /// A guest cart's token.
    pub cart_token: Option<String>,
    /// ISO 4217 currency to show the returned cart in.
    pub currency: Option<String>,
    /// ISO 3166-1 alpha-2 destination to quote the returned cart's shipping for.
    pub country: Option<String>,
    /// BCP 47 language of the returned cart's titles.
    pub language: Option<String>,
}

/// Placing the cart as orders.
#[derive(InputObject)]
pub struct PlaceOrderInput {
    /// One of the buyer's addresses.
    pub address_id: ID,
    /// ISO 4217 currency to pay in.
    pub currency: String,
    /// How the buyer pays.
    pub payment_method: PaymentMethod,
    /// A key the client makes once per checkout attempt; retries with it return the same
    /// checkout and never place a second one.
    pub idempotency_key: String,
    /// BCP 47 language the order's titles are recorded in; default Accept-Language, then
    /// the buyer's preferred language, then the shop's.
    pub language: Option<String>,
}

/// An order to act on, with an optional note.
#[derive(InputObject)]
pub struct OrderActionInput {
    /// The order.
    pub order_id: ID,
    /// Why, for the order's history.
    pub note: Option<String>,
}

/// Marking an order shipped.
#[derive(InputObject)]
pub struct MarkOrderShippedInput {
    /// The order.
    pub order_id: ID,
    /// The carrier, e.g. Mongol Post or DHL.
    pub carrier: String,
    /// The carrier's tracking number.
    pub tracking_number: String,
}
