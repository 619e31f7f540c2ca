//! Root query fields of the notifications GraphQL.

use async_graphql::{Context, ID, Object, Result};

use super::types::*;
use crate::{
    auth::CallerExt,
    entities::notifications,
    kit::{pagination, uuid},
    notifications::inbox,
    state::AppState,
};

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The signed-in user's inbox, newest first.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the unread ones.")] unread_only: Option<bool>,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<Notification>> {
        let state = ctx.data::<AppState>()?;
        let select = inbox::inbox(ctx.current_user()?, unread_only.unwrap_or(false));
        let page = pagination::PageArgs::new(first, after, last, before)?.newest_first();
        let page = pagination::by_id(&state.db, select, notifications::Column::Id, page).await?;
        Ok(page.into_connection(|n| n.id, Notification))
    }

    /// One notification of the signed-in user's inbox.
    async fn notification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The notification.")] id: ID,
    ) -> Result<Notification> {
        let state = ctx.data::<AppState>()?;
        let id = uuid("id", &id)?;
        Ok(Notification(
            inbox::one(&state.db, ctx.current_user()?, id).await?,
        ))
    }

    /// How many notifications the signed-in user has not read.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let state = ctx.data::<AppState>()?;
        Ok(inbox::unread_count(&state.db, ctx.current_user()?).await?)
    }

    /// What the signed-in user receives by email.
    async fn notification_preferences(&self, ctx: &Context<'_>) -> Result<NotificationPreferences> {
        let state = ctx.data::<AppState>()?;
        Ok(inbox::preferences(&state.db, ctx.current_user()?.id)
            .await?
            .into())
    }

    /// Every email the marketplace queued, newest first, optionally by status (e.g. FAILED).
    /// Admins only.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn email_deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only messages in this state.")] status: Option<EmailStatus>,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<EmailDelivery>> {
        let state = ctx.data::<AppState>()?;
        let select = inbox::delivery_log(ctx.current_user()?, status.map(Into::into))?;
        let page = pagination::PageArgs::new(first, after, last, before)?.newest_first();
        let page = pagination::by_id(&state.db, select, notifications::Column::Id, page).await?;
        Ok(page.into_connection(|n| n.id, EmailDelivery))
    }
}
