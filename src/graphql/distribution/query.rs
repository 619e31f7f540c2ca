//! Root query fields of the distribution GraphQL, and their types.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    auth::CallerExt,
    distribution::channels,
    graphql::orders::money,
    kit::{Money, uuid},
    state::AppState,
};

/// One channel's paid orders in a period.
#[derive(SimpleObject)]
pub struct ChannelSales {
    /// `utm_source`; null with the other two for direct visits.
    pub utm_source: Option<String>,
    /// `utm_medium`.
    pub utm_medium: Option<String>,
    /// `utm_campaign`.
    pub utm_campaign: Option<String>,
    /// Orders paid.
    pub orders: i64,
    /// What buyers paid, in the shop's currency, before refunds.
    pub revenue: Money,
}

#[derive(Default)]
pub struct DistributionQuery;

#[Object]
impl DistributionQuery {
    /// A shop's orders paid in a period, by the channel that brought the buyer (largest
    /// first, at most 100). Its owner and admins.
    async fn shop_channels(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop.")] shop_id: ID,
        #[graphql(desc = "Start of the period (UTC), included.")] from: DateTime<Utc>,
        #[graphql(desc = "End of the period (UTC), excluded.")] to: DateTime<Utc>,
    ) -> Result<Vec<ChannelSales>> {
        let state = ctx.data::<AppState>()?;
        let rows = channels::shop_channels(
            &state.db,
            ctx.current_user()?,
            uuid("shopId", &shop_id)?,
            from,
            to,
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| ChannelSales {
                revenue: money(r.revenue_minor, &r.currency),
                utm_source: r.source,
                utm_medium: r.medium,
                utm_campaign: r.campaign,
                orders: r.orders,
            })
            .collect())
    }
}
