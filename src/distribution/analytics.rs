//! Analytics for artisans and the marketplace, answered from the daily rollups
//! (`crate::rollups`): views, additions to carts, orders, units and revenue by day, week or
//! month, by buyer country and channel, top products, and the previous period to compare.
//!
//! Views are counted when a front end shows a product ([`record_view`]): in memory, without
//! obvious bots and without the shop's own people, and written every few seconds by
//! [`flush`]. [`rebuild`] recomputes every rollup from the stored events and paid orders.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Duration, NaiveDate, Utc};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, JoinType, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
    sea_query::{Expr, IntoColumnRef},
};
use uuid::Uuid;

use crate::{
    auth::{Caller, CurrentUser, managed_shop},
    entities::{
        analytics_daily::{self, Column as D},
        analytics_events, categories, order_lines, orders, products, shops,
        users::{self, Role},
    },
    error::{AppError, AppResult},
    i18n::CountryCode,
    money::{Currency, HOME, Money, Rates},
    orders::attribution::Attribution,
    rollups::{self, Counts, Dim, Event, Key},
    state::AppState,
};

/// The longest range one query covers.
pub const MAX_DAYS: i64 = 731;
/// Rows in each breakdown (countries, channels, products, categories).
pub const TOP: u64 = 10;

/// How a series is bucketed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    /// The first day of the bucket `day` falls in (weeks start on Monday).
    pub fn bucket(self, day: NaiveDate) -> NaiveDate {
        match self {
            Self::Day => day,
            Self::Week => day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
            Self::Month => day.with_day(1).unwrap_or(day),
        }
    }
}

/// A range of whole UTC days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    /// Checks a client's range: in order and at most two years long.
    pub fn new(from: NaiveDate, to: NaiveDate) -> AppResult<Self> {
        if to < from {
            return Err(AppError::invalid("to", "the range ends before it starts"));
        }
        if (to - from).num_days() + 1 > MAX_DAYS {
            return Err(AppError::invalid(
                "to",
                format!("a range covers at most {MAX_DAYS} days"),
            ));
        }
        Ok(Self { from, to })
    }

    /// The range of the same length just before this one.
    pub fn previous(self) -> Self {
        let days = (self.to - self.from).num_days() + 1;
        Self {
            from: self.from - Duration::days(days),
            to: self.from - Duration::days(1),
        }
    }

    fn condition(self) -> Condition {
        Condition::all()
            .add(D::Day.gte(rollups::day_text(self.from)))
            .add(D::Day.lte(rollups::day_text(self.to)))
    }
}

/// Summed figures. Revenue is in one currency, which the caller knows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Figures {
    pub views: i64,
    pub add_to_carts: i64,
    pub orders: i64,
    pub units: i64,
    pub revenue_minor: i64,
}

impl Figures {
    /// Orders per view, when there were views.
    pub fn conversion_rate(&self) -> Option<f64> {
        (self.views > 0).then(|| self.orders as f64 / self.views as f64)
    }

    fn of_shop(c: Counts) -> Self {
        Self {
            views: c.views,
            add_to_carts: c.add_to_carts,
            orders: c.orders,
            units: c.units,
            revenue_minor: c.revenue_minor,
        }
    }

    fn of_product(c: Counts) -> Self {
        Self {
            views: c.views,
            add_to_carts: c.add_to_carts,
            orders: c.product_orders,
            units: c.units,
            revenue_minor: c.product_revenue_minor,
        }
    }
}

/// One bucket of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub start: NaiveDate,
    pub figures: Figures,
}

/// A shop's analytics for a range.
#[derive(Debug, Clone)]
pub struct ShopAnalytics {
    pub currency: String,
    pub range: Range,
    pub totals: Figures,
    pub previous: Figures,
    pub series: Vec<Point>,
    pub by_country: Vec<(String, Figures)>,
    pub by_channel: Vec<(String, Figures)>,
    pub top_products: Vec<(products::Model, Figures)>,
}

const SUMS: [&str; 7] = [
    "views",
    "add_to_carts",
    "orders",
    "revenue_minor",
    "product_orders",
    "units",
    "product_revenue_minor",
];

type Summed<K> = (K, i64, i64, i64, i64, i64, i64, i64);
/// A day's sums for the shops of one currency: day, currency, then as [`SUMS`].
type CurrencyDay = (String, String, i64, i64, i64, i64, i64, i64, i64);
type Days = Vec<(NaiveDate, Figures)>;

fn counts<K>(row: &Summed<K>) -> Counts {
    Counts {
        views: row.1,
        add_to_carts: row.2,
        orders: row.3,
        revenue_minor: row.4,
        product_orders: row.5,
        units: row.6,
        product_revenue_minor: row.7,
    }
}

/// `SUM(analytics_daily.column)` as a BIGINT on both databases (PostgreSQL sums bigints to
/// numeric), zero for no rows.
fn summed(column: &str) -> Expr {
    Expr::cust(format!(
        "CAST(COALESCE(SUM(analytics_daily.{column}), 0) AS BIGINT)"
    ))
}

/// `select` with every rollup sum as a column, in the order of [`SUMS`].
fn with_sums(mut select: Select<analytics_daily::Entity>) -> Select<analytics_daily::Entity> {
    for sum in SUMS {
        select = select.column_as(summed(sum), sum);
    }
    select
}

/// The rollup sums of `select`, grouped by `group` (a column, or an expression).
async fn sums<K: sea_orm::TryGetable>(
    db: &impl ConnectionTrait,
    select: Select<analytics_daily::Entity>,
    group: impl IntoColumnRef + Clone,
) -> AppResult<Vec<Summed<K>>> {
    let select = select
        .select_only()
        .column_as(Expr::col(group.clone()), "k")
        .group_by(Expr::col(group));
    Ok(with_sums(select).into_tuple::<Summed<K>>().all(db).await?)
}

/// Totals of `select` (no grouping).
async fn total(
    db: &impl ConnectionTrait,
    select: Select<analytics_daily::Entity>,
) -> AppResult<Counts> {
    let row = with_sums(select.select_only())
        .into_tuple::<(i64, i64, i64, i64, i64, i64, i64)>()
        .one(db)
        .await?
        .unwrap_or_default();
    Ok(counts(&(
        (),
        row.0,
        row.1,
        row.2,
        row.3,
        row.4,
        row.5,
        row.6,
    )))
}

fn series(range: Range, granularity: Granularity, days: &[(NaiveDate, Figures)]) -> Vec<Point> {
    let mut buckets: BTreeMap<NaiveDate, Figures> = BTreeMap::new();
    let mut day = range.from;
    while day <= range.to {
        buckets.entry(granularity.bucket(day)).or_default();
        day += Duration::days(1);
    }
    for (day, f) in days {
        let b = buckets.entry(granularity.bucket(*day)).or_default();
        b.views += f.views;
        b.add_to_carts += f.add_to_carts;
        b.orders += f.orders;
        b.units += f.units;
        b.revenue_minor += f.revenue_minor;
    }
    buckets
        .into_iter()
        .map(|(start, figures)| Point { start, figures })
        .collect()
}

fn by_day(rows: &[Summed<String>]) -> Vec<(NaiveDate, Figures)> {
    rows.iter()
        .filter_map(|r| {
            let day = NaiveDate::parse_from_str(&r.0, "%Y-%m-%d").ok()?;
            Some((day, Figures::of_shop(counts(r))))
        })
        .collect()
}

/// The largest `TOP` of `rows` by revenue, then orders, then views.
fn top<K>(mut rows: Vec<(K, Figures)>) -> Vec<(K, Figures)> {
    rows.sort_by(|a, b| {
        (b.1.revenue_minor, b.1.orders, b.1.views).cmp(&(a.1.revenue_minor, a.1.orders, a.1.views))
    });
    rows.truncate(TOP as usize);
    rows
}

/// A shop's analytics: its owner's and admins'. Seven indexed queries on the rollups.
pub async fn shop_analytics(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
    shop_id: Uuid,
    range: Range,
    granularity: Granularity,
) -> AppResult<ShopAnalytics> {
    let shop = managed_shop(db, caller, shop_id).await?;
    let of_shop = |r: Range, dim: Dim| {
        analytics_daily::Entity::find()
            .filter(D::ShopId.eq(shop_id))
            .filter(D::Dim.eq(dim.as_str()))
            .filter(r.condition())
    };
    let totals = Figures::of_shop(total(db, of_shop(range, Dim::Total)).await?);
    let previous = Figures::of_shop(total(db, of_shop(range.previous(), Dim::Total)).await?);
    let days = sums::<String>(db, of_shop(range, Dim::Total), D::Day).await?;
    let by_country = sums::<String>(db, of_shop(range, Dim::Country), D::Country).await?;
    let by_channel = sums::<String>(db, of_shop(range, Dim::Channel), D::Channel).await?;
    let products = sums::<Uuid>(
        db,
        of_shop(range, Dim::Product)
            .order_by_desc(Expr::cust("SUM(product_revenue_minor)"))
            .order_by_desc(Expr::cust("SUM(units)"))
            .order_by_desc(Expr::cust("SUM(views)"))
            .limit(TOP),
        D::ProductId,
    )
    .await?;
    let models = products::Entity::find()
        .filter(products::Column::Id.is_in(products.iter().map(|r| r.0).collect::<Vec<_>>()))
        .all(db)
        .await?;
    let grouped = |rows: Vec<Summed<String>>| {
        top(rows
            .iter()
            .map(|r| (r.0.clone(), Figures::of_shop(counts(r))))
            .collect())
    };
    Ok(ShopAnalytics {
        currency: shop.settlement_currency,
        range,
        totals,
        previous,
        series: series(range, granularity, &by_day(&days)),
        by_country: grouped(by_country),
        by_channel: grouped(by_channel),
        top_products: top(products
            .iter()
            .filter_map(|r| {
                let model = models.iter().find(|m| m.id == r.0)?.clone();
                Some((model, Figures::of_product(counts(r))))
            })
            .collect()),
    })
}

/// The marketplace's figures for admins. Sales are in tögrög, each shop's converted at
/// today's rates.
#[derive(Debug, Clone)]
pub struct MarketplaceAnalytics {
    pub range: Range,
    pub totals: Figures,
    pub previous: Figures,
    pub series: Vec<Point>,
    pub new_shops: u64,
    pub new_buyers: u64,
    /// Category and its figures (units, orders containing it, views).
    pub top_categories: Vec<(categories::Model, Figures)>,
    /// Destination countries by orders.
    pub top_countries: Vec<(String, Figures)>,
    /// Sales per settlement currency, before conversion.
    pub sales_by_currency: Vec<Money>,
}

pub async fn marketplace_analytics(
    state: &AppState,
    caller: CurrentUser,
    range: Range,
    granularity: Granularity,
) -> AppResult<MarketplaceAnalytics> {
    if caller.role != Role::Admin {
        return Err(AppError::Forbidden("for administrators".into()));
    }
    let db = &state.db;
    let rates = Rates::load(db).await?;
    let home = Currency::parse(HOME)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("home currency unknown")))?;
    let with_currency = |r: Range| {
        analytics_daily::Entity::find()
            .filter(D::Dim.eq(Dim::Total.as_str()))
            .join(
                JoinType::InnerJoin,
                analytics_daily::Entity::belongs_to(shops::Entity)
                    .from(D::ShopId)
                    .to(shops::Column::Id)
                    .into(),
            )
            .filter(r.condition())
    };
    // Per day and currency: revenue converted once per row, everything else summed as is.
    // An order counts on the day it was paid, whatever became of it later.
    let to_home = |minor: i64, code: &str| -> i64 {
        Currency::parse(code)
            .and_then(|c| rates.convert(Money::new(minor, c), home))
            .map_or(0, |m| m.minor)
    };
    let sums_of = async |r: Range| -> AppResult<(Days, Vec<Money>)> {
        let rows: Vec<CurrencyDay> = {
            let select = with_currency(r)
                .select_only()
                .column(D::Day)
                .column(shops::Column::SettlementCurrency)
                .group_by(D::Day)
                .group_by(shops::Column::SettlementCurrency);
            with_sums(select).into_tuple().all(db).await?
        };
        let mut per_currency: BTreeMap<String, i64> = BTreeMap::new();
        let days = rows
            .iter()
            .filter_map(|r| {
                *per_currency.entry(r.1.clone()).or_default() += r.5;
                let day = NaiveDate::parse_from_str(&r.0, "%Y-%m-%d").ok()?;
                Some((
                    day,
                    Figures {
                        views: r.2,
                        add_to_carts: r.3,
                        orders: r.4,
                        units: r.7,
                        revenue_minor: to_home(r.5, &r.1),
                    },
                ))
            })
            .collect();
        let sales = per_currency
            .into_iter()
            .filter_map(|(code, minor)| Currency::parse(&code).map(|c| Money::new(minor, c)))
            .collect();
        Ok((days, sales))
    };
    let (days, sales_by_currency) = sums_of(range).await?;
    let (before, _) = sums_of(range.previous()).await?;
    let add_up = |days: &[(NaiveDate, Figures)]| {
        days.iter().fold(Figures::default(), |mut t, (_, f)| {
            t.views += f.views;
            t.add_to_carts += f.add_to_carts;
            t.orders += f.orders;
            t.units += f.units;
            t.revenue_minor += f.revenue_minor;
            t
        })
    };
    let start = range.from.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    let end = (range.to + Duration::days(1))
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc());
    let (Some(start), Some(end)) = (start, end) else {
        return Err(AppError::invalid("from", "not a date we can count from"));
    };
    let new_shops = shops::Entity::find()
        .filter(shops::Column::CreatedAt.gte(start))
        .filter(shops::Column::CreatedAt.lt(end))
        .count(db)
        .await?;
    let new_buyers = users::Entity::find()
        .filter(users::Column::Role.eq(Role::Buyer))
        .filter(users::Column::CreatedAt.gte(start))
        .filter(users::Column::CreatedAt.lt(end))
        .count(db)
        .await?;
    // Categories rank by units sold: a count that needs no currency.
    let by_category: Vec<(Option<Uuid>, i64, i64, i64, i64)> = analytics_daily::Entity::find()
        .join(
            JoinType::InnerJoin,
            analytics_daily::Entity::belongs_to(products::Entity)
                .from(D::ProductId)
                .to(products::Column::Id)
                .into(),
        )
        .filter(range.condition())
        .filter(D::Dim.eq(Dim::Product.as_str()))
        .select_only()
        .column(products::Column::CategoryId)
        .column_as(summed("units"), "units")
        .column_as(summed("product_orders"), "orders")
        .column_as(summed("views"), "views")
        .column_as(summed("add_to_carts"), "add_to_carts")
        .group_by(products::Column::CategoryId)
        .order_by_desc(Expr::cust("SUM(analytics_daily.units)"))
        .limit(TOP + 1)
        .into_tuple()
        .all(db)
        .await?;
    let all_categories = crate::catalog::taxonomy::all_categories(db).await?;
    let top_categories = by_category
        .into_iter()
        .filter_map(|(id, units, orders, views, add_to_carts)| {
            let category = all_categories.iter().find(|c| Some(c.id) == id)?.clone();
            Some((
                category,
                Figures {
                    views,
                    add_to_carts,
                    orders,
                    units,
                    revenue_minor: 0,
                },
            ))
        })
        .take(TOP as usize)
        .collect();
    let countries = sums::<String>(
        db,
        analytics_daily::Entity::find()
            .filter(range.condition())
            .filter(D::Dim.eq(Dim::Country.as_str()))
            .filter(D::Country.ne(""))
            .order_by_desc(Expr::cust("SUM(orders)"))
            .limit(TOP),
        D::Country,
    )
    .await?;
    Ok(MarketplaceAnalytics {
        range,
        totals: add_up(&days),
        previous: add_up(&before),
        series: series(range, granularity, &days),
        new_shops,
        new_buyers,
        top_categories,
        top_countries: countries
            .iter()
            .filter(|r| r.3 > 0)
            .map(|r| {
                let mut f = Figures::of_shop(counts(r));
                // Revenue across currencies has no one unit here: orders rank countries.
                f.revenue_minor = 0;
                (r.0.clone(), f)
            })
            .collect(),
        sales_by_currency,
    })
}

/// User agents of crawlers, previewers and scripts, in lower case: their visits are not
/// buyers' views.
const BOTS: [&str; 16] = [
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "preview",
    "headless",
    "lighthouse",
    "curl",
    "wget",
    "python",
    "java/",
    "go-http-client",
    "okhttp",
    "httpclient",
    "monitor",
];

/// Whether a user agent is an obvious robot (or missing, as only scripts send none).
pub fn is_bot(user_agent: Option<&str>) -> bool {
    let Some(agent) = user_agent.map(str::trim).filter(|a| !a.is_empty()) else {
        return true;
    };
    let agent = agent.to_ascii_lowercase();
    BOTS.iter().any(|b| agent.contains(b))
}

/// A front end showed a public product (by id): counted as [`count_view`] counts. Fails
/// with `NOT_FOUND` for products the public cannot see.
pub async fn record_view(
    state: &AppState,
    caller: Caller,
    user_agent: Option<&str>,
    product_id: Uuid,
    country: Option<&str>,
    channel: Option<&Attribution>,
) -> AppResult<bool> {
    // One indexed read for a guest's view.
    let shop_id: Uuid = crate::catalog::listing::public_products()
        .filter(products::Column::Id.eq(product_id))
        .select_only()
        .column(products::Column::ShopId)
        .into_tuple()
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such product".into()))?;
    count_view(
        state,
        caller,
        user_agent,
        (shop_id, product_id),
        country,
        channel,
    )
    .await
}

/// Counts a view of a product (`(shop, product)`, already known to be public) for its
/// shop's analytics, unless the viewer is a robot or one of the shop's own people; `Ok(false)`
/// when not counted. A guest's view costs no query: the count waits in memory for the next
/// flush.
pub async fn count_view(
    state: &AppState,
    caller: Caller,
    user_agent: Option<&str>,
    (shop_id, product_id): (Uuid, Uuid),
    country: Option<&str>,
    channel: Option<&Attribution>,
) -> AppResult<bool> {
    let country = match country {
        Some(c) => CountryCode::parse_field("country", c)?.as_str().to_owned(),
        None => String::new(),
    };
    if is_bot(user_agent) {
        return Ok(false);
    }
    if let Caller::User(user) = caller {
        let owner = shops::Entity::find_by_id(shop_id)
            .select_only()
            .column(shops::Column::OwnerId)
            .into_tuple::<Uuid>()
            .one(&state.db)
            .await?;
        if owner.is_some_and(|o| user.manages(o)) {
            return Ok(false);
        }
    }
    state.tally.record(
        Event::View,
        Key {
            shop_id,
            product_id,
            day: Utc::now().date_naive(),
            country,
            channel: channel.map_or_else(
                || rollups::DIRECT.to_owned(),
                |c| rollups::channel(c.source.as_deref(), c.referrer.as_deref()),
            ),
        },
    );
    Ok(true)
}

/// Writes what the tally counted since the last flush: the events, and their rollups, in
/// one transaction. On failure the counts go back to the tally for the next flush. Returns
/// how many rows of events were written.
pub async fn flush(state: &AppState) -> AppResult<usize> {
    let taken = state.tally.take();
    if taken.is_empty() {
        return Ok(0);
    }
    match write_events(state, &taken).await {
        Ok(n) => Ok(n),
        Err(e) => {
            state.tally.restore(taken);
            Err(e)
        }
    }
}

async fn write_events(state: &AppState, taken: &HashMap<(Event, Key), i64>) -> AppResult<usize> {
    let now = Utc::now();
    let events: Vec<analytics_events::ActiveModel> = taken
        .iter()
        .map(|((event, key), n)| {
            sea_orm::IntoActiveModel::into_active_model(analytics_events::Model {
                id: Uuid::now_v7(),
                kind: event.as_str().to_owned(),
                shop_id: key.shop_id,
                product_id: key.product_id,
                day: rollups::day_text(key.day),
                country: key.country.clone(),
                channel: key.channel.clone(),
                count: *n,
                recorded_at: now,
            })
        })
        .collect();
    let rows = taken
        .iter()
        .map(|((event, key), n)| (key.clone(), event.counts(*n)))
        .collect();
    let txn = crate::db::begin_write(&state.db).await?;
    for chunk in events.chunks(500) {
        analytics_events::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    rollups::add(&txn, rows).await?;
    txn.commit().await?;
    Ok(events.len())
}

/// Rows read per round trip while rebuilding.
const REBUILD_BATCH: u64 = 1_000;

/// Recomputes every rollup from the stored events and paid orders, in one transaction (the
/// old figures stay visible until it commits). Admins only. Returns the rollup rows written.
pub async fn rebuild(state: &AppState, caller: CurrentUser) -> AppResult<u64> {
    if caller.role != Role::Admin {
        return Err(AppError::Forbidden("for administrators".into()));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    analytics_daily::Entity::delete_many().exec(&txn).await?;
    let mut after: Option<Uuid> = None;
    loop {
        let mut select = analytics_events::Entity::find();
        if let Some(after) = after {
            select = select.filter(analytics_events::Column::Id.gt(after));
        }
        let batch = select
            .order_by_asc(analytics_events::Column::Id)
            .limit(REBUILD_BATCH)
            .all(&txn)
            .await?;
        let Some(last) = batch.last().map(|e| e.id) else {
            break;
        };
        let rows = batch
            .into_iter()
            .filter_map(|e| {
                let event = Event::parse(&e.kind)?;
                let day = NaiveDate::parse_from_str(&e.day, "%Y-%m-%d").ok()?;
                Some((
                    Key {
                        shop_id: e.shop_id,
                        product_id: e.product_id,
                        day,
                        country: e.country,
                        channel: e.channel,
                    },
                    event.counts(e.count),
                ))
            })
            .collect();
        rollups::add(&txn, rows).await?;
        after = Some(last);
    }
    let mut after: Option<Uuid> = None;
    loop {
        let mut select = orders::Entity::find().filter(orders::Column::PaidAt.is_not_null());
        if let Some(after) = after {
            select = select.filter(orders::Column::Id.gt(after));
        }
        let batch = select
            .order_by_asc(orders::Column::Id)
            .limit(REBUILD_BATCH)
            .all(&txn)
            .await?;
        let Some(last) = batch.last().map(|o| o.id) else {
            break;
        };
        let ids: Vec<Uuid> = batch.iter().map(|o| o.id).collect();
        let lines = order_lines::Entity::find()
            .filter(order_lines::Column::OrderId.is_in(ids))
            .all(&txn)
            .await?;
        let mut rows = Vec::new();
        for order in &batch {
            let Some(paid_at) = order.paid_at else {
                continue;
            };
            let own: Vec<order_lines::Model> = lines
                .iter()
                .filter(|l| l.order_id == order.id)
                .cloned()
                .collect();
            rows.extend(rollups::order_rows(order, &own, paid_at));
        }
        rollups::add(&txn, rows).await?;
        after = Some(last);
    }
    let written = analytics_daily::Entity::find().count(&txn).await?;
    txn.commit().await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn ranges_are_checked_and_have_a_previous_period() {
        assert!(Range::new(d("2026-02-01"), d("2026-01-31")).is_err());
        assert!(Range::new(d("2025-01-01"), d("2026-12-31")).is_ok());
        assert!(Range::new(d("2024-01-01"), d("2026-01-02")).is_err());
        let r = Range::new(d("2026-03-01"), d("2026-03-31")).unwrap_or(Range {
            from: NaiveDate::MIN,
            to: NaiveDate::MIN,
        });
        assert_eq!(
            r.previous(),
            Range {
                from: d("2026-01-29"),
                to: d("2026-02-28")
            }
        );
    }

    #[test]
    fn buckets_start_on_mondays_and_firsts() {
        assert_eq!(Granularity::Week.bucket(d("2026-12-02")), d("2026-11-30"));
        assert_eq!(Granularity::Month.bucket(d("2026-12-02")), d("2026-12-01"));
        let r = Range {
            from: d("2026-11-28"),
            to: d("2026-12-02"),
        };
        let points = series(r, Granularity::Week, &[]);
        assert_eq!(
            points.iter().map(|p| p.start).collect::<Vec<_>>(),
            vec![d("2026-11-23"), d("2026-11-30")]
        );
    }

    #[test]
    fn robots_are_not_buyers() {
        for agent in [
            None,
            Some(""),
            Some("Googlebot/2.1"),
            Some("facebookexternalhit/1.1"),
            Some("curl/8.0"),
            Some("Mozilla/5.0 HeadlessChrome/120"),
        ] {
            assert!(is_bot(agent), "{agent:?}");
        }
        assert!(!is_bot(Some(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) AppleWebKit/605.1.15 Mobile/15E148"
        )));
        assert!(!is_bot(Some("Darkhan/2.3 (Android 14)")));
    }
}
