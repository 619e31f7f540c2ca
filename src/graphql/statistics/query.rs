//! Market statistics in GraphQL: k-protected tables for everyone (the open subset) and for
//! researchers (every dimension by month), a shop beside its market, and the admin's grants
//! and rebuild.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};

use crate::{
    auth::CallerExt,
    graphql::accounts::User,
    kit::{Money, data, uuid},
    state::AppState,
    statistics::{
        self as service,
        query::{self, Filter, Month, Request},
    },
};

/// What a statistics table is broken down by.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::statistics::query::Dimension")]
pub enum StatisticsDimension {
    /// Month paid, `YYYY-MM` (researchers).
    Month,
    /// Quarter paid, `YYYY-Qn`.
    Quarter,
    /// Year paid.
    Year,
    /// The product's category (slug).
    Craft,
    /// The category's parent (the category itself at the top).
    CraftGroup,
    /// Country shipped to (ISO 3166-1 alpha-2).
    Destination,
    /// The artisan's aimag or city (researchers).
    Region,
    /// The artisan's country (researchers).
    ArtisanCountry,
    /// The shop's size by makers: SOLO, WORKSHOP (2-5), ENTERPRISE (6+) (researchers).
    ShopSize,
    /// CARD or BANK_TRANSFER (researchers).
    PaymentMethod,
    /// The maker's self-declared gender, with consent (researchers; values only).
    MakerGender,
    /// The maker's age band in the year of the sale, with consent (researchers; values only).
    MakerAgeBand,
    /// Cooperative membership, with consent (researchers; values only).
    MakerCooperative,
    /// The maker's own region, with consent (researchers; values only).
    MakerRegion,
    /// The maker's years practising, banded, with consent (researchers; values only).
    MakerExperience,
}

/// What a statistics table measures; each column's description says exactly how.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "crate::statistics::query::Measure")]
pub enum StatisticsMeasure {
    /// Paid orders, each once under its main craft.
    Orders,
    /// Items sold.
    Units,
    /// Value of goods sold net of refunds, in MNT at each order's locked rate.
    GrossMnt,
    /// The same in USD.
    GrossUsd,
    /// What reached the artisans after commission, in MNT.
    ArtisansShareMnt,
    /// The same in USD.
    ArtisansShareUsd,
    /// The artisans' share of the value, in percent.
    ArtisansSharePercent,
    /// Average order value in MNT.
    AverageOrderMnt,
    /// Average order value in USD.
    AverageOrderUsd,
    /// Shops with a sale.
    ActiveShops,
    /// Makers named on a product sold.
    ActiveMakers,
    /// Buyers whose first paid order this is.
    NewBuyers,
    /// Orders by buyers who had bought before.
    RepeatBuyerOrders,
    /// Median days from payment to shipping.
    MedianDaysToShip,
    /// Median days from payment to delivery.
    MedianDaysToDeliver,
    /// Share of orders with a refund, in percent.
    RefundRate,
}

/// Narrows a statistics table; values as the dimensions print them.
#[derive(InputObject, Default)]
pub struct StatisticsFilter {
    /// A craft's slug: it and every craft under it.
    pub craft: Option<String>,
    /// Country shipped to (ISO 3166-1 alpha-2).
    pub destination: Option<String>,
    /// The artisan's aimag or city (researchers).
    pub region: Option<String>,
    /// The artisan's country (researchers).
    pub artisan_country: Option<String>,
    /// SOLO, WORKSHOP or ENTERPRISE (researchers).
    pub shop_size: Option<String>,
    /// CARD or BANK_TRANSFER (researchers).
    pub payment_method: Option<String>,
}

/// A column of a statistics table.
#[derive(SimpleObject)]
pub struct StatisticsColumn {
    /// Its key, as in the open-data files, e.g. `destination_country`, `gross_usd`.
    pub key: String,
    /// Whether it is a dimension (else a measure).
    pub is_dimension: bool,
    /// What it holds, in English.
    pub description: String,
    /// What it holds, in Mongolian.
    pub description_mn: String,
}

/// A row of a statistics table.
#[derive(SimpleObject)]
pub struct StatisticsRow {
    /// One value per column, dimensions first, as decimal text (amounts in major units,
    /// rates in percent); measures are null where suppressed, and in a total, dimensions.
    pub values: Vec<Option<String>>,
    /// Whether the rule withheld this row's measures.
    pub suppressed: bool,
    /// Whether some of the cells this row sums were withheld, so its figures are lower
    /// bounds (public rows coarser than quarter × destination × craft).
    pub coarsened: bool,
}

/// A k-protected statistics table.
#[derive(SimpleObject)]
pub struct StatisticsTable {
    /// The columns: the dimensions asked for, then the measures.
    pub columns: Vec<StatisticsColumn>,
    /// One row per combination of dimension values that had sales.
    pub rows: Vec<StatisticsRow>,
    /// The published rows summed: never includes a suppressed row.
    pub total: StatisticsRow,
    /// First month covered (widened to a whole quarter for the open subset).
    pub from: String,
    /// Last month covered.
    pub to: String,
    /// k: the fewest distinct shops a published row holds.
    pub min_shops: i32,
    /// The suppression rule, in words.
    pub suppression_rule: String,
}

fn row(r: query::Row) -> StatisticsRow {
    StatisticsRow {
        values: r.values,
        suppressed: r.suppressed,
        coarsened: r.coarsened,
    }
}

/// One craft of a shop beside every shop that exports it.
#[derive(SimpleObject)]
pub struct CraftMarketPosition {
    /// The craft (category slug).
    pub craft: String,
    /// The shop's paid orders with this craft as main craft, shipped abroad.
    pub orders: i64,
    /// Items of this craft the shop sold abroad.
    pub units: i64,
    /// Their value, net of refunds, in USD.
    pub exports: Money,
    /// Every shop's exports of the craft; null when fewer than k shops export it.
    pub market_exports: Option<Money>,
    /// The shop's share of them, in percent; null when withheld.
    pub share_percent: Option<f64>,
    /// The shop's average price per item, in USD.
    pub average_price: Option<Money>,
    /// Every exporting shop's average price per item; null when withheld.
    pub market_average_price: Option<Money>,
    /// How many shops export the craft; null when fewer than k.
    pub market_shops: Option<i64>,
}

/// What a rebuild of the statistics did.
#[derive(SimpleObject)]
pub struct RebuildStatisticsPayload {
    /// Paid orders read.
    pub orders: i64,
    /// Facts written (one per order and craft).
    pub facts: i64,
    /// Cells of the monthly cube.
    pub cells: i64,
}

/// The admin's grant or withdrawal of the researcher role.
#[derive(SimpleObject)]
pub struct SetResearcherPayload {
    /// The account, with its role now.
    pub user: User,
}

fn months(from: &str, to: &str) -> Result<(Month, Month)> {
    Ok((Month::parse("from", from)?, Month::parse("to", to)?))
}

#[derive(Default)]
pub struct StatisticsQuery;

#[Object]
impl StatisticsQuery {
    /// Market statistics over whole months, by any dimensions (at most four), every row
    /// k-protected. Anyone sees the open subset (quarters, destination, craft; ranges widen
    /// to whole quarters); researchers and admins every dimension by month.
    async fn market_statistics(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to break the table down by; none for one total row.")]
        dimensions: Vec<StatisticsDimension>,
        #[graphql(desc = "What to measure.")] measures: Vec<StatisticsMeasure>,
        #[graphql(desc = "First month, `YYYY-MM`, included.")] from: String,
        #[graphql(desc = "Last month, `YYYY-MM`, included.")] to: String,
        #[graphql(desc = "What to narrow the table to.")] filter: Option<StatisticsFilter>,
    ) -> Result<StatisticsTable> {
        let state = data::<AppState>(ctx)?;
        let (from, to) = months(&from, &to)?;
        let f = filter.unwrap_or_default();
        let table = service::market_statistics(
            state,
            ctx.caller(),
            Request {
                dimensions: dimensions.into_iter().map(Into::into).collect(),
                measures: measures.into_iter().map(Into::into).collect(),
                from,
                to,
                filter: Filter {
                    craft: f.craft,
                    destination: f.destination,
                    region: f.region,
                    artisan_country: f.artisan_country,
                    shop_size: f.shop_size,
                    payment_method: f.payment_method,
                },
            },
        )
        .await?;
        Ok(StatisticsTable {
            columns: table
                .columns
                .iter()
                .map(|c| StatisticsColumn {
                    key: c.key.to_owned(),
                    is_dimension: c.is_dimension,
                    description: c.description_en.to_owned(),
                    description_mn: c.description_mn.to_owned(),
                })
                .collect(),
            suppression_rule: query::rule(table.min_shops),
            min_shops: i32::try_from(table.min_shops).unwrap_or(i32::MAX),
            from: table.from.text(),
            to: table.to.text(),
            total: row(table.total),
            rows: table.rows.into_iter().map(row).collect(),
        })
    }

    /// A shop's exports by craft beside every shop's: its share and average prices. Its
    /// owner and admins; market figures are withheld where fewer than k shops export.
    async fn shop_market_position(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop.")] shop_id: ID,
        #[graphql(desc = "First month, `YYYY-MM`, included.")] from: String,
        #[graphql(desc = "Last month, `YYYY-MM`, included.")] to: String,
    ) -> Result<Vec<CraftMarketPosition>> {
        let state = data::<AppState>(ctx)?;
        let (from, to) = months(&from, &to)?;
        let rows = service::shop_position(
            state,
            ctx.current_user()?,
            uuid("shopId", &shop_id)?,
            from,
            to,
        )
        .await?;
        Ok(rows
            .into_iter()
            .map(|p| CraftMarketPosition {
                craft: p.craft,
                orders: p.orders,
                units: p.units,
                exports: p.exports_usd.into(),
                market_exports: p.market_exports_usd.map(Into::into),
                share_percent: p.share_percent,
                average_price: p.average_price_usd.map(Into::into),
                market_average_price: p.market_average_price_usd.map(Into::into),
                market_shops: p.market_shops,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct StatisticsMutation;

#[Object]
impl StatisticsMutation {
    /// Grants (or withdraws) the researcher role on a buyer's account. Admins.
    async fn set_researcher(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The account.")] user_id: ID,
        #[graphql(desc = "True to grant, false to withdraw.")] granted: bool,
    ) -> Result<SetResearcherPayload> {
        let state = data::<AppState>(ctx)?;
        let user = service::set_researcher(
            state,
            ctx.current_user()?,
            uuid("userId", &user_id)?,
            granted,
        )
        .await?;
        Ok(SetResearcherPayload { user: User(user) })
    }

    /// Recomputes the market statistics from the orders. Admins.
    async fn rebuild_statistics(&self, ctx: &Context<'_>) -> Result<RebuildStatisticsPayload> {
        let state = data::<AppState>(ctx)?;
        let r = service::rebuild(state, ctx.current_user()?).await?;
        let n = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Ok(RebuildStatisticsPayload {
            orders: n(r.orders),
            facts: n(r.facts),
            cells: n(r.cells),
        })
    }
}
