//! Expiring unpaid orders: a background sweep that cancels orders past their payment window
//! and gives their stock back. Several servers may sweep at once: each cancellation is a
//! conditional update, so exactly one of them cancels a given order.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{lifecycle, state::Party};
use crate::{
    entities::orders::{self, OrderStatus},
    error::{AppError, AppResult},
    state::AppState,
};

/// Cancels up to 100 overdue unpaid orders; returns how many this call cancelled.
pub async fn expire_due(state: &AppState) -> AppResult<usize> {
    let due = orders::Entity::find()
        .filter(orders::Column::Status.eq(OrderStatus::PendingPayment))
        .filter(orders::Column::ExpiresAt.lt(Utc::now()))
        .order_by_asc(orders::Column::ExpiresAt)
        .limit(100)
        .all(&state.db)
        .await?;
    let mut cancelled = 0;
    let mut checkouts = std::collections::BTreeSet::new();
    for order in due {
        checkouts.insert(order.checkout_id);
        let note = Some("payment window expired".to_owned());
        match lifecycle::apply(
            state,
            order,
            OrderStatus::Cancelled,
            Party::System,
            None,
            note,
            None,
        )
        .await
        {
            Ok(_) => cancelled += 1,
            // Paid or cancelled meanwhile, perhaps by another server's sweep.
            Err(AppError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    // Expired card checkouts must not be payable afterwards.
    for checkout in checkouts {
        crate::payments::card::resync(state, checkout).await;
    }
    Ok(cancelled)
}

/// Runs `expire_due` every `every` until the process ends.
pub fn spawn_sweeper(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // Refunds and payout transfers Stripe could not be asked for are sent again.
            let age = chrono::Duration::seconds(60);
            if let Err(e) = crate::payments::resubmit_stale(&state, age).await {
                tracing::warn!(error = ?e, "resubmitting to Stripe failed");
            }
            match expire_due(&state).await {
                Ok(0) => {}
                Ok(n) => {
                    // Stock changed without a mutation; cached pages must not hide it.
                    state.response_cache.invalidate();
                    tracing::info!(cancelled = n, "expired unpaid orders");
                }
                Err(e) => tracing::warn!(error = ?e, "expiring orders failed"),
            }
        }
    })
}
