//! What an account proves through its mailbox: email verification and password reset. Each
//! link carries a random single-use token that is stored only as its SHA-256 hash.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{password, service};
use crate::throttle;
use crate::{
    auth::CurrentUser,
    entities::{account_tokens, users},
    error::{AppError, AppResult},
    events::DomainEvent,
    outbox::{self, Kind, Notice},
    state::AppState,
    tokens,
};

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "VERIFY_EMAIL",
            Purpose::ResetPassword => "RESET_PASSWORD",
        }
    }

    fn lifetime(self) -> Duration {
        match self {
            Purpose::VerifyEmail => Duration::days(7),
            Purpose::ResetPassword => Duration::hours(1),
        }
    }

    fn kind(self) -> Kind {
        match self {
            Purpose::VerifyEmail => Kind::VerifyEmail,
            Purpose::ResetPassword => Kind::PasswordReset,
        }
    }
}

const THROTTLE_WINDOW_SECS: u64 = 3600;

/// Issues a token for `purpose` and queues the email carrying it, in the caller's
/// transaction. Earlier unused tokens of the same purpose stop working: only the newest
/// link in the mailbox counts.
async fn send_link(db: &impl ConnectionTrait, user: Uuid, purpose: Purpose) -> AppResult<()> {
    let now = Utc::now();
    account_tokens::Entity::update_many()
        .col_expr(account_tokens::Column::UsedAt, Expr::value(Some(now)))
        .filter(account_tokens::Column::UserId.eq(user))
        .filter(account_tokens::Column::Purpose.eq(purpose.as_str()))
        .filter(account_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    let token = tokens::generate();
    let id = Uuid::now_v7();
    account_tokens::ActiveModel {
        id: Set(id),
        user_id: Set(user),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(tokens::hash(&token)),
        expires_at: Set(now + purpose.lifetime()),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    // The token leaves the database only in the email; the worker scrubs it once sent.
    let data = json!({ "token": token, "valid_hours": purpose.lifetime().num_hours() });
    outbox::enqueue(db, [Notice::new(purpose.kind(), user, id, data)]).await
}

/// Queues the welcome message and the first verification link of a new account.
pub async fn welcome(db: &impl ConnectionTrait, user: &users::Model) -> AppResult<()> {
    outbox::enqueue(
        db,
        [Notice::new(Kind::Welcome, user.id, user.id, json!({}))],
    )
    .await?;
    send_link(db, user.id, Purpose::VerifyEmail).await
}

/// Counts a request against the email's and the client's hourly allowance.
async fn throttled(
    state: &AppState,
    what: &str,
    email: &str,
    client: Option<&str>,
) -> AppResult<()> {
    let limits = &state.settings.notifications;
    let keys = [
        (
            format!("{what}:email:{email}"),
            limits.reset_requests_per_email,
        ),
        (
            format!("{what}:client:{}", client.unwrap_or("unknown")),
            limits.reset_requests_per_client,
        ),
    ];
    for (key, limit) in keys {
        if let Some(wait) = throttle::attempt(&state.db, &key, limit, THROTTLE_WINDOW_SECS).await? {
            return Err(AppError::TooManyRequests {
                retry_after_secs: wait,
            });
        }
    }
    Ok(())
}

/// Sends a reset link if an account has this email. The answer is the same either way, so
/// nobody learns which addresses have accounts; requests are throttled per email and client.
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(
    state: &AppState,
    email: &str,
    client: Option<&str>,
) -> AppResult<()> {
    let email = service::normalize_email(email)?;
    throttled(state, "reset", &email, client).await?;
    let user = users::Entity::find()
        .filter(users::Column::Email.eq(&email))
        .one(&state.db)
        .await?;
    if let Some(user) = user {
        let txn = crate::db::begin_write(&state.db).await?;
        send_link(&txn, user.id, Purpose::ResetPassword).await?;
        txn.commit().await?;
    }
    Ok(())
}

/// Takes a token for `purpose`: valid, unexpired and unused, and marks it used. The
/// conditional update makes a token good for exactly one of two racing requests.
async fn redeem(
    db: &impl ConnectionTrait,
    token: &str,
    purpose: Purpose,
) -> AppResult<account_tokens::Model> {
    let invalid = || {
        AppError::refused(
            "INVALID_TOKEN",
            match purpose {
                Purpose::ResetPassword => {
                    "this reset link is invalid, used or expired; ask for a new one"
                }
                Purpose::VerifyEmail => {
                    "this verification link is invalid, used or expired; ask for a new one"
                }
            },
        )
        .with_detail("field", "token")
    };
    let now = Utc::now();
    let row = account_tokens::Entity::find()
        .filter(account_tokens::Column::TokenHash.eq(tokens::hash(token.trim())))
        .filter(account_tokens::Column::Purpose.eq(purpose.as_str()))
        .one(db)
        .await?
        .ok_or_else(invalid)?;
    if row.used_at.is_some() || row.expires_at <= now {
        return Err(invalid());
    }
    let taken = account_tokens::Entity::update_many()
        .col_expr(account_tokens::Column::UsedAt, Expr::value(Some(now)))
        .filter(account_tokens::Column::Id.eq(row.id))
        .filter(account_tokens::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    if taken.rows_affected != 1 {
        return Err(invalid());
    }
    Ok(row)
}

/// Sets a new password with a reset token, and ends every session of the account: refresh
/// tokens stop working and open sockets close. The mailbox is proven, so it counts as
/// verified too.
#[tracing::instrument(skip_all)]
pub async fn reset_password(state: &AppState, token: &str, new: &str) -> AppResult<users::Model> {
    password::validate("newPassword", new)?;
    let hash = password::hash(new.to_owned()).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = redeem(&txn, token, Purpose::ResetPassword).await?;
    let user = users::Entity::find_by_id(row.user_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("this account no longer exists".into()))?;
    let now = Utc::now();
    let verified = user.email_verified_at.unwrap_or(now);
    let mut active: users::ActiveModel = user.into();
    active.password_hash = Set(hash);
    active.email_verified_at = Set(Some(verified));
    active.updated_at = Set(now);
    let user = active.update(&txn).await?;
    service::revoke_all(&txn, user.id).await?;
    txn.commit().await?;
    service::sessions_ended(state, user.id, None).await;
    Ok(user)
}

/// Marks the account's email verified with the token from its link.
#[tracing::instrument(skip_all)]
pub async fn verify_email(state: &AppState, token: &str) -> AppResult<users::Model> {
    let txn = crate::db::begin_write(&state.db).await?;
    let row = redeem(&txn, token, Purpose::VerifyEmail).await?;
    let user = users::Entity::find_by_id(row.user_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("this account no longer exists".into()))?;
    let user = if user.email_verified_at.is_none() {
        let mut active: users::ActiveModel = user.into();
        active.email_verified_at = Set(Some(Utc::now()));
        active.updated_at = Set(Utc::now());
        active.update(&txn).await?
    } else {
        user
    };
    txn.commit().await?;
    state
        .events
        .publish(DomainEvent::ProfileUpdated { user_id: user.id })
        .await;
    Ok(user)
}

/// Sends the caller a new verification link; `CONFLICT` when already verified.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn resend_verification(
    state: &AppState,
    caller: CurrentUser,
    client: Option<&str>,
) -> AppResult<()> {
    let user = service::me(&state.db, caller).await?;
    if user.email_verified_at.is_some() {
        return Err(AppError::Conflict(
            "this email address is already verified".into(),
        ));
    }
    throttled(state, "verify", &user.email, client).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    send_link(&txn, user.id, Purpose::VerifyEmail).await?;
    txn.commit().await?;
    Ok(())
}
