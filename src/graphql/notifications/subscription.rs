//! Root subscription fields of the notifications GraphQL.

use async_graphql::{Context, Result, Subscription};
use futures_util::{Stream, StreamExt};

use super::types::*;
use crate::{auth::CallerExt, events::DomainEvent, notifications::inbox, state::AppState};

#[derive(Default)]
pub struct NotificationSubscription;

#[Subscription]
impl NotificationSubscription {
    /// Each new notification of the signed-in user, as it reaches their inbox (from any
    /// server).
    async fn notification_added(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Notification>> {
        let state = ctx.data::<AppState>()?;
        let me = ctx.current_user()?;
        let db = state.db.clone();
        Ok(state.events.stream().filter_map(move |event| {
            let db = db.clone();
            async move {
                match event {
                    DomainEvent::NotificationAdded {
                        user_id,
                        notification_id,
                    } if user_id == me.id => match inbox::one(&db, me, notification_id).await {
                        Ok(row) => Some(Notification(row)),
                        Err(err) => {
                            tracing::error!(error = ?err, "notificationAdded could not read it");
                            None
                        }
                    },
                    _ => None,
                }
            }
        }))
    }
}
