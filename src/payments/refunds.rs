//! Refunds: an admin, or the shop for a paid order not yet shipped, gives money back in full
//! or in part. Card payments go through Stripe's Refund API (idempotent per refund); bank
//! transfers are recorded. The ledger is reversed, stock returns when nothing was shipped,
//! and a fully refunded unshipped order is cancelled.
//!
//! The amount is reserved on the order first (a conditional update, so two refunds can never
//! exceed what was paid), then Stripe is asked outside any transaction, then `settle_in`
//! applies the answer. A crash or an outage in between leaves a REQUESTED refund that Stripe's
//! `refund.updated` webhook settles, or that `payments::resubmit_stale` sends again with the same key.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::{ledger, of_checkout};
use crate::{
    auth::CurrentUser,
    entities::{
        checkouts,
        ledger_entries::EntryKind,
        orders::{self, OrderStatus},
        payments::Provider,
        refunds::{self, RefundMethod, RefundStatus},
    },
    error::{AppError, AppResult},
    money,
    orders::{
        lifecycle::{self, apply_in, order_for},
        state::Party,
    },
    state::AppState,
};

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub order_id: Uuid,
    /// In the order's (buyer's) currency; `None` refunds all that is left.
    pub amount_minor: Option<i64>,
    pub reason: Option<String>,
    /// The bank's reference, for bank-transfer orders.
    pub reference: Option<String>,
}

/// Refunds (part of) an order; returns the refund and the order after it.
#[tracing::instrument(skip_all, fields(user = %caller.id, order = %request.order_id))]
pub async fn refund_order(
    state: &AppState,
    caller: CurrentUser,
    request: RefundRequest,
) -> AppResult<(refunds::Model, orders::Model)> {
    let (order, party) = order_for(&state.db, caller, request.order_id).await?;
    may_refund(&order, party)?;
    let remaining = order.total_minor - order.refunded_minor;
    if remaining <= 0 {
        // Typically a second refund racing the first: a state clash, not a bad amount.
        return Err(AppError::Conflict(
            "the order has been refunded in full already".into(),
        ));
    }
    let amount = request.amount_minor.unwrap_or(remaining);
    if amount <= 0 || amount > remaining {
        return Err(AppError::invalid(
            "amountMinor",
            format!("the amount must be between 1 and {remaining} (what is left to refund)"),
        ));
    }
    let reason = clean(request.reason, 500);
    let reference = clean(request.reference, 200);
    let checkout = checkouts::Entity::find_by_id(order.checkout_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("order without checkout")))?;
    let payment = of_checkout(&state.db, checkout.id).await?;
    let card = payment
        .as_ref()
        .is_some_and(|p| p.provider == Provider::Stripe);
    let intent = match (&payment, card) {
        (Some(p), true) => {
            state.stripe()?;
            Some(p.provider_ref.clone().unwrap_or_default())
        }
        _ => None,
    };
    let (shop_amount, shop_commission) = shares(&state.db, &order, amount, remaining).await?;

    let txn = crate::db::begin_write(&state.db).await?;
    // Write first: the reservation decides between racing refunds on both databases.
    let reserved = orders::Entity::update_many()
        .col_expr(
            orders::Column::RefundedMinor,
            Expr::col(orders::Column::RefundedMinor).add(amount),
        )
        .filter(orders::Column::Id.eq(order.id))
        .filter(orders::Column::RefundedMinor.eq(order.refunded_minor))
        .filter(orders::Column::Status.eq(order.status))
        .exec(&txn)
        .await?
        .rows_affected;
    if reserved != 1 {
        return Err(AppError::Conflict(
            "the order changed meanwhile; reload it".into(),
        ));
    }
    crate::rollups::statistics_due(&txn, order.id).await?;
    let now = Utc::now();
    let refund = refunds::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(order.id),
        checkout_id: Set(checkout.id),
        method: Set(if card {
            RefundMethod::Stripe
        } else {
            RefundMethod::BankTransfer
        }),
        status: Set(RefundStatus::Requested),
        amount_minor: Set(amount),
        currency: Set(order.currency.clone()),
        shop_amount_minor: Set(shop_amount),
        shop_commission_minor: Set(shop_commission),
        shop_currency: Set(order.shop_currency.clone()),
        provider_ref: Set(if card { None } else { reference.clone() }),
        reason: Set(reason),
        actor_id: Set(Some(caller.id)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;

    let Some(intent) = intent else {
        let settled = settle_in(&txn, &refund, reference, RefundStatus::Succeeded).await?;
        txn.commit().await?;
        return finish(state, refund.id, order.id, settled).await;
    };
    txn.commit().await?;
    let settled = submit(state, &refund, &intent).await?;
    finish(state, refund.id, order.id, settled).await
}

/// Asks Stripe for a recorded refund (always with the key `refund-{id}`) and applies the
/// answer. A refusal fails the refund and is returned; an outage leaves it REQUESTED, to be
/// sent again by `payments::resubmit_stale` or settled by Stripe's webhook if it did go through.
async fn submit(
    state: &AppState,
    refund: &refunds::Model,
    intent: &str,
) -> AppResult<Option<orders::Model>> {
    let metadata = HashMap::from([
        ("refund_id".to_owned(), refund.id.to_string()),
        ("order_id".to_owned(), refund.order_id.to_string()),
        ("checkout_id".to_owned(), refund.checkout_id.to_string()),
    ]);
    let key = format!("refund-{}", refund.id);
    let answer = state
        .stripe()?
        .refund(intent, refund.amount_minor, metadata, &key)
        .await;
    let (provider_ref, to) = match &answer {
        Ok(r) => (Some(r.id.clone()), from_stripe(&r.status)),
        Err(e) if e.code() == "PAYMENT_PROVIDER_UNAVAILABLE" => return Ok(None),
        Err(_) => (None, RefundStatus::Failed),
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let settled = settle_in(&txn, refund, provider_ref, to).await?;
    txn.commit().await?;
    answer?;
    Ok(settled)
}

/// Sends again the card refunds Stripe did not answer, last touched before `before`.
pub async fn resubmit(state: &AppState, before: chrono::DateTime<Utc>) -> AppResult<usize> {
    use sea_orm::QuerySelect;
    let stale = refunds::Entity::find()
        .filter(refunds::Column::Status.eq(RefundStatus::Requested))
        .filter(refunds::Column::Method.eq(RefundMethod::Stripe))
        .filter(refunds::Column::UpdatedAt.lt(before))
        .limit(50)
        .all(&state.db)
        .await?;
    let mut done = 0;
    for refund in stale {
        let intent = of_checkout(&state.db, refund.checkout_id)
            .await?
            .and_then(|p| p.provider_ref)
            .unwrap_or_default();
        match submit(state, &refund, &intent).await {
            Ok(settled) => {
                done += 1;
                if let Some(order) = settled {
                    lifecycle::published(state, &order).await;
                }
            }
            Err(e) => {
                tracing::warn!(refund = %refund.id, code = e.code(), "refund refused on resubmission")
            }
        }
    }
    Ok(done)
}

/// Cancels an order for its buyer, shop or an admin; a paid order is refunded in full, which
/// cancels it and returns its stock.
pub async fn cancel_order(
    state: &AppState,
    caller: CurrentUser,
    order_id: Uuid,
    note: Option<String>,
) -> AppResult<orders::Model> {
    let (order, _) = order_for(&state.db, caller, order_id).await?;
    if order.status == OrderStatus::Paid {
        let request = RefundRequest {
            order_id,
            amount_minor: None,
            reason: note.or_else(|| Some("order cancelled".into())),
            reference: None,
        };
        return Ok(refund_order(state, caller, request).await?.1);
    }
    let order =
        lifecycle::transition(state, caller, order_id, OrderStatus::Cancelled, note, None).await?;
    super::card::resync(state, order.checkout_id).await;
    Ok(order)
}

/// Who may refund what: admins any paid, shipped or delivered order; the shop only while it
/// has not shipped; buyers never (they ask the shop).
fn may_refund(order: &orders::Model, party: Party) -> AppResult<()> {
    if !matches!(
        order.status,
        OrderStatus::Paid | OrderStatus::Shipped | OrderStatus::Delivered
    ) {
        return Err(AppError::Conflict(
            "only paid orders can be refunded".into(),
        ));
    }
    match party {
        Party::Admin | Party::System => Ok(()),
        Party::Shop if order.status == OrderStatus::Paid => Ok(()),
        Party::Shop => Err(AppError::Forbidden(
            "a shipped order is refunded by the marketplace's support".into(),
        )),
        Party::Buyer => Err(AppError::Forbidden(
            "buyers ask the shop or support for a refund".into(),
        )),
    }
}

/// The shop's part of a refund and the commission returned with it, in the shop's currency.
/// The last refund takes exactly what is left, so rounding never leaves a remainder.
async fn shares(
    db: &impl ConnectionTrait,
    order: &orders::Model,
    amount: i64,
    remaining: i64,
) -> AppResult<(i64, i64)> {
    let commission = -ledger::order_sum(db, order.id, &[EntryKind::Commission]).await?;
    // What the shop was credited: with a platform-funded discount, more than the buyer paid.
    let credited = ledger::credited(order);
    let earlier: Vec<refunds::Model> = refunds::Entity::find()
        .filter(refunds::Column::OrderId.eq(order.id))
        .filter(refunds::Column::Status.ne(RefundStatus::Failed))
        .all(db)
        .await?;
    let overflow = || AppError::Internal(anyhow::anyhow!("refund share overflow"));
    if amount == remaining {
        let shop: i64 = earlier.iter().map(|r| r.shop_amount_minor).sum();
        let fee: i64 = earlier.iter().map(|r| r.shop_commission_minor).sum();
        return Ok((credited - shop, commission - fee));
    }
    let shop = money::share(credited, amount, order.total_minor).ok_or_else(overflow)?;
    let fee = money::share(commission, amount, order.total_minor).ok_or_else(overflow)?;
    Ok((shop, fee))
}

/// Our state for Stripe's refund `status`.
pub fn from_stripe(status: &str) -> RefundStatus {
    match status {
        "succeeded" => RefundStatus::Succeeded,
        "failed" | "canceled" => RefundStatus::Failed,
        _ => RefundStatus::Pending,
    }
}

/// Applies the provider's answer to a refund, once. Returns the order when it changed.
///
/// REQUESTED → PENDING/SUCCEEDED writes the ledger reversal, returns stock and cancels a fully
/// refunded unshipped order; REQUESTED → FAILED releases the reservation; PENDING → SUCCEEDED
/// only records it; an accepted refund that later fails is reversed and flagged for review.
pub async fn settle_in(
    txn: &DatabaseTransaction,
    refund: &refunds::Model,
    provider_ref: Option<String>,
    to: RefundStatus,
) -> AppResult<Option<orders::Model>> {
    let current = refunds::Entity::find_by_id(refund.id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("no such refund".into()))?;
    let from = current.status;
    let accepted = |s| matches!(s, RefundStatus::Pending | RefundStatus::Succeeded);
    let moves = match (from, to) {
        (RefundStatus::Requested, _) => to != RefundStatus::Requested,
        (RefundStatus::Pending, RefundStatus::Succeeded | RefundStatus::Failed) => true,
        (RefundStatus::Succeeded, RefundStatus::Failed) => true,
        _ => false,
    };
    if !moves {
        return Ok(None);
    }
    let mut update = refunds::Entity::update_many()
        .col_expr(refunds::Column::Status, Expr::value(to))
        .col_expr(refunds::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(refunds::Column::Id.eq(refund.id))
        .filter(refunds::Column::Status.eq(from));
    if let Some(r) = provider_ref {
        update = update.col_expr(refunds::Column::ProviderRef, Expr::value(Some(r)));
    }
    if update.exec(txn).await?.rows_affected != 1 {
        return Ok(None);
    }
    let order = orders::Entity::find_by_id(current.order_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("refund without order")))?;
    if from == RefundStatus::Requested && accepted(to) {
        return apply_accepted(txn, &current, order).await.map(Some);
    }
    if to == RefundStatus::Failed {
        release(txn, &current).await?;
        if accepted(from) {
            // The money was booked as returned; book it back and let an admin look.
            reverse_ledger(txn, &current, &order, 1).await?;
            super::reviews::flag(
                txn,
                current.checkout_id,
                &format!("refund {} failed after Stripe accepted it", current.id),
            )
            .await?;
        }
    }
    Ok(None)
}

async fn apply_accepted(
    txn: &DatabaseTransaction,
    refund: &refunds::Model,
    order: orders::Model,
) -> AppResult<orders::Model> {
    reverse_ledger(txn, refund, &order, -1).await?;
    crate::outbox::enqueue(
        txn,
        [crate::outbox::Notice::new(
            crate::outbox::Kind::Refunded,
            order.buyer_id,
            refund.id,
            serde_json::json!({
                "order_id": order.id,
                "amount_minor": refund.amount_minor,
                "currency": refund.currency,
                "audience": "buyer",
            }),
        )],
    )
    .await?;
    let amount = money_text(refund.amount_minor, &refund.currency);
    let fully = order.refunded_minor >= order.total_minor;
    if fully && order.status == OrderStatus::Paid {
        let note = Some(format!("refunded in full ({amount})"));
        return apply_in(
            txn,
            order,
            OrderStatus::Cancelled,
            Party::System,
            refund.actor_id,
            note,
            None,
        )
        .await;
    }
    let note = if fully {
        format!("refunded in full ({amount})")
    } else {
        format!("refunded {amount}")
    };
    lifecycle::record_event(
        txn,
        order.id,
        Some(order.status),
        order.status,
        refund.actor_id,
        Some(note),
    )
    .await?;
    Ok(order)
}

/// Writes the refund's ledger entries, the shop's and the platform's, with `sign` −1 (money
/// returned to the buyer) or +1 (booking a failed refund back).
async fn reverse_ledger(
    txn: &DatabaseTransaction,
    refund: &refunds::Model,
    order: &orders::Model,
    sign: i64,
) -> AppResult<()> {
    ledger::reverse_platform(
        txn,
        order,
        refund.id,
        refund.amount_minor,
        refund.shop_commission_minor,
        sign,
    )
    .await?;
    for (kind, amount) in [
        (EntryKind::Refund, sign * refund.shop_amount_minor),
        (
            EntryKind::CommissionRefund,
            -sign * refund.shop_commission_minor,
        ),
    ] {
        if amount == 0 {
            continue;
        }
        ledger::write(
            txn,
            ledger::NewEntry {
                order,
                kind,
                amount_minor: amount,
                refund_id: Some(refund.id),
                payout_id: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// Gives a failed refund's reservation back to the order.
async fn release(txn: &DatabaseTransaction, refund: &refunds::Model) -> AppResult<()> {
    orders::Entity::update_many()
        .col_expr(
            orders::Column::RefundedMinor,
            Expr::col(orders::Column::RefundedMinor).sub(refund.amount_minor),
        )
        .filter(orders::Column::Id.eq(refund.order_id))
        .exec(txn)
        .await?;
    crate::rollups::statistics_due(txn, refund.order_id).await
}

async fn finish(
    state: &AppState,
    refund_id: Uuid,
    order_id: Uuid,
    changed: Option<orders::Model>,
) -> AppResult<(refunds::Model, orders::Model)> {
    let refund = refunds::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such refund".into()))?;
    let order = orders::Entity::find_by_id(order_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such order".into()))?;
    if changed.is_some() {
        lifecycle::published(state, &order).await;
        // Stock may have come back; anonymous catalogue answers must not hide it.
        lifecycle::stock_moved(state, &[order.id]).await;
    }
    Ok((refund, order))
}

fn clean(text: Option<String>, max: usize) -> Option<String> {
    text.map(|t| t.trim().chars().take(max).collect::<String>())
        .filter(|t| !t.is_empty())
}

fn money_text(minor: i64, currency: &str) -> String {
    match money::Currency::parse(currency) {
        Some(c) => format!("{} {}", money::Money::new(minor, c).amount(), c.code()),
        None => format!("{minor} {currency}"),
    }
}
