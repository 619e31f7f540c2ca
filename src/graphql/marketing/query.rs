//! Root query fields of the marketing GraphQL.

use async_graphql::{Context, Object, Result};

use super::types::*;
use crate::{
    auth::CallerExt,
    entities::reviews,
    kit::pagination,
    marketing::{favourites, reviews as service},
    state::AppState,
};

#[derive(Default)]
pub struct MarketingQuery;

#[Object]
impl MarketingQuery {
    /// The signed-in buyer's reviews, newest first (hidden ones too, with their reason).
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn my_reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<Review>> {
        let state = ctx.data::<AppState>()?;
        let select = service::mine(ctx.current_user()?);
        let page = pagination::PageArgs::new(first, after, last, before)?.newest_first();
        let page = pagination::by_id(&state.db, select, reviews::Column::Id, page).await?;
        Ok(page.into_connection(|r| r.id, Review))
    }

    /// Reviews readers reported, newest first, with their reports. Admins only.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn reported_reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Also those already hidden.")] include_hidden: Option<bool>,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<Review>> {
        let state = ctx.data::<AppState>()?;
        let select = service::reported(ctx.current_user()?, include_hidden.unwrap_or(false))?;
        let page = pagination::PageArgs::new(first, after, last, before)?.newest_first();
        let page = pagination::by_id(&state.db, select, reviews::Column::Id, page).await?;
        Ok(page.into_connection(|r| r.id, Review))
    }

    /// What the signed-in buyer (or the guest with this cart token) saved, newest first.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn my_favourites(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "For guests: their cart token.")] cart_token: Option<String>,
        #[graphql(desc = "BCP 47 tag to read texts in.")] language: Option<String>,
        #[graphql(desc = "ISO 4217 code to show prices in.")] currency: Option<String>,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<Favourite>> {
        let state = ctx.data::<AppState>()?;
        let view = crate::kit::View::priced(ctx, language, currency).await?;
        let (owner, _) = crate::graphql::orders::cart_owner(ctx, cart_token, false).await?;
        // A guest's list belongs to whoever holds the token: never shared or kept.
        if let Some(read) = ctx.data_opt::<crate::cache::ReadSet>() {
            read.private();
        }
        let page = pagination::PageArgs::new(first, after, last, before)?.newest_first();
        let page = pagination::by_id(
            &state.db,
            favourites::list(owner),
            crate::entities::favourites::Column::Id,
            page,
        )
        .await?;
        Ok(page.into_connection(|f| f.id, |f| Favourite(f, view.clone())))
    }
}
