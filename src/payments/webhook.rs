//! `POST /webhooks/stripe`: the signature is checked over the raw body before anything is
//! parsed; each event is processed at most once (its id is stored in the same transaction as
//! its effect) and in any order; unknown types are acknowledged and ignored.

use axum::{
    Json,
    body::Bytes,
    http::HeaderMap,
    response::{IntoResponse, Response},
};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use stripe_webhook::{Event, EventObject, WebhookError};
use uuid::Uuid;

use super::{of_checkout, refunds};
use crate::{
    entities::{
        checkouts,
        orders::{self, OrderStatus},
        payments::{self, PaymentStatus},
        refunds::{self as refund_rows, RefundStatus},
        shops, webhook_events,
    },
    error::{AppError, AppResult, OnConflict},
    orders::{lifecycle, state::Party},
    state::AppState,
};

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Processed,
    /// Seen before; nothing done.
    Duplicate,
    /// Not a type we act on, or not about anything of ours.
    Ignored,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Self::Processed => "processed",
            Self::Duplicate => "duplicate",
            Self::Ignored => "ignored",
        }
    }
}

pub async fn handle(state: AppState, headers: HeaderMap, body: Bytes) -> Response {
    let Some(gateway) = state.stripe.as_deref() else {
        return AppError::NotFound("card payments are not configured".into()).into_response();
    };
    let Some(signature) = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
    else {
        return rejected("missing Stripe-Signature header");
    };
    let Ok(body) = std::str::from_utf8(&body) else {
        return rejected("the body is not UTF-8");
    };
    let event = match gateway.verify(body, signature) {
        Ok(event) => event,
        Err(WebhookError::BadParse(why)) => {
            // Signed by Stripe but unreadable to us: answer 400 so Stripe retries and the
            // failure shows on the dashboard instead of the event being lost.
            tracing::error!(why, "signed Stripe event could not be parsed");
            return rejected("the event could not be parsed");
        }
        Err(err) => {
            tracing::warn!(error = %err, "Stripe webhook refused");
            return rejected("invalid signature");
        }
    };
    let (id, kind) = (event.id.to_string(), event.type_.as_str().to_owned());
    match process(&state, event).await {
        Ok(outcome) => {
            metrics::counter!("stripe_webhooks_total", "outcome" => outcome.as_str()).increment(1);
            tracing::info!(
                event = id,
                kind,
                outcome = outcome.as_str(),
                "Stripe webhook"
            );
            Json(serde_json::json!({ "received": true, "outcome": outcome.as_str() }))
                .into_response()
        }
        Err(err) => {
            metrics::counter!("stripe_webhooks_total", "outcome" => "failed").increment(1);
            // Stripe retries anything but 2xx, which is what a failed transaction needs; the
            // error's own mapping logs an internal cause.
            tracing::warn!(event = id, kind, code = err.code(), "Stripe webhook failed");
            err.into_response()
        }
    }
}

fn rejected(why: &'static str) -> Response {
    metrics::counter!("stripe_webhooks_total", "outcome" => "rejected").increment(1);
    AppError::invalid("Stripe-Signature", why).into_response()
}

/// Processes a verified event.
pub async fn process(state: &AppState, event: Event) -> AppResult<Outcome> {
    let claim = Claim {
        id: event.id.to_string(),
        kind: event.type_.as_str().to_owned(),
    };
    match event.data.object {
        EventObject::PaymentIntentSucceeded(pi) => succeeded(state, claim, &pi).await,
        EventObject::PaymentIntentPaymentFailed(pi) => failed(state, claim, &pi).await,
        EventObject::ChargeRefunded(charge) => {
            let Some(intent) = charge.payment_intent.as_ref().map(|p| p.id().to_string()) else {
                return Ok(Outcome::Ignored);
            };
            charge_refunded(state, claim, &intent, charge.amount_refunded).await
        }
        EventObject::RefundCreated(r)
        | EventObject::RefundUpdated(r)
        | EventObject::RefundFailed(r)
        | EventObject::ChargeRefundUpdated(r) => {
            let ours = r
                .metadata
                .as_ref()
                .and_then(|m| m.get("refund_id"))
                .and_then(|id| Uuid::parse_str(id).ok());
            let status = r.status.clone().unwrap_or_default();
            refund_updated(state, claim, ours, r.id.as_str(), &status).await
        }
        EventObject::AccountUpdated(account) => {
            let enabled = account.payouts_enabled.unwrap_or(false);
            let shop = account
                .metadata
                .as_ref()
                .and_then(|m| m.get("shop_id"))
                .and_then(|id| Uuid::parse_str(id).ok());
            account_updated(state, claim, account.id.as_str(), shop, enabled).await
        }
        _ => Ok(Outcome::Ignored),
    }
}

/// The event id, written first in each transaction: a duplicate hits the primary key and
/// changes nothing.
struct Claim {
    id: String,
    kind: String,
}

impl Claim {
    async fn take(&self, txn: &DatabaseTransaction) -> AppResult<bool> {
        let inserted = webhook_events::ActiveModel {
            id: Set(self.id.clone()),
            event_type: Set(self.kind.chars().take(100).collect()),
            processed_at: Set(Utc::now()),
        }
        .insert(txn)
        .await
        .on_conflict("duplicate");
        match inserted {
            Ok(_) => Ok(true),
            Err(AppError::Conflict(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// The checkout an intent pays for: from its metadata, else from our payment row.
async fn checkout_of(
    db: &impl ConnectionTrait,
    pi: &stripe_core::PaymentIntent,
) -> AppResult<Option<checkouts::Model>> {
    let from_metadata = pi
        .metadata
        .get("checkout_id")
        .and_then(|id| Uuid::parse_str(id).ok());
    let id = match from_metadata {
        Some(id) => Some(id),
        None => payments::Entity::find()
            .filter(payments::Column::ProviderRef.eq(pi.id.as_str()))
            .one(db)
            .await?
            .map(|p| p.checkout_id),
    };
    match id {
        Some(id) => Ok(checkouts::Entity::find_by_id(id).one(db).await?),
        None => Ok(None),
    }
}

/// The checkout's card payment row, written now if the webhook beat `placeOrder` to it.
async fn payment_row(
    txn: &DatabaseTransaction,
    checkout: &checkouts::Model,
    intent: &str,
) -> AppResult<payments::Model> {
    if let Some(p) = of_checkout(txn, checkout.id).await? {
        return Ok(p);
    }
    Ok(super::record_card_intent(txn, checkout, intent).await?)
}

/// The open transaction for an intent's event with its checkout and payment, or the outcome
/// when the intent is not ours or the event was seen before.
async fn open_for_intent(
    state: &AppState,
    claim: &Claim,
    pi: &stripe_core::PaymentIntent,
) -> AppResult<Result<(DatabaseTransaction, checkouts::Model, payments::Model), Outcome>> {
    let Some(checkout) = checkout_of(&state.db, pi).await? else {
        return Ok(Err(Outcome::Ignored));
    };
    let txn = crate::db::begin_write(&state.db).await?;
    if !claim.take(&txn).await? {
        return Ok(Err(Outcome::Duplicate));
    }
    // Two events about one checkout (e.g. two deliveries of a success under different event
    // ids) take turns here; what the second reads is what the first committed, so a paid
    // checkout is seen as paid, never as "orders no longer awaiting payment". SQLite's
    // immediate transactions already take turns.
    let checkout = checkouts::Entity::find_by_id(checkout.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("no such checkout".into()))?;
    let payment = payment_row(&txn, &checkout, pi.id.as_str()).await?;
    Ok(Ok((txn, checkout, payment)))
}

async fn set_payment(
    txn: &DatabaseTransaction,
    payment: &payments::Model,
    status: PaymentStatus,
    intent: &str,
    review_reason: Option<String>,
) -> AppResult<()> {
    payments::Entity::update_many()
        .col_expr(payments::Column::Status, Expr::value(status))
        .col_expr(
            payments::Column::ProviderRef,
            Expr::value(Some(intent.to_owned())),
        )
        .col_expr(payments::Column::ReviewReason, Expr::value(review_reason))
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::Id.eq(payment.id))
        .exec(txn)
        .await?;
    Ok(())
}

/// `payment_intent.succeeded`: the checkout's orders become PAID and each shop's ledger is
/// credited, unless the money does not match the checkout or comes too late (then review).
async fn succeeded(
    state: &AppState,
    claim: Claim,
    pi: &stripe_core::PaymentIntent,
) -> AppResult<Outcome> {
    let (txn, checkout, payment) = match open_for_intent(state, &claim, pi).await? {
        Ok(opened) => opened,
        Err(outcome) => return Ok(outcome),
    };
    let intent = pi.id.as_str();
    if payment.status == PaymentStatus::Succeeded {
        if payment.provider_ref.as_deref() != Some(intent) {
            let why = format!("a second payment {intent} arrived for a paid checkout; refund it");
            super::reviews::flag(&txn, checkout.id, &why).await?;
        }
        txn.commit().await?;
        return Ok(Outcome::Processed);
    }
    // What is due now: the orders still awaiting payment (some may have been cancelled, and
    // the intent lowered to match).
    let waiting = orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout.id))
        .filter(orders::Column::Status.eq(OrderStatus::PendingPayment))
        .all(&txn)
        .await?;
    let due: i64 = waiting.iter().map(|o| o.total_minor).sum();
    let currency = pi.currency.to_string();
    let why = if waiting.is_empty() {
        Some(format!(
            "payment {intent} arrived for orders no longer awaiting payment (expired or cancelled); refund it or restore them"
        ))
    } else if pi.amount_received != due || !currency.eq_ignore_ascii_case(&checkout.currency) {
        Some(format!(
            "Stripe received {} {} but {} {} is due",
            pi.amount_received,
            currency.to_uppercase(),
            due,
            checkout.currency
        ))
    } else {
        None
    };
    if let Some(why) = why {
        tracing::warn!(checkout = %checkout.id, intent, why, "payment held for review");
        set_payment(
            &txn,
            &payment,
            PaymentStatus::Review,
            intent,
            Some(why.clone()),
        )
        .await?;
        let data = serde_json::json!({ "checkout_id": checkout.id, "reason": why });
        let cause = format!("{}:{intent}", payment.id);
        crate::outbox::to_admins(&txn, crate::outbox::Kind::PaymentHeld, cause, data).await?;
        txn.commit().await?;
        return Ok(Outcome::Processed);
    }
    let note = format!("paid by card ({intent})");
    let paid = super::collect::pay_orders_in(&txn, waiting, Party::System, None, note).await?;
    set_payment(&txn, &payment, PaymentStatus::Succeeded, intent, None).await?;
    txn.commit().await?;
    for order in &paid {
        lifecycle::published(state, order).await;
    }
    Ok(Outcome::Processed)
}

/// `payment_intent.payment_failed`: recorded; the checkout stays payable until it expires.
async fn failed(
    state: &AppState,
    claim: Claim,
    pi: &stripe_core::PaymentIntent,
) -> AppResult<Outcome> {
    let (txn, _, payment) = match open_for_intent(state, &claim, pi).await? {
        Ok(opened) => opened,
        Err(outcome) => return Ok(outcome),
    };
    // A late failure of an earlier attempt must not undo a success that arrived first.
    if payment.status == PaymentStatus::RequiresPayment {
        let message = pi
            .last_payment_error
            .as_ref()
            .and_then(|e| e.message.clone())
            .unwrap_or_else(|| "the card payment failed".into());
        payments::Entity::update_many()
            .col_expr(
                payments::Column::Failures,
                Expr::col(payments::Column::Failures).add(1),
            )
            .col_expr(
                payments::Column::LastError,
                Expr::value(Some(message.chars().take(500).collect::<String>())),
            )
            .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(payments::Column::Id.eq(payment.id))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Outcome::Processed)
}

/// `charge.refunded`: Stripe's total must match the refunds we made; more means someone
/// refunded outside Darkhan (e.g. on the dashboard), which an admin must reconcile.
async fn charge_refunded(
    state: &AppState,
    claim: Claim,
    intent: &str,
    amount_refunded: i64,
) -> AppResult<Outcome> {
    let Some(payment) = payments::Entity::find()
        .filter(payments::Column::ProviderRef.eq(intent))
        .one(&state.db)
        .await?
    else {
        return Ok(Outcome::Ignored);
    };
    let txn = crate::db::begin_write(&state.db).await?;
    if !claim.take(&txn).await? {
        return Ok(Outcome::Duplicate);
    }
    let ours: Vec<i64> = refund_rows::Entity::find()
        .filter(refund_rows::Column::CheckoutId.eq(payment.checkout_id))
        .filter(refund_rows::Column::Status.ne(RefundStatus::Failed))
        .all(&txn)
        .await?
        .iter()
        .map(|r| r.amount_minor)
        .collect();
    let recorded: i64 = ours.iter().sum();
    if amount_refunded > recorded {
        let why = format!(
            "Stripe reports {amount_refunded} refunded on {intent} but Darkhan recorded {recorded}: a refund was made outside Darkhan"
        );
        super::reviews::flag(&txn, payment.checkout_id, &why).await?;
    }
    txn.commit().await?;
    Ok(Outcome::Processed)
}

/// `refund.*` / `charge.refund.updated`: settles our refund with Stripe's status.
async fn refund_updated(
    state: &AppState,
    claim: Claim,
    ours: Option<Uuid>,
    provider_id: &str,
    status: &str,
) -> AppResult<Outcome> {
    let refund = match ours {
        Some(id) => refund_rows::Entity::find_by_id(id).one(&state.db).await?,
        None => {
            refund_rows::Entity::find()
                .filter(refund_rows::Column::ProviderRef.eq(provider_id))
                .one(&state.db)
                .await?
        }
    };
    let Some(refund) = refund else {
        return Ok(Outcome::Ignored);
    };
    let to = refunds::from_stripe(status);
    let txn = crate::db::begin_write(&state.db).await?;
    if !claim.take(&txn).await? {
        return Ok(Outcome::Duplicate);
    }
    let changed = refunds::settle_in(&txn, &refund, Some(provider_id.to_owned()), to).await?;
    txn.commit().await?;
    if let Some(order) = changed {
        lifecycle::published(state, &order).await;
        lifecycle::stock_moved(state, &[order.id]).await;
    }
    Ok(Outcome::Processed)
}

/// `account.updated`: whether a shop's connected account can receive payouts.
/// The shop is found by its stored account or, when the event beat `startPayoutOnboarding` to
/// storing it, by the `shop_id` we put in the account's metadata.
async fn account_updated(
    state: &AppState,
    claim: Claim,
    account: &str,
    shop: Option<Uuid>,
    payouts_enabled: bool,
) -> AppResult<Outcome> {
    let txn = crate::db::begin_write(&state.db).await?;
    if !claim.take(&txn).await? {
        return Ok(Outcome::Duplicate);
    }
    let mut changed = shops::Entity::update_many()
        .col_expr(shops::Column::PayoutsEnabled, Expr::value(payouts_enabled))
        .filter(shops::Column::StripeAccountId.eq(account))
        .exec(&txn)
        .await?
        .rows_affected;
    if let (0, Some(shop)) = (changed, shop) {
        changed = shops::Entity::update_many()
            .col_expr(shops::Column::PayoutsEnabled, Expr::value(payouts_enabled))
            .col_expr(
                shops::Column::StripeAccountId,
                Expr::value(Some(account.to_owned())),
            )
            .filter(shops::Column::Id.eq(shop))
            .filter(shops::Column::StripeAccountId.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
    }
    txn.commit().await?;
    Ok(if changed > 0 {
        Outcome::Processed
    } else {
        Outcome::Ignored
    })
}
