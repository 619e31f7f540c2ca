//! Inputs of the promotions GraphQL.

use async_graphql::{ID, InputObject};
use chrono::{DateTime, Utc};

/// A new promotion code. An admin's code is paid for by the platform (optionally limited to
/// one shop); a shop's code names its shop and is paid for by the shop.
#[derive(InputObject)]
pub struct CreatePromotionCodeInput {
    /// 3 to 40 letters, digits, '-' or '_'; stored upper case and unique.
    pub code: String,
    /// What it offers, at most 200 characters.
    pub description: Option<String>,
    /// The shop it is for (required for a shop's own code).
    pub shop_id: Option<ID>,
    /// A percentage off, 1 to 100; or give `amount`.
    pub percent_off: Option<i32>,
    /// A fixed amount off as a decimal string in `currency`; or give `percentOff`.
    pub amount: Option<String>,
    /// ISO 4217 currency of `amount` and `minSubtotal`.
    pub currency: Option<String>,
    /// The least the covered lines must come to, in `currency`.
    pub min_subtotal: Option<String>,
    /// When it becomes usable; default now.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it stops being usable; default never.
    pub ends_at: Option<DateTime<Utc>>,
    /// Most checkouts it may be used for.
    pub max_uses: Option<i32>,
    /// Most checkouts one buyer may use it for.
    pub max_uses_per_buyer: Option<i32>,
    /// Only for a buyer's first order.
    #[graphql(default)]
    pub first_order_only: bool,
    /// Limited to this category and those below it.
    pub category_id: Option<ID>,
    /// Limited to this collection's products.
    pub collection_id: Option<ID>,
    /// Limited to these products (at most 500).
    #[graphql(default)]
    pub product_ids: Vec<ID>,
}

/// Switching a code on or off.
#[derive(InputObject)]
pub struct SetPromotionCodeActiveInput {
    /// The code's id.
    pub promotion_id: ID,
    /// False: buyers can no longer apply it (carts that hold it lose the discount).
    pub active: bool,
}
