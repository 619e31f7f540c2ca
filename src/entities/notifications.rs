//! `notifications`: the outbox and the in-app inbox, one row per (kind, cause, recipient).

use sea_orm::entity::prelude::*;

/// Where a notification's email is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(12))")]
pub enum EmailStatus {
    /// Waiting for the worker (again, after a failed attempt).
    #[sea_orm(string_value = "PENDING")]
    Pending,
    /// Claimed by a worker until `next_attempt_at`; a worker that died leaves it to be retried.
    #[sea_orm(string_value = "SENDING")]
    Sending,
    #[sea_orm(string_value = "SENT")]
    Sent,
    /// The recipient does not want this kind by email; it stays in the inbox.
    #[sea_orm(string_value = "SKIPPED")]
    Skipped,
    /// Gave up after the last attempt; `last_error` says why. Admins may resend.
    #[sea_orm(string_value = "FAILED")]
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub recipient_id: Uuid,
    pub kind: String,
    pub event_key: String,
    /// JSON facts of the cause that the order rows do not hold (a tracking link, a token).
    pub data: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
    pub email_status: EmailStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
