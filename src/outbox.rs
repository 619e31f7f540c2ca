//! The outbox every domain writes to: a notice is a row in the same transaction as the change
//! that causes it, so a committed change always gets its message and a rolled-back one never
//! does. The notifications domain delivers the rows; this module only records them, so the
//! domains that cause notices never depend on the one that sends them.

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::OnConflict,
};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    entities::{
        notifications::{self, EmailStatus},
        users,
    },
    error::{AppError, AppResult},
};

/// Every kind of message the marketplace sends. The string forms are stored and appear in
/// the API, so they never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// To the buyer: the receipt of a checkout (with bank details for a transfer).
    OrderPlaced,
    /// To a shop: an order came in, awaiting payment.
    NewOrder,
    /// To the buyer (once per checkout) and to each shop (ship it now).
    OrderPaid,
    OrderShipped,
    OrderDelivered,
    OrderCancelled,
    /// An unpaid order's window closed; its stock went back.
    OrderExpired,
    /// To the buyer a day before a bank-transfer order expires.
    PaymentReminder,
    Refunded,
    PayoutSent,
    /// To admins: Stripe holds a payment for review.
    PaymentHeld,
    ShopSuspended,
    Welcome,
    VerifyEmail,
    PasswordReset,
    /// To the buyer after delivery: how was it? A link to review what they received.
    ReviewInvitation,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::OrderPlaced,
        Kind::NewOrder,
        Kind::OrderPaid,
        Kind::OrderShipped,
        Kind::OrderDelivered,
        Kind::OrderCancelled,
        Kind::OrderExpired,
        Kind::PaymentReminder,
        Kind::Refunded,
        Kind::PayoutSent,
        Kind::PaymentHeld,
        Kind::ShopSuspended,
        Kind::Welcome,
        Kind::VerifyEmail,
        Kind::PasswordReset,
        Kind::ReviewInvitation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::OrderPlaced => "ORDER_PLACED",
            Kind::NewOrder => "NEW_ORDER",
            Kind::OrderPaid => "ORDER_PAID",
            Kind::OrderShipped => "ORDER_SHIPPED",
            Kind::OrderDelivered => "ORDER_DELIVERED",
            Kind::OrderCancelled => "ORDER_CANCELLED",
            Kind::OrderExpired => "ORDER_EXPIRED",
            Kind::PaymentReminder => "PAYMENT_REMINDER",
            Kind::Refunded => "REFUNDED",
            Kind::PayoutSent => "PAYOUT_SENT",
            Kind::PaymentHeld => "PAYMENT_HELD",
            Kind::ShopSuspended => "SHOP_SUSPENDED",
            Kind::Welcome => "WELCOME",
            Kind::VerifyEmail => "VERIFY_EMAIL",
            Kind::PasswordReset => "PASSWORD_RESET",
            Kind::ReviewInvitation => "REVIEW_INVITATION",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether the recipient may turn its email off. Money, delivery and account security
    /// always go; news the recipient can also read in the inbox may be muted.
    pub fn optional(self) -> bool {
        matches!(
            self,
            Kind::NewOrder | Kind::OrderDelivered | Kind::Welcome | Kind::ReviewInvitation
        )
    }

    /// Messages that carry a secret link are email only: the inbox never shows them.
    pub fn in_inbox(self) -> bool {
        !matches!(self, Kind::VerifyEmail | Kind::PasswordReset)
    }
}

/// One message to one person.
#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: Kind,
    pub recipient: Uuid,
    /// What caused it, e.g. an order id: (kind, cause, recipient) is sent once.
    pub cause: String,
    /// The facts the stored rows do not hold, as the templates read them.
    pub data: Value,
}

impl Notice {
    pub fn new(kind: Kind, recipient: Uuid, cause: impl ToString, data: Value) -> Self {
        Self {
            kind,
            recipient,
            cause: cause.to_string(),
            data,
        }
    }
}

/// Records notices in the caller's transaction. A notice whose (kind, cause, recipient) was
/// recorded before is dropped, so a retried change never notifies twice.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    notices: impl IntoIterator<Item = Notice>,
) -> AppResult<()> {
    let now = Utc::now();
    let rows: Vec<notifications::ActiveModel> = notices
        .into_iter()
        .map(|notice| notifications::ActiveModel {
            id: Set(Uuid::now_v7()),
            recipient_id: Set(notice.recipient),
            kind: Set(notice.kind.as_str().to_owned()),
            event_key: Set(notice.cause.chars().take(200).collect()),
            data: Set(notice.data.to_string()),
            created_at: Set(now),
            read_at: Set(None),
            email_status: Set(EmailStatus::Pending),
            attempts: Set(0),
            next_attempt_at: Set(now),
            last_error: Set(None),
            sent_at: Set(None),
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    // One statement for all of them: it runs inside the change's write transaction.
    notifications::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([
                notifications::Column::Kind,
                notifications::Column::EventKey,
                notifications::Column::RecipientId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map_err(AppError::from)?;
    Ok(())
}

/// The same notice for every admin.
pub async fn to_admins(
    db: &impl ConnectionTrait,
    kind: Kind,
    cause: impl ToString,
    data: Value,
) -> AppResult<()> {
    let admins: Vec<Uuid> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::Role.eq(users::Role::Admin))
        .into_tuple()
        .all(db)
        .await?;
    let cause = cause.to_string();
    enqueue(
        db,
        admins
            .into_iter()
            .map(|admin| Notice::new(kind, admin, &cause, data.clone())),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_secrets_stay_out_of_the_inbox() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert!(!Kind::PasswordReset.in_inbox());
        assert!(!Kind::PasswordReset.optional());
        assert!(Kind::Welcome.optional());
        assert!(!Kind::OrderPaid.optional());
    }
}
