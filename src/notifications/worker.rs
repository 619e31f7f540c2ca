//! The delivery worker. Each server runs one; they share the outbox safely:
//!
//! 1. **Claim** a batch in one short transaction: due rows (PENDING, or SENDING whose claim
//!    ran out because a worker died) are marked SENDING with a claim that runs out after
//!    `claim_secs`. On PostgreSQL `FOR UPDATE SKIP LOCKED` lets workers on several servers
//!    take disjoint batches without waiting; on SQLite the write lock serialises claims.
//! 2. **Send** outside any transaction, then mark the row SENT, or PENDING again with an
//!    exponential backoff, or FAILED after the last attempt, with the reason.
//!
//! Delivery is at least once: a server killed between sending and marking sends that one
//! message again when the claim runs out, with the same Message-ID. The outbox itself holds
//! one row per (kind, cause, recipient), so no cause is ever announced twice.

use chrono::{Duration, Utc};
use futures_util::StreamExt as _;
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType},
};
use serde_json::Value;
use uuid::Uuid;

use super::{compose, inbox, mailer::Mailer};
use crate::{
    entities::{
        notifications::{self, EmailStatus},
        users,
    },
    error::{AppError, AppResult},
    events::DomainEvent,
    outbox::Kind,
    state::AppState,
};

/// Messages sent in parallel within a batch.
const PARALLEL: usize = 8;

/// Claims and delivers one batch; returns how many rows it handled.
pub async fn deliver_due(state: &AppState, mailer: &Mailer) -> AppResult<usize> {
    let claimed = claim(state).await?;
    let handled = claimed.len();
    futures_util::stream::iter(claimed)
        .for_each_concurrent(PARALLEL, |row| async move {
            let id = row.id;
            if let Err(e) = deliver(state, mailer, row).await {
                tracing::warn!(notification = %id, error = ?e, "delivering a notification failed");
            }
        })
        .await;
    Ok(handled)
}

async fn claim(state: &AppState) -> AppResult<Vec<notifications::Model>> {
    let settings = &state.settings.notifications;
    let now = Utc::now();
    let due = || {
        notifications::Entity::find()
            .filter(
                notifications::Column::EmailStatus
                    .is_in([EmailStatus::Pending, EmailStatus::Sending]),
            )
            .filter(notifications::Column::NextAttemptAt.lte(now))
    };
    // A plain read first: an idle poll must not take SQLite's write lock every second.
    if due().one(&state.db).await?.is_none() {
        return Ok(Vec::new());
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let mut due = due()
        .order_by_asc(notifications::Column::NextAttemptAt)
        .limit(settings.batch_size);
    if state.db.get_database_backend() == DbBackend::Postgres {
        due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let rows = due.all(&txn).await?;
    if rows.is_empty() {
        return Ok(rows);
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    notifications::Entity::update_many()
        .col_expr(
            notifications::Column::EmailStatus,
            Expr::value(EmailStatus::Sending),
        )
        .col_expr(
            notifications::Column::Attempts,
            Expr::col(notifications::Column::Attempts).add(1),
        )
        .col_expr(
            notifications::Column::NextAttemptAt,
            Expr::value(now + Duration::seconds(Ord::max(settings.claim_secs, 1))),
        )
        .filter(notifications::Column::Id.is_in(ids))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(rows
        .into_iter()
        .map(|mut r| {
            r.attempts += 1;
            r
        })
        .collect())
}

async fn deliver(state: &AppState, mailer: &Mailer, row: notifications::Model) -> AppResult<()> {
    let kind = Kind::parse(&row.kind);
    if row.attempts == 1 && kind.is_some_and(Kind::in_inbox) {
        state
            .events
            .publish(DomainEvent::NotificationAdded {
                user_id: row.recipient_id,
                notification_id: row.id,
            })
            .await;
    }
    let Some(recipient) = users::Entity::find_by_id(row.recipient_id)
        .one(&state.db)
        .await?
    else {
        return finish(
            state,
            &row,
            Outcome::Failed("the recipient's account is gone".into()),
        )
        .await;
    };
    if let Some(kind) = kind
        && kind.optional()
        && inbox::muted(&state.db, recipient.id, kind).await?
    {
        return finish(state, &row, Outcome::Skipped).await;
    }
    let outcome = match compose::compose(state, &row, &recipient).await {
        Ok(message) => match mailer
            .send(&state.settings.mail.from, row.id, &message)
            .await
        {
            Ok(()) => Outcome::Sent,
            Err(e) => Outcome::Retry(e),
        },
        Err(AppError::Internal(e)) => Outcome::Retry(format!("{e:#}")),
        Err(e) => Outcome::Retry(e.message()),
    };
    let outcome = match outcome {
        Outcome::Retry(e) if row.attempts >= state.settings.notifications.max_attempts => {
            Outcome::Failed(e)
        }
        other => other,
    };
    finish(state, &row, outcome).await
}

enum Outcome {
    Sent,
    Skipped,
    Retry(String),
    Failed(String),
}

/// Records how the attempt ended, only if this worker still holds the claim.
async fn finish(state: &AppState, row: &notifications::Model, outcome: Outcome) -> AppResult<()> {
    let now = Utc::now();
    let mut update = notifications::Entity::update_many()
        .filter(notifications::Column::Id.eq(row.id))
        .filter(notifications::Column::EmailStatus.eq(EmailStatus::Sending))
        .filter(notifications::Column::Attempts.eq(row.attempts));
    let status = match &outcome {
        Outcome::Sent => EmailStatus::Sent,
        Outcome::Skipped => EmailStatus::Skipped,
        Outcome::Retry(_) => EmailStatus::Pending,
        Outcome::Failed(_) => EmailStatus::Failed,
    };
    update = update.col_expr(notifications::Column::EmailStatus, Expr::value(status));
    match &outcome {
        Outcome::Sent | Outcome::Skipped => {
            update = update
                .col_expr(notifications::Column::SentAt, Expr::value(Some(now)))
                .col_expr(
                    notifications::Column::LastError,
                    Expr::value(None::<String>),
                )
                .col_expr(
                    notifications::Column::Data,
                    Expr::value(scrubbed(&row.data)),
                );
        }
        Outcome::Retry(e) | Outcome::Failed(e) => {
            tracing::warn!(notification = %row.id, attempt = row.attempts, error = %e, "email not sent");
            let backoff = backoff(state.settings.notifications.retry_base_secs, row.attempts);
            update = update
                .col_expr(notifications::Column::LastError, Expr::value(Some(clip(e))))
                .col_expr(
                    notifications::Column::NextAttemptAt,
                    Expr::value(now + backoff),
                );
        }
    }
    update.exec(&state.db).await.map_err(AppError::from)?;
    Ok(())
}

/// The data without the secret of a link: once the email left, the database no longer holds
/// a usable token.
fn scrubbed(data: &str) -> String {
    match serde_json::from_str::<Value>(data) {
        Ok(Value::Object(mut map)) => {
            if map.remove("token").is_some() {
                map.insert("token_sent".into(), true.into());
            }
            Value::Object(map).to_string()
        }
        _ => data.to_owned(),
    }
}

fn clip(error: &str) -> String {
    error.chars().take(500).collect()
}

/// `base × 2^(attempt − 1)`, at most six hours.
pub fn backoff(base_secs: i64, attempt: i32) -> Duration {
    let exp = Ord::min(u32::try_from(attempt.saturating_sub(1)).unwrap_or(0), 20);
    let secs = Ord::max(base_secs, 1).saturating_mul(1_i64 << exp);
    Duration::seconds(Ord::min(secs, 6 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_six_hours() {
        assert_eq!(backoff(30, 1), Duration::seconds(30));
        assert_eq!(backoff(30, 2), Duration::seconds(60));
        assert_eq!(backoff(30, 4), Duration::seconds(240));
        assert_eq!(backoff(30, 30), Duration::hours(6));
    }

    #[test]
    fn secrets_leave_the_database_once_sent() {
        let s = scrubbed(r#"{"token":"abc","valid_hours":1}"#);
        assert!(!s.contains("abc"), "{s}");
        assert!(s.contains("token_sent"));
        assert_eq!(scrubbed("{}"), "{}");
    }
}
