//! The in-app inbox (the same rows as the outbox, minus secret links), what each user wants
//! by email, one-click unsubscribe, and the admins' view of messages that could not be sent.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    Select, Set, sea_query::Expr,
};
use uuid::Uuid;

use super::links;
use crate::{
    auth::CurrentUser,
    entities::{
        notification_preferences as prefs,
        notifications::{self, EmailStatus},
        users::Role,
    },
    error::{AppError, AppResult},
    outbox::Kind,
    state::AppState,
};

/// The topic of marketing email in unsubscribe links.
pub const MARKETING: &str = "MARKETING";

/// What a user wants by email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    /// Optional kinds not sent by email (they still reach the inbox).
    pub muted: Vec<Kind>,
    pub marketing_email: bool,
}

fn inbox_kinds() -> Vec<&'static str> {
    Kind::ALL
        .into_iter()
        .filter(|k| k.in_inbox())
        .map(Kind::as_str)
        .collect()
}

/// The caller's inbox, for a connection (newest first), optionally unread only.
pub fn inbox(caller: CurrentUser, unread_only: bool) -> Select<notifications::Entity> {
    let mut select = notifications::Entity::find()
        .filter(notifications::Column::RecipientId.eq(caller.id))
        .filter(notifications::Column::Kind.is_in(inbox_kinds()));
    if unread_only {
        select = select.filter(notifications::Column::ReadAt.is_null());
    }
    select
}

pub async fn unread_count(db: &impl ConnectionTrait, caller: CurrentUser) -> AppResult<i64> {
    Ok(inbox(caller, true).count(db).await? as i64)
}

/// One notification of the caller's inbox.
pub async fn one(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
    id: Uuid,
) -> AppResult<notifications::Model> {
    inbox(caller, false)
        .filter(notifications::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such notification".into()))
}

/// Marks the given notifications (or, with `None`, all) of the caller read. Others' ids are
/// ignored, so nothing is learnt from them. Returns how many changed.
pub async fn mark_read(
    state: &AppState,
    caller: CurrentUser,
    ids: Option<Vec<Uuid>>,
) -> AppResult<u64> {
    if ids.as_ref().is_some_and(|ids| ids.len() > 100) {
        return Err(AppError::invalid(
            "ids",
            "at most 100 notifications at a time",
        ));
    }
    let mut update = notifications::Entity::update_many()
        .col_expr(notifications::Column::ReadAt, Expr::value(Some(Utc::now())))
        .filter(notifications::Column::RecipientId.eq(caller.id))
        .filter(notifications::Column::ReadAt.is_null());
    if let Some(ids) = ids {
        update = update.filter(notifications::Column::Id.is_in(ids));
    }
    Ok(update.exec(&state.db).await?.rows_affected)
}

/// The user's preferences; the defaults when never set.
pub async fn preferences(db: &impl ConnectionTrait, user: Uuid) -> AppResult<Preferences> {
    let Some(row) = prefs::Entity::find_by_id(user).one(db).await? else {
        return Ok(Preferences::default());
    };
    let names: Vec<String> = serde_json::from_str(&row.muted).unwrap_or_default();
    Ok(Preferences {
        muted: names.iter().filter_map(|n| Kind::parse(n)).collect(),
        marketing_email: row.marketing_email,
    })
}

/// Whether `user` turned `kind` off by email.
pub async fn muted(db: &impl ConnectionTrait, user: Uuid, kind: Kind) -> AppResult<bool> {
    Ok(preferences(db, user).await?.muted.contains(&kind))
}

async fn store(db: &impl ConnectionTrait, user: Uuid, p: &Preferences) -> AppResult<()> {
    let mut names: Vec<&str> = p.muted.iter().map(|k| k.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    let row = prefs::ActiveModel {
        user_id: Set(user),
        muted: Set(serde_json::json!(names).to_string()),
        marketing_email: Set(p.marketing_email),
        updated_at: Set(Utc::now()),
    };
    let exists = prefs::Entity::find_by_id(user).one(db).await?.is_some();
    if exists {
        row.update(db).await?;
    } else {
        row.insert(db).await?;
    }
    Ok(())
}

/// Changes what the caller gets by email. Messages about money, delivery and account
/// security cannot be muted (`BAD_USER_INPUT` naming the kind).
pub async fn set_preferences(
    state: &AppState,
    caller: CurrentUser,
    muted: Option<Vec<Kind>>,
    marketing_email: Option<bool>,
) -> AppResult<Preferences> {
    let txn = crate::db::begin_write(&state.db).await?;
    let mut current = preferences(&txn, caller.id).await?;
    if let Some(muted) = muted {
        if let Some(essential) = muted.iter().find(|k| !k.optional()) {
            return Err(AppError::invalid(
                "muted",
                format!(
                    "{} messages are always sent; only NEW_ORDER, ORDER_DELIVERED, WELCOME and REVIEW_INVITATION can be turned off",
                    essential.as_str()
                ),
            ));
        }
        current.muted = muted;
    }
    if let Some(marketing) = marketing_email {
        current.marketing_email = marketing;
    }
    store(&txn, caller.id, &current).await?;
    txn.commit().await?;
    preferences(&state.db, caller.id).await
}

/// Applies a signed one-click unsubscribe link: that kind is muted, or marketing turned off.
pub async fn unsubscribe(state: &AppState, token: &str) -> AppResult<()> {
    let (user, topic) = links::verify_unsubscribe(state, token)
        .ok_or_else(|| AppError::invalid("token", "this unsubscribe link is not valid"))?;
    let txn = crate::db::begin_write(&state.db).await?;
    let mut current = preferences(&txn, user).await?;
    if topic == MARKETING {
        current.marketing_email = false;
    } else {
        let kind = Kind::parse(&topic)
            .filter(|k| k.optional())
            .ok_or_else(|| AppError::invalid("token", "this unsubscribe link is not valid"))?;
        if !current.muted.contains(&kind) {
            current.muted.push(kind);
        }
    }
    store(&txn, user, &current).await?;
    txn.commit().await?;
    Ok(())
}

/// Messages that could not be delivered (or, with `all`, every message), newest first.
/// Admins only.
pub fn delivery_log(
    caller: CurrentUser,
    status: Option<EmailStatus>,
) -> AppResult<Select<notifications::Entity>> {
    caller.require_role(&[Role::Admin])?;
    let mut select = notifications::Entity::find();
    if let Some(status) = status {
        select = select.filter(notifications::Column::EmailStatus.eq(status));
    }
    Ok(select)
}

/// Queues a message again for delivery now. Admins only. A message whose link was already
/// sent cannot be resent (its token left the database); the user asks for a new link.
pub async fn resend(
    state: &AppState,
    caller: CurrentUser,
    id: Uuid,
) -> AppResult<notifications::Model> {
    caller.require_role(&[Role::Admin])?;
    let txn = crate::db::begin_write(&state.db).await?;
    let row = notifications::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("no such notification".into()))?;
    if matches!(
        row.email_status,
        EmailStatus::Pending | EmailStatus::Sending
    ) {
        return Err(AppError::Conflict(
            "this message is already on its way".into(),
        ));
    }
    if row.data.contains("\"token_sent\"") {
        return Err(AppError::Conflict(
            "this link was sent already and is no longer stored; the user can ask for a new one"
                .into(),
        ));
    }
    let mut active: notifications::ActiveModel = row.into();
    active.email_status = Set(EmailStatus::Pending);
    active.attempts = Set(0);
    active.next_attempt_at = Set(Utc::now());
    active.last_error = Set(None);
    let row = active.update(&txn).await?;
    txn.commit().await?;
    Ok(row)
}
