//! Throttling of attempts (sign-ins, password resets, promotion-code guesses) per key, kept in
//! the database so every server behind the load balancer counts against the same allowance.
//!
//! An attempt is counted *before* it is checked, by one atomic upsert per key, so a burst of
//! concurrent guesses gets at most the limit checked, whatever the interleaving. A success
//! may forget a key's count or give one attempt back.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::{
    entities::login_attempts::{self, Column},
    error::AppResult,
};

/// Counts one attempt for `key` in a fixed window of `window_secs` that starts at the first
/// attempt. Returns the seconds to wait when this attempt is beyond `limit`.
pub async fn attempt(
    db: &impl ConnectionTrait,
    key: &str,
    limit: u32,
    window_secs: u64,
) -> AppResult<Option<u64>> {
    let now = Utc::now().timestamp();
    let window = i64::try_from(window_secs).unwrap_or(i64::MAX / 2);
    // The stored row, named with its table: PostgreSQL finds a bare name ambiguous here.
    let stored = |column: Column| Expr::col((login_attempts::Entity, column));
    let expired = stored(Column::WindowStartedAt).lte(now - window);
    let row = login_attempts::Entity::insert(login_attempts::ActiveModel {
        key: Set(key.to_owned()),
        window_started_at: Set(now),
        attempts: Set(1),
    })
    .on_conflict(
        OnConflict::column(Column::Key)
            // Both expressions read the row as it was before this update, on both databases.
            .value(
                Column::Attempts,
                Expr::case(expired.clone(), 1).finally(stored(Column::Attempts).add(1)),
            )
            .value(
                Column::WindowStartedAt,
                Expr::case(expired, now).finally(stored(Column::WindowStartedAt)),
            )
            .to_owned(),
    )
    .exec_with_returning(db)
    .await?;
    let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
    Ok((attempts > limit).then(|| {
        let ends = row.window_started_at.saturating_add(window);
        Ord::max(u64::try_from(ends - now).unwrap_or(0), 1)
    }))
}

/// Counts one attempt against every `(key, limit)` (all of them, so a blocked key does not
/// spare the others), then refuses with `TOO_MANY_REQUESTS` and the longest wait if any is
/// beyond its limit.
pub async fn attempt_all(
    db: &impl ConnectionTrait,
    keys: &[(&str, u32)],
    window_secs: u64,
) -> AppResult<()> {
    let mut blocked = None;
    for (key, limit) in keys {
        let wait = attempt(db, key, *limit, window_secs).await?;
        blocked = Ord::max(blocked, wait);
    }
    match blocked {
        Some(retry_after_secs) => Err(crate::error::AppError::TooManyRequests { retry_after_secs }),
        None => Ok(()),
    }
}

/// Forgets a key, after a successful sign-in by that email.
pub async fn forget(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    login_attempts::Entity::delete_many()
        .filter(Column::Key.eq(key))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives one attempt back, after a success from that client, so an office behind one address
/// is limited by its failures, not by how often its people sign in.
pub async fn give_back(db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
    login_attempts::Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).sub(1))
        .filter(Column::Key.eq(key))
        .filter(Column::Attempts.gt(0))
        .exec(db)
        .await?;
    Ok(())
}
