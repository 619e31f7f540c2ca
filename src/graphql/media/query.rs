//! Root query fields of the media GraphQL.

use async_graphql::{Context, ID, Object, Result};

use super::types::*;
use crate::{
    auth::CallerExt,
    entities::images,
    kit::{pagination, uuid},
    media,
    state::AppState,
};

#[derive(Default)]
pub struct MediaQuery;

#[Object]
impl MediaQuery {
    /// A shop's uploaded photos, newest first, attached or not. The shop's owner or an admin
    /// only (FORBIDDEN for anyone else).
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn shop_photos(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop.")] shop_id: ID,
        #[graphql(desc = "Only photos in this state.")] status: Option<PhotoStatus>,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<Photo>> {
        let state = ctx.data::<AppState>()?;
        let shop = uuid("shopId", &shop_id)?;
        let select =
            media::shop_images(state, ctx.current_user()?, shop, status.map(Into::into)).await?;
        let page = pagination::PageArgs::new(first, after, last, before)?.newest_first();
        let page = pagination::by_id(&state.db, select, images::Column::Id, page).await?;
        Ok(page.into_connection(|i| i.id, Photo))
    }
}
