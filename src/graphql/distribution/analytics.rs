//! Analytics in GraphQL: views counted by front ends, a shop's figures for its owner, the
//! marketplace's for admins, and the rebuild of the rollups.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::NaiveDate;

use crate::{
    auth::CallerExt,
    distribution::analytics::{self as service, Figures, Granularity, Range},
    graphql::{
        catalog::{Product, View},
        orders::{AttributionInput, money},
    },
    kit::{Money, UserAgent, data, uuid},
    state::AppState,
};

/// How a series is bucketed.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum AnalyticsGranularity {
    /// One point per UTC day.
    Day,
    /// One point per week, starting on Monday.
    Week,
    /// One point per calendar month.
    Month,
}

impl From<AnalyticsGranularity> for Granularity {
    fn from(g: AnalyticsGranularity) -> Self {
        match g {
            AnalyticsGranularity::Day => Self::Day,
            AnalyticsGranularity::Week => Self::Week,
            AnalyticsGranularity::Month => Self::Month,
        }
    }
}

/// Figures for a period, a bucket or a breakdown row.
#[derive(SimpleObject)]
pub struct AnalyticsFigures {
    /// Times a buyer's front end showed the product(s); robots and the shop's own people are
    /// not counted.
    pub views: i64,
    /// Times a product was added to a cart.
    pub add_to_carts: i64,
    /// Orders paid (for a product: paid orders containing it).
    pub orders: i64,
    /// Units sold in paid orders.
    pub units: i64,
    /// What the orders brought, in the shop's currency (tögrög for the marketplace), on the
    /// day they were paid and before refunds.
    pub revenue: Money,
    /// Orders per view; null without views.
    pub conversion_rate: Option<f64>,
}

fn figures(f: Figures, currency: &str) -> AnalyticsFigures {
    AnalyticsFigures {
        views: f.views,
        add_to_carts: f.add_to_carts,
        orders: f.orders,
        units: f.units,
        revenue: money(f.revenue_minor, currency),
        conversion_rate: f.conversion_rate(),
    }
}

/// One bucket of a series.
#[derive(SimpleObject)]
pub struct AnalyticsPoint {
    /// First day of the bucket (UTC).
    pub start: NaiveDate,
    /// Its figures.
    pub figures: AnalyticsFigures,
}

/// One row of a breakdown by buyer country or by channel.
#[derive(SimpleObject)]
pub struct AnalyticsBreakdown {
    /// ISO 3166-1 alpha-2 country (empty when the buyer's country is unknown), or the
    /// channel: the UTM source, else the referring site, else `direct`.
    pub key: String,
    /// Its figures.
    pub figures: AnalyticsFigures,
}

/// A product's figures.
#[derive(SimpleObject)]
pub struct ProductAnalytics {
    /// The product.
    pub product: Product,
    /// Its figures.
    pub figures: AnalyticsFigures,
}

/// A shop's analytics over a range of days.
#[derive(SimpleObject)]
pub struct ShopAnalytics {
    /// The shop's currency: every revenue is in it.
    pub currency: String,
    /// First day (UTC), included.
    pub from: NaiveDate,
    /// Last day (UTC), included.
    pub to: NaiveDate,
    /// The whole range.
    pub totals: AnalyticsFigures,
    /// The range of the same length just before, to compare with.
    pub previous: AnalyticsFigures,
    /// Every bucket of the range, empty ones included.
    pub series: Vec<AnalyticsPoint>,
    /// By buyer country (orders by where they ship), largest first, at most 10.
    pub by_country: Vec<AnalyticsBreakdown>,
    /// By channel, largest first, at most 10.
    pub by_channel: Vec<AnalyticsBreakdown>,
    /// Best-selling products, at most 10.
    pub top_products: Vec<ProductAnalytics>,
}

/// A category's sales in the marketplace.
#[derive(SimpleObject)]
pub struct CategoryAnalytics {
    /// The category.
    pub category: crate::graphql::catalog::Category,
    /// Its figures; revenue is not summed across currencies here (zero): units rank.
    pub figures: AnalyticsFigures,
}

/// The marketplace's figures over a range of days, for admins.
#[derive(SimpleObject)]
pub struct MarketplaceAnalytics {
    /// First day (UTC), included.
    pub from: NaiveDate,
    /// Last day (UTC), included.
    pub to: NaiveDate,
    /// The whole range; revenue is the sales value in tögrög at today's rates.
    pub totals: AnalyticsFigures,
    /// The range of the same length just before.
    pub previous: AnalyticsFigures,
    /// Every bucket of the range.
    pub series: Vec<AnalyticsPoint>,
    /// Shops opened in the range.
    pub new_shops: u64,
    /// Buyers who registered in the range.
    pub new_buyers: u64,
    /// Categories by units sold, at most 10.
    pub top_categories: Vec<CategoryAnalytics>,
    /// Destination countries by orders, at most 10 (revenue zero: currencies differ).
    pub top_countries: Vec<AnalyticsBreakdown>,
    /// Sales per settlement currency, before conversion.
    pub sales_by_currency: Vec<Money>,
}

/// A product a front end is showing.
#[derive(InputObject)]
pub struct RecordProductViewInput {
    /// The product.
    pub product_id: ID,
    /// The buyer's country (ISO 3166-1 alpha-2), when the front end knows it.
    pub country: Option<String>,
    /// The channel that brought the buyer.
    pub attribution: Option<AttributionInput>,
}

/// A product page being shown to a buyer: counted as a view where the page is read.
#[derive(InputObject)]
pub struct CountViewInput {
    /// The buyer's country (ISO 3166-1 alpha-2), when the front end knows it.
    pub country: Option<String>,
    /// The channel that brought the buyer.
    pub attribution: Option<AttributionInput>,
}

impl CountViewInput {
    /// Counts the view of a product the caller could read (robots and the shop's own people
    /// are left out). The answer is then the viewer's own: never kept in the response cache,
    /// so every page read is counted.
    pub async fn count(
        self,
        ctx: &Context<'_>,
        shop_id: uuid::Uuid,
        product_id: uuid::Uuid,
    ) -> Result<()> {
        if let Some(read) = ctx.data_opt::<crate::cache::ReadSet>() {
            read.private();
        }
        let state = data::<AppState>(ctx)?;
        let agent = ctx.data_opt::<UserAgent>().and_then(|a| a.0.as_deref());
        let channel = AttributionInput::read(self.attribution)?;
        service::count_view(
            state,
            ctx.caller(),
            agent,
            (shop_id, product_id),
            self.country.as_deref(),
            channel.as_ref(),
        )
        .await?;
        Ok(())
    }
}

/// Whether a view was counted.
#[derive(SimpleObject)]
pub struct RecordProductViewPayload {
    /// False for robots and the shop's own people.
    pub counted: bool,
}

/// What a rebuild wrote.
#[derive(SimpleObject)]
pub struct RebuildAnalyticsPayload {
    /// Rollup rows after the rebuild.
    pub rows: u64,
}

fn range(from: NaiveDate, to: NaiveDate) -> Result<Range> {
    Ok(Range::new(from, to)?)
}

#[derive(Default)]
pub struct AnalyticsQuery;

#[Object]
impl AnalyticsQuery {
    /// A shop's views, additions to carts, orders, units and revenue over a range of whole
    /// UTC days (at most two years), by day, week or month, by buyer country and channel,
    /// with its best-selling products and the previous period. Its owner and admins.
    async fn shop_analytics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop.")] shop_id: ID,
        #[graphql(desc = "First day (UTC), included.")] from: NaiveDate,
        #[graphql(desc = "Last day (UTC), included.")] to: NaiveDate,
        #[graphql(desc = "How the series is bucketed; by day when not given.")] granularity: Option<
            AnalyticsGranularity,
        >,
        #[graphql(desc = "Language of the products' texts.")] language: Option<String>,
    ) -> Result<ShopAnalytics> {
        let state = data::<AppState>(ctx)?;
        let view = View::new(ctx, language, None)?;
        let a = service::shop_analytics(
            &state.db,
            ctx.current_user()?,
            uuid("shopId", &shop_id)?,
            range(from, to)?,
            granularity.unwrap_or(AnalyticsGranularity::Day).into(),
        )
        .await?;
        let c = a.currency.as_str();
        let rows = |rows: Vec<(String, Figures)>| {
            rows.into_iter()
                .map(|(key, f)| AnalyticsBreakdown {
                    key,
                    figures: figures(f, c),
                })
                .collect()
        };
        Ok(ShopAnalytics {
            from: a.range.from,
            to: a.range.to,
            totals: figures(a.totals, c),
            previous: figures(a.previous, c),
            series: a
                .series
                .into_iter()
                .map(|p| AnalyticsPoint {
                    start: p.start,
                    figures: figures(p.figures, c),
                })
                .collect(),
            by_country: rows(a.by_country),
            by_channel: rows(a.by_channel),
            top_products: a
                .top_products
                .into_iter()
                .map(|(p, f)| ProductAnalytics {
                    product: Product(p, view.clone()),
                    figures: figures(f, c),
                })
                .collect(),
            currency: a.currency.clone(),
        })
    }

    /// The marketplace's sales value (tögrög at today's rates), orders, views, new shops and
    /// buyers, top categories and destination countries over a range of days. Admins.
    async fn marketplace_analytics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "First day (UTC), included.")] from: NaiveDate,
        #[graphql(desc = "Last day (UTC), included.")] to: NaiveDate,
        #[graphql(desc = "How the series is bucketed; by day when not given.")] granularity: Option<
            AnalyticsGranularity,
        >,
        #[graphql(desc = "Language of category names.")] language: Option<String>,
    ) -> Result<MarketplaceAnalytics> {
        let state = data::<AppState>(ctx)?;
        let view = View::new(ctx, language, None)?;
        let a = service::marketplace_analytics(
            state,
            ctx.current_user()?,
            range(from, to)?,
            granularity.unwrap_or(AnalyticsGranularity::Day).into(),
        )
        .await?;
        let home = crate::money::HOME;
        Ok(MarketplaceAnalytics {
            from: a.range.from,
            to: a.range.to,
            totals: figures(a.totals, home),
            previous: figures(a.previous, home),
            series: a
                .series
                .into_iter()
                .map(|p| AnalyticsPoint {
                    start: p.start,
                    figures: figures(p.figures, home),
                })
                .collect(),
            new_shops: a.new_shops,
            new_buyers: a.new_buyers,
            top_categories: a
                .top_categories
                .into_iter()
                .map(|(c, f)| CategoryAnalytics {
                    category: crate::graphql::catalog::Category(c, view.clone()),
                    figures: figures(f, home),
                })
                .collect(),
            top_countries: a
                .top_countries
                .into_iter()
                .map(|(key, f)| AnalyticsBreakdown {
                    key,
                    figures: figures(f, home),
                })
                .collect(),
            sales_by_currency: a.sales_by_currency.into_iter().map(Money::from).collect(),
        })
    }
}

#[derive(Default)]
pub struct AnalyticsMutation;

#[Object]
impl AnalyticsMutation {
    /// Counts a view of a product for its shop's analytics; front ends call it when they show
    /// a product page. Robots (by `User-Agent`) and the shop's own people are not counted.
    /// Views reach the figures within `distribution.analytics_flush_secs`.
    async fn record_product_view(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product and where the buyer is and came from.")]
        input: RecordProductViewInput,
    ) -> Result<RecordProductViewPayload> {
        let state = data::<AppState>(ctx)?;
        let agent = ctx.data_opt::<UserAgent>().and_then(|a| a.0.as_deref());
        let channel = AttributionInput::read(input.attribution)?;
        let counted = service::record_view(
            state,
            ctx.caller(),
            agent,
            uuid("productId", &input.product_id)?,
            input.country.as_deref(),
            channel.as_ref(),
        )
        .await?;
        Ok(RecordProductViewPayload { counted })
    }

    /// Recomputes every analytics rollup from the stored events and paid orders (after a
    /// data repair, or to check them). Admins.
    async fn rebuild_analytics(&self, ctx: &Context<'_>) -> Result<RebuildAnalyticsPayload> {
        let state = data::<AppState>(ctx)?;
        let rows = service::rebuild(state, ctx.current_user()?).await?;
        Ok(RebuildAnalyticsPayload { rows })
    }
}
