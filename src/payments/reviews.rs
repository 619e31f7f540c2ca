//! Payments an admin must look at: money that did not match what was due, money for orders
//! that had expired, refunds made outside Darkhan, refunds that failed after acceptance.

use chrono::Utc;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use uuid::Uuid;

use crate::{
    auth::CurrentUser,
    entities::{orders, payments, users::Role},
    error::{AppError, AppResult},
    state::AppState,
};

/// Marks a checkout's payment for an admin to review.
pub async fn flag(db: &impl ConnectionTrait, checkout_id: Uuid, reason: &str) -> AppResult<()> {
    tracing::warn!(checkout = %checkout_id, reason, "payment flagged for review");
    payments::Entity::update_many()
        .col_expr(
            payments::Column::ReviewReason,
            Expr::value(Some(reason.chars().take(500).collect::<String>())),
        )
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::CheckoutId.eq(checkout_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Payments waiting for an admin, most recently flagged first. Admins only.
pub async fn list(state: &AppState, caller: CurrentUser) -> AppResult<Vec<payments::Model>> {
    use sea_orm::{QueryOrder, QuerySelect};
    caller.require_role(&[Role::Admin])?;
    Ok(payments::Entity::find()
        .filter(payments::Column::ReviewReason.is_not_null())
        .order_by_desc(payments::Column::UpdatedAt)
        .limit(200)
        .all(&state.db)
        .await?)
}

/// Clears a review once an admin has dealt with it (e.g. refunded the money on Stripe's
/// dashboard), writing what they did into each order's history. Admins only.
pub async fn resolve(
    state: &AppState,
    caller: CurrentUser,
    checkout_id: Uuid,
    note: &str,
) -> AppResult<payments::Model> {
    caller.require_role(&[Role::Admin])?;
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 500 {
        return Err(AppError::invalid(
            "note",
            "say what was done (1 to 500 characters)",
        ));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let cleared = payments::Entity::update_many()
        .col_expr(payments::Column::ReviewReason, Expr::value(None::<String>))
        .col_expr(payments::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(payments::Column::CheckoutId.eq(checkout_id))
        .filter(payments::Column::ReviewReason.is_not_null())
        .exec(&txn)
        .await?
        .rows_affected;
    if cleared != 1 {
        return Err(AppError::NotFound(
            "no payment of that checkout is waiting for review".into(),
        ));
    }
    let orders = orders::Entity::find()
        .filter(orders::Column::CheckoutId.eq(checkout_id))
        .all(&txn)
        .await?;
    for order in &orders {
        let note = format!("payment review resolved: {note}");
        crate::orders::lifecycle::record_event(
            &txn,
            order.id,
            Some(order.status),
            order.status,
            Some(caller.id),
            Some(note),
        )
        .await?;
    }
    let payment = payments::Entity::find()
        .filter(payments::Column::CheckoutId.eq(checkout_id))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("no such payment".into()))?;
    txn.commit().await?;
    Ok(payment)
}
