//! Root query fields of the payments GraphQL.

use super::types::*;
use crate::payments::{ledger, reviews};
use crate::{
    auth::CallerExt,
    entities::checkouts,
    kit::{View, pagination, uuid},
    orders::state::Party,
    state::AppState,
};
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

    /// The platform's own account per currency (in shops' settlement currencies): the
    /// commission it earned and what its promotions cost it, net of refunds. Admins only.
    async fn platform_account(&self, ctx: &Context<'_>) -> Result<Vec<PlatformAccount>> {
        let state = ctx.data::<AppState>()?;
        let totals = ledger::platform_totals(&state.db, ctx.current_user()?).await?;
        Ok(totals
            .into_iter()
            .map(|(currency, t)| PlatformAccount {
                commission: crate::graphql::orders::money(t.commission, &currency),
                discount_absorbed: crate::graphql::orders::money(t.discount_absorbed, &currency),
                promotion_expense: crate::graphql::orders::money(t.promotion_expense, &currency),
                net: crate::graphql::orders::money(
                    t.commission + t.discount_absorbed + t.promotion_expense,
                    &currency,
                ),
                currency,
            })
            .collect())
    }

    /// Payments an admin must look at: amounts that did not match, late payments, refunds
    /// made outside Darkhan. Admins only.
    async fn payment_reviews(&self, ctx: &Context<'_>) -> Result<Vec<Payment>> {
        let state = ctx.data::<AppState>()?;
        let rows = reviews::list(state, ctx.current_user()?).await?;
        Ok(rows.into_iter().map(|p| Payment(p, Party::Admin)).collect())
    }

    /// Bank-transfer checkouts waiting for money, oldest first; with `expired`, those whose
    /// window closed unpaid (late money may reinstate them). Admins only.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn bank_transfers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "True: the expired ones instead of those still waiting.")] expired: Option<
            bool,
        >,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<BankTransfer>> {
        let state = ctx.data::<AppState>()?;
        let select =
            crate::payments::bank::awaiting(ctx.current_user()?, expired.unwrap_or(false))?;
        let page = pagination::PageArgs::new(first, after, last, before)?;
        let page = pagination::by_id(&state.db, select, checkouts::Column::Id, page).await?;
        let view = View::new(ctx, None, None)?;
        Ok(page.into_connection(|c| c.id, |c| BankTransfer(c, view.clone())))
    }
}
