//! Expiring unpaid orders: a background sweep that cancels orders past their payment window
//! and gives their stock back. Several servers may sweep at once: each cancellation is a
//! conditional update, so exactly one of them cancels a given order.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, Query},
};
use uuid::Uuid;

use super::{lifecycle, state::Party};
use crate::{
    entities::{
        checkouts,
        orders::{self, OrderStatus},
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// What one sweep did.
#[derive(Debug, Default)]
pub struct Expired {
    /// Orders this call cancelled.
    pub cancelled: usize,
    /// The checkouts of the overdue orders, whose payments may now be due for less or nothing
    /// (the composition root hands them to payments).
    pub checkouts: BTreeSet<Uuid>,
}

/// Cancels up to 100 overdue unpaid orders.
pub async fn expire_due(state: &AppState) -> AppResult<Expired> {
    let due = orders::Entity::find()
        .filter(orders::Column::Status.eq(OrderStatus::PendingPayment))
        .filter(orders::Column::ExpiresAt.lt(Utc::now()))
        .order_by_asc(orders::Column::ExpiresAt)
        .limit(100)
        .all(&state.db)
        .await?;
    let mut cancelled = 0;
    let mut checkouts = BTreeSet::new();
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
    Ok(Expired {
        cancelled,
        checkouts,
    })
}

/// Queues the reminder for bank-transfer checkouts whose window closes within the configured
/// hours, once each: the conditional update of `reminded_at` lets one server win.
pub async fn remind_due(state: &AppState) -> AppResult<usize> {
    let now = Utc::now();
    let soon = now + chrono::Duration::hours(state.settings.orders.bank_transfer_reminder_hours);
    let due: Vec<Uuid> = orders::Entity::find()
        .select_only()
        .column(orders::Column::CheckoutId)
        .filter(orders::Column::Status.eq(OrderStatus::PendingPayment))
        .filter(orders::Column::ExpiresAt.gt(now))
        .filter(orders::Column::ExpiresAt.lte(soon))
        .filter(
            orders::Column::CheckoutId.in_subquery(
                Query::select()
                    .column(checkouts::Column::Id)
                    .from(checkouts::Entity)
                    .and_where(checkouts::Column::PaymentMethod.eq("BANK_TRANSFER"))
                    .and_where(checkouts::Column::RemindedAt.is_null())
                    .to_owned(),
            ),
        )
        .distinct()
        .limit(100)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut reminded = 0;
    for checkout_id in due {
        let txn = crate::db::begin_write(&state.db).await?;
        let claimed = checkouts::Entity::update_many()
            .col_expr(checkouts::Column::RemindedAt, Expr::value(Some(now)))
            .filter(checkouts::Column::Id.eq(checkout_id))
            .filter(checkouts::Column::RemindedAt.is_null())
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1
            && let Some(checkout) = checkouts::Entity::find_by_id(checkout_id).one(&txn).await?
        {
            super::notices::reminder(&txn, &checkout).await?;
            reminded += 1;
        }
        txn.commit().await?;
    }
    Ok(reminded)
}

/// Brings a checkout's expired, never-paid orders back to PENDING_PAYMENT in the caller's
/// transaction, taking their stock again (`OUT_OF_STOCK`, and nothing changes, if any line
/// is short). Orders still waiting are returned as they are; paid ones are refused.
pub async fn reinstate_in(
    txn: &sea_orm::DatabaseTransaction,
    checkout: &checkouts::Model,
    actor: Uuid,
) -> AppResult<Vec<orders::Model>> {
    let all = orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout.id))
        .order_by_asc(orders::Column::Id)
        .all(txn)
        .await?;
    let mut waiting = Vec::with_capacity(all.len());
    for order in all {
        match order.status {
            OrderStatus::PendingPayment => waiting.push(order),
            OrderStatus::Cancelled => {
                let note = Some("reinstated: the bank transfer arrived after the window".into());
                let order = lifecycle::apply_in(
                    txn,
                    order,
                    OrderStatus::PendingPayment,
                    Party::Admin,
                    Some(actor),
                    note,
                    None,
                )
                .await?;
                waiting.push(order);
            }
            _ => {
                return Err(AppError::Conflict(format!(
                    "order {} is already paid; nothing to reinstate",
                    order.number
                )));
            }
        }
    }
    Ok(waiting)
}
