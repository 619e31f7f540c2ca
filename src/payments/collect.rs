//! Money coming in: a checkout's orders become PAID and each shop's ledger is credited in
//! one transaction, for a confirmed bank transfer (admins) and a card payment (webhook).

use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::{card::CardPayment, ledger};
use crate::{
    auth::CurrentUser,
    entities::{
        checkouts,
        orders::{self, OrderStatus},
    },
    error::{AppError, AppResult},
    orders::{
        checkout::{PaymentMethod, PlaceOrder},
        lifecycle,
        state::Party,
    },
    state::AppState,
};

/// Marks every order of a checkout PAID and credits each shop's ledger, in the caller's
/// transaction: all of them or none. Used for confirmed bank transfers and card webhooks.
pub async fn pay_checkout_in(
    txn: &DatabaseTransaction,
    checkout_id: Uuid,
    party: Party,
    actor: Option<Uuid>,
    note: String,
) -> AppResult<Vec<orders::Model>> {
    let orders = orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout_id))
        .all(txn)
        .await?;
    if orders.is_empty() {
        return Err(AppError::NotFound("no such checkout".into()));
    }
    pay_orders_in(txn, orders, party, actor, note).await
}

/// Marks the given orders PAID and credits their shops' ledgers, in the caller's transaction.
pub async fn pay_orders_in(
    txn: &DatabaseTransaction,
    orders: Vec<orders::Model>,
    party: Party,
    actor: Option<Uuid>,
    note: String,
) -> AppResult<Vec<orders::Model>> {
    let mut paid = Vec::with_capacity(orders.len());
    for order in orders {
        let note = Some(note.clone());
        let order =
            lifecycle::apply_in(txn, order, OrderStatus::Paid, party, actor, note, None).await?;
        ledger::record_sale(txn, &order).await?;
        paid.push(order);
    }
    Ok(paid)
}

/// A placed checkout, its orders, and the card session to pay it with when paying by card.
pub struct Placed {
    pub checkout: checkouts::Model,
    pub orders: Vec<orders::Model>,
    pub card: Option<CardPayment>,
    /// Where to send a bank transfer, in the request's first language.
    pub bank: Option<super::bank::Instructions>,
}

/// `placeOrder`: places the cart (or finds the key's checkout) and, for a card, starts or
/// resumes its PaymentIntent. The order is written before Stripe is asked, so an outage
/// never loses it; a retry with the same key resumes the same intent.
pub async fn place_order(
    state: &AppState,
    caller: CurrentUser,
    input: PlaceOrder,
) -> AppResult<Placed> {
    let language = input
        .languages
        .first()
        .cloned()
        .unwrap_or_else(|| "en".into());
    let checkout = crate::orders::checkout::place_order(state, caller, input).await?;
    let orders = orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout.id))
        .all(&state.db)
        .await?;
    let card = if checkout.payment_method == PaymentMethod::Card.as_str() {
        Some(super::card::start(state, &checkout).await?)
    } else {
        None
    };
    let pay_by = orders.iter().map(|o| o.expires_at).min();
    let bank = pay_by.and_then(|at| super::bank::instructions(state, &checkout, at, &language));
    Ok(Placed {
        checkout,
        orders,
        card,
        bank,
    })
}
