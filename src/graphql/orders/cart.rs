//! The cart as clients see it: lines, shops, shipping quotes, its promotion code and what
//! every cart mutation answers.

use async_graphql::{Enum, ID, SimpleObject};

use super::types::money;
use crate::{
    graphql::catalog::Shop,
    kit::{Money, View},
    orders::cart::{LineProblem, PricedCart},
    promotions::Refusal,
};

/// Why a cart line cannot be bought as it stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum CartLineProblem {
    /// The product was withdrawn or its shop suspended.
    Unavailable,
    /// Fewer units are in stock than the cart holds.
    InsufficientStock,
}

/// A line of the cart.
#[derive(SimpleObject)]
pub struct CartLine {
    /// The variant.
    pub variant_id: ID,
    /// The product.
    pub product_id: ID,
    /// Title in the reader's language.
    pub title: String,
    /// Variant SKU.
    pub sku: String,
    /// Units.
    pub quantity: i32,
    /// Units in stock now.
    pub stock: i32,
    /// Price of one unit in the cart's currency: the sale price during a sale.
    pub unit_price: Money,
    /// Price of one unit before any sale (equal to `unitPrice` when there is none).
    pub original_unit_price: Money,
    /// Price of the line in the cart's currency, before the promotion code.
    pub line_total: Money,
    /// The promotion code's discount on this line (zero without one).
    pub discount: Money,
    /// Set when the line cannot be bought as it stands.
    pub problem: Option<CartLineProblem>,
}

/// Shipping from one shop to the destination.
#[derive(SimpleObject)]
pub struct ShippingQuote {
    /// Cost in the cart's currency.
    pub cost: Money,
    /// Fewest days to deliver.
    pub min_days: i32,
    /// Most days to deliver.
    pub max_days: i32,
}

/// One shop's part of the cart.
#[derive(SimpleObject)]
pub struct CartShop {
    /// The shop.
    pub shop: Shop,
    /// Its lines.
    pub lines: Vec<CartLine>,
    /// Sum of the lines.
    pub subtotal: Money,
    /// The promotion code's discount on this shop's lines.
    pub discount: Money,
    /// Shipping to the destination; null when none was given or the shop does not ship there.
    pub shipping: Option<ShippingQuote>,
    /// False when a destination was given and the shop does not ship there.
    pub ships_to_destination: bool,
}

/// The buyer's cart, grouped by shop and priced in one currency.
#[derive(SimpleObject)]
pub struct Cart {
    /// ISO 4217 currency of every amount.
    pub currency: String,
    /// The destination country quoted for, if given.
    pub destination: Option<String>,
    /// One entry per shop.
    pub shops: Vec<CartShop>,
    /// Sum of all lines.
    pub subtotal: Money,
    /// The promotion code's discount on every line; never more than the lines.
    pub discount: Money,
    /// Shipping from every shop; null until every shop can ship to the destination.
    pub shipping: Option<Money>,
    /// What the buyer pays (subtotal − discount + shipping); null until shipping is known.
    pub total: Option<Money>,
    /// The promotion code on the cart, if one was applied.
    pub promotion: Option<CartPromotion>,
}

/// Why a cart's promotion code gives nothing now (it is checked again at checkout).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PromotionProblem {
    /// The code was switched off.
    Unknown,
    /// Its period has not begun.
    NotStarted,
    /// Its period is over.
    Expired,
    /// Its uses, or this buyer's, are used up.
    UsedUp,
    /// Nothing in the cart is covered by it.
    NotApplicable,
    /// The covered lines do not reach its minimum.
    MinimumNotMet,
    /// It is for a first order only.
    FirstOrderOnly,
}

impl From<Refusal> for PromotionProblem {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Unknown => Self::Unknown,
            Refusal::NotStarted => Self::NotStarted,
            Refusal::Expired => Self::Expired,
            Refusal::UsedUp => Self::UsedUp,
            Refusal::NotApplicable => Self::NotApplicable,
            Refusal::MinimumNotMet => Self::MinimumNotMet,
            Refusal::FirstOrderOnly => Self::FirstOrderOnly,
        }
    }
}

/// The promotion code applied to a cart.
#[derive(SimpleObject)]
pub struct CartPromotion {
    /// The code, upper case.
    pub code: String,
    /// What it offers, in the words of whoever created it.
    pub description: Option<String>,
    /// Null while it applies; otherwise why it gives no discount now.
    pub problem: Option<PromotionProblem>,
}

pub fn cart_view(priced: PricedCart, country: Option<String>, view: &View) -> Cart {
    let code = priced.currency.code();
    Cart {
        currency: code.to_owned(),
        shops: priced
            .shops
            .iter()
            .map(|part| CartShop {
                shop: Shop(part.shop.clone(), view.clone()),
                lines: part
                    .lines
                    .iter()
                    .map(|l| CartLine {
                        variant_id: ID(l.variant.id.to_string()),
                        product_id: ID(l.product.id.to_string()),
                        title: l.title.clone(),
                        sku: l.variant.sku.clone(),
                        quantity: l.quantity,
                        stock: l.variant.stock,
                        unit_price: money(l.unit, code),
                        original_unit_price: money(l.list_unit, code),
                        line_total: money(l.amount(), code),
                        discount: money(l.discount, code),
                        problem: l.problem.map(|p| match p {
                            LineProblem::Unavailable => CartLineProblem::Unavailable,
                            LineProblem::InsufficientStock => CartLineProblem::InsufficientStock,
                        }),
                    })
                    .collect(),
                subtotal: money(part.subtotal, code),
                discount: money(part.discount, code),
                shipping: part
                    .shipping
                    .clone()
                    .flatten()
                    .map(|(q, cost)| ShippingQuote {
                        cost: money(cost, code),
                        min_days: q.min_days,
                        max_days: q.max_days,
                    }),
                ships_to_destination: !matches!(part.shipping, Some(None)),
            })
            .collect(),
        subtotal: money(priced.subtotal, code),
        discount: money(priced.discount, code),
        shipping: priced.shipping.map(|s| money(s, code)),
        total: priced.total().map(|t| money(t, code)),
        promotion: priced.promotion.map(|p| CartPromotion {
            code: p.code.code,
            description: p.code.description,
            problem: p.refusal.map(Into::into),
        }),
        destination: country,
    }
}

/// Result of a cart change.
#[derive(SimpleObject)]
pub struct CartPayload {
    /// The cart after the change, in the buyer's preferred currency (MNT for guests).
    pub cart: Cart,
    /// For guests: the token to keep sending as `cartToken` (and to `login` or `register` to
    /// move the cart into the account). Null for signed-in buyers.
    pub cart_token: Option<String>,
}

/// How a cart is shown: in which currency, language, and for which destination.
#[derive(Default)]
pub(super) struct CartShown {
    pub(super) currency: Option<String>,
    pub(super) country: Option<String>,
    pub(super) language: Option<String>,
}
