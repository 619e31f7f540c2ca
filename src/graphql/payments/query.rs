//! Root query fields of the payments GraphQL.

use super::types::*;
use crate::payments::{ledger, reviews};
use crate::{auth::CallerExt, kit::uuid, orders::state::Party, state::AppState};
use async_graphql::{Context, ID, Object, Result};

#[derive(Default)]
pub struct PaymentQuery;

#[Object]
impl PaymentQuery {
    /// A shop's balance, ledger and payouts: the caller's own shop, or any shop for admins.
    async fn shop_finances(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop; default the caller's own.")] shop_id: Option<ID>,
    ) -> Result<ShopFinances> {
        let state = ctx.data::<AppState>()?;
        let id = shop_id.map(|id| uuid("shopId", &id)).transpose()?;
        Ok(ShopFinances(
            ledger::finances_shop(&state.db, ctx.current_user()?, id).await?,
        ))
    }

    /// Payments an admin must look at: amounts that did not match, late payments, refunds
    /// made outside Darkhan. Admins only.
    async fn payment_reviews(&self, ctx: &Context<'_>) -> Result<Vec<Payment>> {
        let state = ctx.data::<AppState>()?;
        let rows = reviews::list(state, ctx.current_user()?).await?;
        Ok(rows.into_iter().map(|p| Payment(p, Party::Admin)).collect())
    }
}
