//! Output types of the notifications GraphQL.

use async_graphql::{Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    entities::notifications::{self as rows, EmailStatus as DbEmailStatus},
    notifications::inbox::Preferences,
    outbox::Kind,
};

/// What a notification is about.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum NotificationKind {
    /// A receipt for a new checkout (with bank details for a transfer).
    OrderPlaced,
    /// A shop's new order, awaiting payment.
    NewOrder,
    /// An order was paid (the shop should ship it).
    OrderPaid,
    /// An order is on its way.
    OrderShipped,
    /// An order was delivered.
    OrderDelivered,
    /// An order was cancelled.
    OrderCancelled,
    /// An unpaid order's payment window closed.
    OrderExpired,
    /// A bank-transfer order expires within a day.
    PaymentReminder,
    /// Money went back to the buyer.
    Refunded,
    /// A payout left for the shop.
    PayoutSent,
    /// A payment waits for an admin's review.
    PaymentHeld,
    /// The shop was suspended.
    ShopSuspended,
    /// Welcome to a new account.
    Welcome,
    /// An email verification link (email only).
    VerifyEmail,
    /// A password reset link (email only).
    PasswordReset,
    /// After delivery: an invitation to review what was received.
    ReviewInvitation,
}

impl From<Kind> for NotificationKind {
    fn from(k: Kind) -> Self {
        match k {
            Kind::OrderPlaced => Self::OrderPlaced,
            Kind::NewOrder => Self::NewOrder,
            Kind::OrderPaid => Self::OrderPaid,
            Kind::OrderShipped => Self::OrderShipped,
            Kind::OrderDelivered => Self::OrderDelivered,
            Kind::OrderCancelled => Self::OrderCancelled,
            Kind::OrderExpired => Self::OrderExpired,
            Kind::PaymentReminder => Self::PaymentReminder,
            Kind::Refunded => Self::Refunded,
            Kind::PayoutSent => Self::PayoutSent,
            Kind::PaymentHeld => Self::PaymentHeld,
            Kind::ShopSuspended => Self::ShopSuspended,
            Kind::Welcome => Self::Welcome,
            Kind::VerifyEmail => Self::VerifyEmail,
            Kind::PasswordReset => Self::PasswordReset,
            Kind::ReviewInvitation => Self::ReviewInvitation,
        }
    }
}

impl From<NotificationKind> for Kind {
    fn from(k: NotificationKind) -> Self {
        Kind::ALL
            .into_iter()
            .find(|kind| NotificationKind::from(*kind) == k)
            .unwrap_or(Kind::Welcome)
    }
}

/// Where a notification's email is.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum EmailStatus {
    /// Waiting to be sent (again).
    Pending,
    /// Being sent now.
    Sending,
    /// Handed to the mail server.
    Sent,
    /// Not emailed: the recipient turned this kind off (it stays in the inbox).
    Skipped,
    /// Given up after the last attempt; `lastError` says why. Admins can resend it.
    Failed,
}

impl From<DbEmailStatus> for EmailStatus {
    fn from(s: DbEmailStatus) -> Self {
        match s {
            DbEmailStatus::Pending => Self::Pending,
            DbEmailStatus::Sending => Self::Sending,
            DbEmailStatus::Sent => Self::Sent,
            DbEmailStatus::Skipped => Self::Skipped,
            DbEmailStatus::Failed => Self::Failed,
        }
    }
}

impl From<EmailStatus> for DbEmailStatus {
    fn from(s: EmailStatus) -> Self {
        match s {
            EmailStatus::Pending => Self::Pending,
            EmailStatus::Sending => Self::Sending,
            EmailStatus::Sent => Self::Sent,
            EmailStatus::Skipped => Self::Skipped,
            EmailStatus::Failed => Self::Failed,
        }
    }
}

fn id_in(data: &serde_json::Value, key: &str) -> Option<ID> {
    data.get(key)?.as_str().map(|s| ID(s.to_owned()))
}

/// Something the marketplace told a user, in their inbox.
pub struct Notification(pub rows::Model);

/// Something the marketplace told a user, in their inbox.
#[Object]
impl Notification {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What it is about.
    async fn kind(&self) -> Option<NotificationKind> {
        Kind::parse(&self.0.kind).map(Into::into)
    }
    /// The order it is about, if any.
    async fn order_id(&self) -> Option<ID> {
        id_in(&self.data(), "order_id")
    }
    /// The checkout it is about, if any.
    async fn checkout_id(&self) -> Option<ID> {
        id_in(&self.data(), "checkout_id")
    }
    /// When it happened (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Whether the user has read it.
    async fn read(&self) -> bool {
        self.0.read_at.is_some()
    }
    /// When the user read it (UTC).
    async fn read_at(&self) -> Option<DateTime<Utc>> {
        self.0.read_at
    }
    /// Where its email is.
    async fn email_status(&self) -> EmailStatus {
        self.0.email_status.into()
    }
}

impl Notification {
    fn data(&self) -> serde_json::Value {
        serde_json::from_str(&self.0.data).unwrap_or_default()
    }
}

/// One message in the delivery log, as admins see it.
pub struct EmailDelivery(pub rows::Model);

/// One message in the delivery log, as admins see it.
#[Object]
impl EmailDelivery {
    /// The notification's id (resend with it).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// What it is about.
    async fn kind(&self) -> Option<NotificationKind> {
        Kind::parse(&self.0.kind).map(Into::into)
    }
    /// The user it is for.
    async fn recipient_id(&self) -> ID {
        ID(self.0.recipient_id.to_string())
    }
    /// Where it is.
    async fn status(&self) -> EmailStatus {
        self.0.email_status.into()
    }
    /// Attempts so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// Why the last attempt failed.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When it was queued (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was handed to the mail server (UTC).
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
}

/// What a user receives by email.
#[derive(SimpleObject)]
pub struct NotificationPreferences {
    /// Optional kinds the user does not want by email (they still reach the inbox).
    pub muted: Vec<NotificationKind>,
    /// Kinds that may be muted; everything else (money, delivery, security) always goes.
    pub optional: Vec<NotificationKind>,
    /// Whether the user opted in to marketing email.
    pub marketing_email: bool,
}

impl From<Preferences> for NotificationPreferences {
    fn from(p: Preferences) -> Self {
        Self {
            muted: p.muted.into_iter().map(Into::into).collect(),
            optional: Kind::ALL
                .into_iter()
                .filter(|k| k.optional())
                .map(Into::into)
                .collect(),
            marketing_email: p.marketing_email,
        }
    }
}

/// Result of `updateNotificationPreferences`.
#[derive(SimpleObject)]
pub struct NotificationPreferencesPayload {
    /// The preferences now.
    pub preferences: NotificationPreferences,
}

/// Result of `markNotificationsRead`.
#[derive(SimpleObject)]
pub struct MarkNotificationsReadPayload {
    /// How many notifications changed from unread to read.
    pub marked: i32,
    /// Unread notifications left.
    pub unread_count: i64,
}

/// Result of `resendNotification`.
#[derive(SimpleObject)]
pub struct ResendNotificationPayload {
    /// The message, queued again.
    pub delivery: EmailDelivery,
}
