//! Root subscription fields of the accounts GraphQL.

use super::types::*;
use crate::accounts::service::{self};
use crate::{auth::CallerExt, events::DomainEvent, state::AppState};
use async_graphql::{Context, Result, Subscription};
use futures_util::{Stream, StreamExt};

#[derive(Default)]
pub struct AccountSubscription;

#[Subscription]
impl AccountSubscription {
    /// The signed-in user's profile each time it changes, e.g. from another device.
    async fn profile_updated(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = User>> {
        let state = ctx.data::<AppState>()?;
        let me = ctx.current_user()?;
        let db = state.db.clone();
        Ok(state.events.stream().filter_map(move |event| {
            let db = db.clone();
            async move {
                match event {
                    DomainEvent::ProfileUpdated { user_id } if user_id == me.id => {
                        match service::me(&db, me).await {
                            Ok(user) => Some(User(user)),
                            Err(err) => {
                                tracing::error!(error = ?err, "profileUpdated could not read the user");
                                None
                            }
                        }
                    }
                    _ => None,
                }
            }
        }))
    }
}
