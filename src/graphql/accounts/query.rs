//! Root query fields of the accounts GraphQL.

use super::types::*;
use crate::accounts::service::{self};
use crate::{auth::CallerExt, entities::users, kit::pagination, state::AppState};
use async_graphql::{Context, Object, Result};

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user.
    async fn me(&self, ctx: &Context<'_>) -> Result<User> {
        let state = ctx.data::<AppState>()?;
        Ok(User(service::me(&state.db, ctx.current_user()?).await?))
    }

    /// Every account, oldest first. Admins only.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n users after `after` (at most 100).")] first: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n users before `before` (at most 100).")] last: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<User>> {
        let state = ctx.data::<AppState>()?;
        let select = service::all_users(ctx.current_user()?)?;
        let page = pagination::PageArgs::new(first, after, last, before)?;
        let page = pagination::by_id(&state.db, select, users::Column::Id, page).await?;
        Ok(page.into_connection(|u| u.id, User))
    }
}
