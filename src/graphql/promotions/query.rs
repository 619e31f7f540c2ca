//! Root query fields of the promotions GraphQL.

use async_graphql::{Context, ID, Object, Result};

use super::types::*;
use crate::{
    auth::CallerExt,
    entities::promotion_codes,
    kit::{pagination, uuid},
    promotions::codes,
    state::AppState,
};

#[derive(Default)]
pub struct PromotionQuery;

#[Object]
impl PromotionQuery {
    /// Promotion codes, newest first: a shop's own (`shopId`, for its owner), or every code
    /// (admins, without `shopId`).
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn promotion_codes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop whose codes to list; admins may leave it out.")] shop_id: Option<
            ID,
        >,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<PromotionCode>> {
        let state = ctx.data::<AppState>()?;
        let shop = shop_id.as_ref().map(|s| uuid("shopId", s)).transpose()?;
        let select = codes::list(&state.db, ctx.current_user()?, shop).await?;
        let page = pagination::PageArgs::new(first, after, last, before)?.newest_first();
        let page = pagination::by_id(&state.db, select, promotion_codes::Column::Id, page).await?;
        Ok(page.into_connection(|c| c.id, PromotionCode))
    }
}
