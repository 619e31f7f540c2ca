//! Root mutation fields of the notifications GraphQL.

use async_graphql::{Context, Object, Result};

use super::{inputs::*, types::*};
use crate::{auth::CallerExt, kit::uuid, notifications::inbox, state::AppState};

#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Marks notifications of the signed-in user read (the given ones, or all).
    async fn mark_notifications_read(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which ones.")] input: MarkNotificationsReadInput,
    ) -> Result<MarkNotificationsReadPayload> {
        let state = ctx.data::<AppState>()?;
        let caller = ctx.current_user()?;
        let ids = input
            .ids
            .map(|ids| crate::kit::uuids("ids", &ids))
            .transpose()?;
        let marked = inbox::mark_read(state, caller, ids).await?;
        Ok(MarkNotificationsReadPayload {
            marked: i32::try_from(marked).unwrap_or(i32::MAX),
            unread_count: inbox::unread_count(&state.db, caller).await?,
        })
    }

    /// Changes what the signed-in user receives by email. Money, delivery and security
    /// messages always go (BAD_USER_INPUT when asked to mute one).
    async fn update_notification_preferences(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateNotificationPreferencesInput,
    ) -> Result<NotificationPreferencesPayload> {
        let state = ctx.data::<AppState>()?;
        let muted = input
            .muted
            .map(|kinds| kinds.into_iter().map(Into::into).collect());
        let preferences =
            inbox::set_preferences(state, ctx.current_user()?, muted, input.marketing_email)
                .await?;
        Ok(NotificationPreferencesPayload {
            preferences: preferences.into(),
        })
    }

    /// Queues a failed (or sent) email again. Admins only.
    async fn resend_notification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The message.")] input: ResendNotificationInput,
    ) -> Result<ResendNotificationPayload> {
        let state = ctx.data::<AppState>()?;
        let id = uuid("notificationId", &input.notification_id)?;
        let row = inbox::resend(state, ctx.current_user()?, id).await?;
        Ok(ResendNotificationPayload {
            delivery: EmailDelivery(row),
        })
    }
}
