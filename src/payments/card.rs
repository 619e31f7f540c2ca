//! Card checkouts: one Stripe PaymentIntent per checkout, created with an idempotency key
//! derived from the checkout, so neither a client retry nor a server retry makes a second.

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, SqlErr, sea_query::Expr};
use uuid::Uuid;

use super::of_checkout;
use crate::stripe::Intent;
use crate::{
    auth::CurrentUser,
    entities::{
        checkouts,
        orders::{self, OrderStatus},
        payments::{self, PaymentStatus, Provider},
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// What a client needs to collect the card: the intent's client secret for Stripe.js or the
/// mobile SDKs.
#[derive(Debug, Clone)]
pub struct CardPayment {
    pub payment: payments::Model,
    pub client_secret: Option<String>,
    pub publishable_key: Option<String>,
}

/// Starts (or resumes) the card payment of a checkout.
#[tracing::instrument(skip_all, fields(checkout = %checkout.id))]
pub async fn start(state: &AppState, checkout: &checkouts::Model) -> AppResult<CardPayment> {
    let gateway = state.stripe()?;
    let existing = of_checkout(&state.db, checkout.id).await?;
    let (payment, intent) = match existing {
        Some(payment) if payment.provider == Provider::Stripe => {
            let current = payment.provider_ref.clone().unwrap_or_default();
            let intent = gateway.retrieve_payment_intent(&current).await?;
            let due = due_minor(&state.db, checkout.id).await?;
            // A cancelled intent is replaced while something is still due; when nothing is
            // (all orders cancelled or expired) it stays cancelled.
            if intent.status == "canceled" && due > 0 {
                // Keyed on the cancelled intent, so concurrent retries agree on its successor.
                let key = format!("checkout-{}-pi-after-{current}", checkout.id);
                let intent = create(state, checkout, due, &key).await?;
                payments::Entity::update_many()
                    .col_expr(
                        payments::Column::ProviderRef,
                        Expr::value(Some(intent.id.clone())),
                    )
                    .col_expr(payments::Column::AmountMinor, Expr::value(due))
                    .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
                    .filter(payments::Column::Id.eq(payment.id))
                    .filter(payments::Column::ProviderRef.eq(current))
                    .exec(&state.db)
                    .await?;
                let payment = reload(state, checkout.id).await?;
                (payment, intent)
            } else {
                (payment, intent)
            }
        }
        Some(_) => {
            return Err(AppError::Conflict(
                "this checkout is paid by bank transfer".into(),
            ));
        }
        None => {
            let key = format!("checkout-{}-pi", checkout.id);
            let intent = create(state, checkout, checkout.total_minor, &key).await?;
            let inserted = super::record_card_intent(&state.db, checkout, &intent.id).await;
            // A concurrent retry (or an early webhook) may have written the row first; the
            // idempotency key gave both the same intent.
            let payment = match inserted {
                Ok(p) => p,
                Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                    reload(state, checkout.id).await?
                }
                Err(e) => return Err(e.into()),
            };
            (payment, intent)
        }
    };
    Ok(CardPayment {
        payment,
        client_secret: intent.client_secret,
        publishable_key: gateway.publishable_key.clone(),
    })
}

async fn create(
    state: &AppState,
    checkout: &checkouts::Model,
    amount_minor: i64,
    key: &str,
) -> AppResult<Intent> {
    state
        .stripe()?
        .create_payment_intent(
            amount_minor,
            &checkout.currency,
            &checkout.id.to_string(),
            key,
        )
        .await
}

async fn reload(state: &AppState, checkout_id: Uuid) -> AppResult<payments::Model> {
    of_checkout(&state.db, checkout_id)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("payment row vanished")))
}

/// Brings an unpaid card payment in line with its checkout after orders were cancelled: the
/// intent is lowered to the orders still awaiting payment, or cancelled when none are left,
/// so the buyer is never charged for a cancelled order. Failures are logged, not returned:
/// a payment that still arrives for the old amount is held for review by the webhook.
pub async fn resync(state: &AppState, checkout_id: Uuid) {
    if let Err(err) = try_resync(state, checkout_id).await {
        tracing::warn!(checkout = %checkout_id, code = err.code(), "could not update the card payment: {}", err.message());
    }
}

async fn try_resync(state: &AppState, checkout_id: Uuid) -> AppResult<()> {
    let Some(gateway) = state.stripe.as_deref() else {
        return Ok(());
    };
    let Some(payment) = of_checkout(&state.db, checkout_id).await? else {
        return Ok(());
    };
    if payment.provider != Provider::Stripe || payment.status != PaymentStatus::RequiresPayment {
        return Ok(());
    }
    let intent = payment.provider_ref.clone().unwrap_or_default();
    let due = due_minor(&state.db, checkout_id).await?;
    if due == payment.amount_minor {
        return Ok(());
    }
    if due == 0 {
        gateway
            .cancel_payment_intent(&intent, &format!("checkout-{checkout_id}-cancel-{intent}"))
            .await?;
    } else {
        let key = format!("checkout-{checkout_id}-amount-{intent}-{due}");
        gateway.update_amount(&intent, due, &key).await?;
    }
    payments::Entity::update_many()
        .col_expr(payments::Column::AmountMinor, Expr::value(due))
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::Id.eq(payment.id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// What the orders of a checkout still awaiting payment add up to.
pub async fn due_minor(db: &impl sea_orm::ConnectionTrait, checkout_id: Uuid) -> AppResult<i64> {
    let orders = orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout_id))
        .filter(orders::Column::Status.eq(OrderStatus::PendingPayment))
        .all(db)
        .await?;
    Ok(orders.iter().map(|o| o.total_minor).sum())
}

/// A fresh client secret for a checkout the buyer can still pay.
pub async fn retry(
    state: &AppState,
    caller: CurrentUser,
    checkout_id: Uuid,
) -> AppResult<CardPayment> {
    let checkout = checkouts::Entity::find_by_id(checkout_id)
        .one(&state.db)
        .await?
        .filter(|c| c.buyer_id == caller.id)
        .ok_or_else(|| AppError::NotFound("no such checkout".into()))?;
    if checkout.payment_method != "CARD" {
        return Err(AppError::Conflict(
            "this checkout is paid by bank transfer".into(),
        ));
    }
    if let Some(p) = of_checkout(&state.db, checkout.id).await?
        && p.status != PaymentStatus::RequiresPayment
    {
        return Err(AppError::Conflict(
            "this checkout's payment is complete or under review".into(),
        ));
    }
    let orders = orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout.id))
        .all(&state.db)
        .await?;
    let now = Utc::now();
    // Orders cancelled meanwhile are left out (`resync` lowered the intent); every order
    // still waiting must be within its payment window.
    let waiting: Vec<_> = orders
        .iter()
        .filter(|o| o.status == OrderStatus::PendingPayment)
        .collect();
    let payable = !waiting.is_empty() && waiting.iter().all(|o| o.expires_at > now);
    if !payable {
        return Err(AppError::Conflict(
            "this checkout can no longer be paid; its orders were paid, cancelled or expired"
                .into(),
        ));
    }
    start(state, &checkout).await
}
