//! Sales by channel for a shop: its paid orders grouped by the UTM source, medium and campaign
//! frozen on them at checkout.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect,
};
use uuid::Uuid;

use crate::{
    auth::{CurrentUser, managed_shop},
    entities::orders::{self, OrderStatus},
    error::{AppError, AppResult},
};

/// Most channels one report lists (the rest are the smallest).
pub const MAX_ROWS: usize = 100;

/// One channel's paid orders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSales {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub orders: i64,
    /// What buyers paid, in the shop's currency at each order's locked rate, before refunds.
    pub revenue_minor: i64,
    pub currency: String,
}

/// Source, medium, campaign and the shop's currency.
type Key = (Option<String>, Option<String>, Option<String>, String);

/// What one paid order brings to the report.
#[derive(Debug, FromQueryResult)]
struct Row {
    utm_source: Option<String>,
    utm_medium: Option<String>,
    utm_campaign: Option<String>,
    shop_currency: String,
    shop_total_minor: i64,
}

/// The shop's orders paid in `[from, to)`, by channel, largest revenue first. Its owner and
/// admins only.
pub async fn shop_channels(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
    shop_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Vec<ChannelSales>> {
    managed_shop(db, caller, shop_id).await?;
    if to <= from {
        return Err(AppError::invalid("to", "the period ends after it starts"));
    }
    let rows: Vec<Row> = orders::Entity::find()
        .select_only()
        .column(orders::Column::UtmSource)
        .column(orders::Column::UtmMedium)
        .column(orders::Column::UtmCampaign)
        .column(orders::Column::ShopCurrency)
        .column(orders::Column::ShopTotalMinor)
        .filter(orders::Column::ShopId.eq(shop_id))
        .filter(orders::Column::Status.is_in([
            OrderStatus::Paid,
            OrderStatus::Shipped,
            OrderStatus::Delivered,
        ]))
        .filter(orders::Column::PaidAt.gte(from))
        .filter(orders::Column::PaidAt.lt(to))
        .into_model::<Row>()
        .all(db)
        .await?;
    let mut by_channel: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
    for row in rows {
        let key = (
            row.utm_source,
            row.utm_medium,
            row.utm_campaign,
            row.shop_currency,
        );
        let entry = by_channel.entry(key).or_default();
        entry.0 += 1;
        entry.1 += row.shop_total_minor;
    }
    let mut out: Vec<ChannelSales> = by_channel
        .into_iter()
        .map(
            |((source, medium, campaign, currency), (orders, revenue_minor))| ChannelSales {
                source,
                medium,
                campaign,
                orders,
                revenue_minor,
                currency,
            },
        )
        .collect();
    out.sort_by(|a, b| {
        b.revenue_minor
            .cmp(&a.revenue_minor)
            .then(b.orders.cmp(&a.orders))
    });
    out.truncate(MAX_ROWS);
    Ok(out)
}
