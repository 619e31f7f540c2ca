//! Input objects of the notifications GraphQL.

use async_graphql::{ID, InputObject};

use super::types::NotificationKind;

/// Which notifications to mark read.
#[derive(InputObject)]
pub struct MarkNotificationsReadInput {
    /// These (at most 100); omitted: all of the caller's.
    pub ids: Option<Vec<ID>>,
}

/// Changes to what the caller receives by email; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateNotificationPreferencesInput {
    /// The optional kinds not to email (replaces the list). Essential kinds are refused.
    pub muted: Option<Vec<NotificationKind>>,
    /// Opt in to (or out of) marketing email.
    pub marketing_email: Option<bool>,
}

/// A message to send again.
#[derive(InputObject)]
pub struct ResendNotificationInput {
    /// The notification.
    pub notification_id: ID,
}
