//! Daily analytics rollups, kept current as things happen, and the in-memory tally of events
//! too frequent to write one by one.
//!
//! Core, like the outbox: the orders domain books a sale into the rollups inside the
//! transaction that marks the order paid, so the figures can never disagree with the orders;
//! views and additions to carts are counted in memory ([`Tally`]) and written in batches by
//! the distribution domain, which also reads and rebuilds the rollups. Market statistics are
//! kept the same way: a change to an order queues it ([`statistics_due`]) in its own
//! transaction, and the statistics domain recomputes its facts from the queue.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ConnectionTrait, EntityTrait,
    sea_query::{Expr, ExprTrait, OnConflict},
};
use uuid::Uuid;

use crate::entities::{analytics_daily, order_lines, orders};
use crate::error::AppResult;

/// The channel of a visit or order: its UTM source, else the referring site, else direct.
pub fn channel(source: Option<&str>, referrer: Option<&str>) -> String {
    source
        .or(referrer)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(DIRECT)
        .to_owned()
}

/// Visits and orders that came with no source and no referrer.
pub const DIRECT: &str = "direct";

/// A rollup row's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub shop_id: Uuid,
    /// `Uuid::nil()` for whole orders.
    pub product_id: Uuid,
    pub day: NaiveDate,
    /// ISO 3166-1 alpha-2, empty when unknown.
    pub country: String,
    pub channel: String,
}

/// What a rollup row adds up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub views: i64,
    pub add_to_carts: i64,
    pub orders: i64,
    pub revenue_minor: i64,
    pub product_orders: i64,
    pub units: i64,
    pub product_revenue_minor: i64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Self) {
        self.views += o.views;
        self.add_to_carts += o.add_to_carts;
        self.orders += o.orders;
        self.revenue_minor += o.revenue_minor;
        self.product_orders += o.product_orders;
        self.units += o.units;
        self.product_revenue_minor += o.product_revenue_minor;
    }
}

/// How rollup days are written: `YYYY-MM-DD` sorts as it reads on every database.
pub fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The breakdowns a rollup row can belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    /// The shop's whole day.
    Total,
    /// By buyer country.
    Country,
    /// By channel.
    Channel,
    /// By product.
    Product,
}

impl Dim {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Total => "T",
            Self::Country => "C",
            Self::Channel => "H",
            Self::Product => "P",
        }
    }
}

/// Where a counted thing lands: the shop's day, its country and channel rows, and its
/// product's row when it is about a product.
fn spread(key: Key) -> Vec<(Dim, Key)> {
    let blank = |product_id, country: &str, channel: &str| Key {
        shop_id: key.shop_id,
        product_id,
        day: key.day,
        country: country.to_owned(),
        channel: channel.to_owned(),
    };
    let mut rows = vec![
        (Dim::Total, blank(Uuid::nil(), "", "")),
        (Dim::Country, blank(Uuid::nil(), &key.country, "")),
        (Dim::Channel, blank(Uuid::nil(), "", &key.channel)),
    ];
    if !key.product_id.is_nil() {
        rows.push((Dim::Product, blank(key.product_id, "", "")));
    }
    rows
}

/// Adds `rows` to the rollups, creating rows as needed. Safe under concurrent writers: each
/// row is one `INSERT … ON CONFLICT DO UPDATE` adding to what is there, and every writer
/// reaches the rows in one order (by key). In any other order two payments for one shop's
/// day each locked a row the other wanted next, and PostgreSQL cancelled one as a deadlock.
pub async fn add(db: &impl ConnectionTrait, rows: Vec<(Key, Counts)>) -> AppResult<()> {
    use analytics_daily::Column as C;
    let mut merged: BTreeMap<(Dim, Key), Counts> = BTreeMap::new();
    for (key, counts) in rows {
        for target in spread(key) {
            *merged.entry(target).or_default() += counts;
        }
    }
    let summed = [
        C::Views,
        C::AddToCarts,
        C::Orders,
        C::RevenueMinor,
        C::ProductOrders,
        C::Units,
        C::ProductRevenueMinor,
    ];
    let mut on_conflict = OnConflict::columns([
        C::ShopId,
        C::Dim,
        C::Day,
        C::ProductId,
        C::Country,
        C::Channel,
    ]);
    for col in summed {
        on_conflict.value(
            col,
            Expr::col((analytics_daily::Entity, col))
                .add(Expr::col((sea_orm::sea_query::Alias::new("excluded"), col))),
        );
    }
    let models: Vec<analytics_daily::ActiveModel> = merged
        .into_iter()
        .map(|((dim, k), c)| {
            sea_orm::IntoActiveModel::into_active_model(analytics_daily::Model {
                id: Uuid::now_v7(),
                shop_id: k.shop_id,
                dim: dim.as_str().to_owned(),
                product_id: k.product_id,
                day: day_text(k.day),
                country: k.country,
                channel: k.channel,
                views: c.views,
                add_to_carts: c.add_to_carts,
                orders: c.orders,
                revenue_minor: c.revenue_minor,
                product_orders: c.product_orders,
                units: c.units,
                product_revenue_minor: c.product_revenue_minor,
            })
        })
        .collect();
    // Bounded statements: a parameter limit applies on both databases.
    for chunk in models.chunks(500) {
        analytics_daily::Entity::insert_many(chunk.to_vec())
            .on_conflict(on_conflict.clone())
            .exec(db)
            .await?;
    }
    Ok(())
}

/// The rollup rows a paid order adds: one for the whole order and one per product, on the
/// day it was paid, under the country it ships to and the channel it came from. Amounts in
/// the shop's currency: the order as the shop is paid for it, lines after the shop's share
/// of any discount.
pub fn order_rows(
    order: &orders::Model,
    lines: &[order_lines::Model],
    paid_at: DateTime<Utc>,
) -> Vec<(Key, Counts)> {
    let country = serde_json::from_str::<serde_json::Value>(&order.shipping_address)
        .ok()
        .and_then(|a| a["country"].as_str().map(str::to_owned))
        .filter(|c| c.len() == 2)
        .unwrap_or_default();
    let key = |product_id| Key {
        shop_id: order.shop_id,
        product_id,
        day: paid_at.date_naive(),
        country: country.clone(),
        channel: channel(order.utm_source.as_deref(), order.referrer.as_deref()),
    };
    let mut rows = vec![(
        key(Uuid::nil()),
        Counts {
            orders: 1,
            revenue_minor: order.shop_total_minor,
            ..Counts::default()
        },
    )];
    let mut per_product: HashMap<Uuid, (i64, i64)> = HashMap::new();
    for line in lines {
        let entry = per_product.entry(line.product_id).or_default();
        entry.0 += i64::from(line.quantity);
        entry.1 += line.shop_unit_price_minor * i64::from(line.quantity) - line.shop_discount_minor;
    }
    for (product, (units, revenue)) in per_product {
        rows.push((
            key(product),
            Counts {
                product_orders: 1,
                units,
                product_revenue_minor: revenue,
                ..Counts::default()
            },
        ));
    }
    rows
}

/// Books a paid order into the rollups, in the transaction that marks it paid.
pub async fn order_paid(
    txn: &impl ConnectionTrait,
    order: &orders::Model,
    lines: &[order_lines::Model],
    paid_at: DateTime<Utc>,
) -> AppResult<()> {
    add(txn, order_rows(order, lines, paid_at)).await
}

/// Queues an order for the statistics domain to recompute its facts, in the transaction that
/// changed it: the change and the note that it happened commit together or not at all.
pub async fn statistics_due(db: &impl ConnectionTrait, order_id: Uuid) -> AppResult<()> {
    use crate::entities::statistics_queue as q;
    q::Entity::insert(q::ActiveModel {
        order_id: sea_orm::Set(order_id),
        queued_at: sea_orm::Set(Utc::now()),
    })
    // An update, not "do nothing": it waits for a drain that has claimed the row, so a change
    // made while its order was being recomputed queues it again instead of being lost.
    .on_conflict(
        OnConflict::column(q::Column::OrderId)
            .update_column(q::Column::QueuedAt)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

/// Events counted in memory until the next flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    View,
    AddToCart,
}

impl Event {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::View => "VIEW",
            Self::AddToCart => "ADD_TO_CART",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "VIEW" => Some(Self::View),
            "ADD_TO_CART" => Some(Self::AddToCart),
            _ => None,
        }
    }

    /// The rollup counts `n` such events add.
    pub fn counts(self, n: i64) -> Counts {
        match self {
            Self::View => Counts {
                views: n,
                ..Counts::default()
            },
            Self::AddToCart => Counts {
                add_to_carts: n,
                ..Counts::default()
            },
        }
    }
}

/// Counts of events since the last flush. Recording is a hash-map increment under a lock
/// held for nanoseconds: what a product page pays for being counted.
#[derive(Debug, Default)]
pub struct Tally(std::sync::Mutex<HashMap<(Event, Key), i64>>);

impl Tally {
    pub fn record(&self, event: Event, key: Key) {
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry((event, key)).or_default() += 1;
        }
    }

    /// Everything counted so far, leaving the tally empty.
    pub fn take(&self) -> HashMap<(Event, Key), i64> {
        self.0
            .lock()
            .map(|mut counts| std::mem::take(&mut *counts))
            .unwrap_or_default()
    }

    /// Puts back what a failed flush took, so nothing is lost.
    pub fn restore(&self, taken: HashMap<(Event, Key), i64>) {
        if let Ok(mut counts) = self.0.lock() {
            for (key, n) in taken {
                *counts.entry(key).or_default() += n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_prefer_the_utm_source_then_the_referrer() {
        assert_eq!(channel(Some("instagram"), Some("t.co")), "instagram");
        assert_eq!(channel(None, Some("t.co")), "t.co");
        assert_eq!(channel(Some("  "), None), "direct");
        assert_eq!(channel(None, None), "direct");
    }

    #[test]
    fn the_tally_counts_and_gives_back() {
        let tally = Tally::default();
        let key = Key {
            shop_id: Uuid::nil(),
            product_id: Uuid::from_u128(1),
            day: NaiveDate::MIN,
            country: "DE".into(),
            channel: DIRECT.into(),
        };
        tally.record(Event::View, key.clone());
        tally.record(Event::View, key.clone());
        let taken = tally.take();
        assert_eq!(taken.get(&(Event::View, key.clone())), Some(&2));
        assert!(tally.take().is_empty());
        tally.restore(taken);
        tally.record(Event::View, key.clone());
        assert_eq!(tally.take().get(&(Event::View, key)), Some(&3));
    }
}
