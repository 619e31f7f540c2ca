//! Expiring unpaid orders: a background sweep that cancels orders past their payment window
//! and gives their stock back. Several servers may sweep at once: each cancellation is a
//! conditional update, so exactly one of them cancels a given order.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::{lifecycle, state::Party};
use crate::{
    entities::orders::{self, OrderStatus},
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
