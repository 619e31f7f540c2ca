//! The per-shop ledger: append-only entries in the shop's settlement currency. A shop's
//! balance is always computed from its entries, never stored, so it cannot drift from them.
//!
//! Every entry belongs to an order and shares its state: money of a delivered order becomes
//! available after the holding period, money of a cancelled order (fully refunded, so its
//! entries net to zero) at once; everything else is pending.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::{
    entities::{
        ledger_entries::{self, EntryKind},
        orders::{self, OrderStatus},
        platform_entries::{self, PlatformKind},
    },
    error::{AppError, AppResult},
    money,
};

/// One entry to write.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub order: &'a orders::Model,
    pub kind: EntryKind,
    pub amount_minor: i64,
    pub refund_id: Option<Uuid>,
    pub payout_id: Option<Uuid>,
}

/// Writes one entry in the order's shop currency.
pub async fn write(
    db: &impl ConnectionTrait,
    entry: NewEntry<'_>,
) -> AppResult<ledger_entries::Model> {
    Ok(ledger_entries::ActiveModel {
        id: Set(Uuid::now_v7()),
        shop_id: Set(entry.order.shop_id),
        order_id: Set(entry.order.id),
        kind: Set(entry.kind),
        amount_minor: Set(entry.amount_minor),
        currency: Set(entry.order.shop_currency.clone()),
        refund_id: Set(entry.refund_id),
        payout_id: Set(entry.payout_id),
        provider_ref: Set(None),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?)
}

/// Who may see a shop's money: its owner (the caller's own shop when `shop_id` is `None`)
/// and admins.
pub async fn finances_shop(
    db: &impl ConnectionTrait,
    caller: crate::auth::CurrentUser,
    shop_id: Option<Uuid>,
) -> AppResult<crate::entities::shops::Model> {
    use crate::entities::shops;
    let not_found = || AppError::NotFound("no such shop".into());
    let Some(id) = shop_id else {
        return crate::catalog::shops::shop_of(db, caller.id)
            .await?
            .ok_or_else(not_found);
    };
    let shop = shops::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    if caller.manages(shop.owner_id) {
        Ok(shop)
    } else {
        Err(AppError::Forbidden(
            "only the shop's owner sees its money".into(),
        ))
    }
}

/// The platform's commission on an amount at the order's frozen rate.
pub fn commission(amount_minor: i64, commission_bps: i32) -> AppResult<i64> {
    money::share(amount_minor, i64::from(commission_bps), 10_000)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("commission overflow")))
}

/// Whether the platform pays for the order's discount.
pub fn platform_funded(order: &orders::Model) -> bool {
    order.shop_discount_minor > 0 && order.discount_funded_by.as_deref() == Some("PLATFORM")
}

/// What the shop is credited for an order, in its currency: what the buyer paid, plus the
/// discount when the platform funds it (an artisan never pays for the platform's promotion).
pub fn credited(order: &orders::Model) -> i64 {
    if platform_funded(order) {
        order.shop_total_minor + order.shop_discount_minor
    } else {
        order.shop_total_minor
    }
}

/// A paid order credits its shop (see `credited`; converted at the rate locked when it was
/// placed) and debits the commission frozen on it. The platform's own ledger books that
/// commission and, for a platform-funded discount, pays for it: from the commission first,
/// and what the commission does not cover as a promotion expense.
pub async fn record_sale(db: &impl ConnectionTrait, order: &orders::Model) -> AppResult<()> {
    let credit = credited(order);
    let fee = commission(credit, order.commission_bps)?;
    for (kind, amount_minor) in [(EntryKind::Sale, credit), (EntryKind::Commission, -fee)] {
        write(
            db,
            NewEntry {
                order,
                kind,
                amount_minor,
                refund_id: None,
                payout_id: None,
            },
        )
        .await?;
    }
    let discount = if platform_funded(order) {
        order.shop_discount_minor
    } else {
        0
    };
    let absorbed = discount.min(fee);
    for (kind, amount) in [
        (PlatformKind::Commission, fee),
        (PlatformKind::DiscountAbsorbed, -absorbed),
        (PlatformKind::PromotionExpense, -(discount - absorbed)),
    ] {
        platform_write(db, order, kind, amount, None).await?;
    }
    Ok(())
}

async fn platform_write(
    db: &impl ConnectionTrait,
    order: &orders::Model,
    kind: PlatformKind,
    amount_minor: i64,
    refund_id: Option<Uuid>,
) -> AppResult<()> {
    if amount_minor == 0 {
        return Ok(());
    }
    platform_entries::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(order.id),
        kind: Set(kind),
        amount_minor: Set(amount_minor),
        currency: Set(order.shop_currency.clone()),
        refund_id: Set(refund_id),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The platform's side of a refund. `sign` −1 returns money: the commission given back to the
/// shop, and the refund's share of what the promotion cost (the last refund takes what is
/// left, so the order's platform entries end at zero). `sign` +1 books a failed refund back
/// by undoing exactly what it wrote.
pub async fn reverse_platform(
    db: &impl ConnectionTrait,
    order: &orders::Model,
    refund_id: Uuid,
    refund_amount: i64,
    commission_returned: i64,
    sign: i64,
) -> AppResult<()> {
    let rows = platform_entries::Entity::find()
        .filter(platform_entries::Column::OrderId.eq(order.id))
        .all(db)
        .await?;
    if sign > 0 {
        for row in rows.iter().filter(|r| r.refund_id == Some(refund_id)) {
            platform_write(db, order, row.kind, -row.amount_minor, Some(refund_id)).await?;
        }
        return Ok(());
    }
    platform_write(
        db,
        order,
        PlatformKind::Commission,
        -commission_returned,
        Some(refund_id),
    )
    .await?;
    let last = order.refunded_minor >= order.total_minor;
    for kind in [
        PlatformKind::DiscountAbsorbed,
        PlatformKind::PromotionExpense,
    ] {
        let of_kind = rows.iter().filter(|r| r.kind == kind);
        let booked: i64 = of_kind
            .clone()
            .filter(|r| r.refund_id.is_none())
            .map(|r| r.amount_minor)
            .sum();
        let left: i64 = of_kind.map(|r| r.amount_minor).sum();
        let back = if last {
            -left
        } else {
            -money::share(booked, refund_amount, order.total_minor)
                .ok_or_else(|| AppError::Internal(anyhow::anyhow!("refund share overflow")))?
        };
        platform_write(db, order, kind, back, Some(refund_id)).await?;
    }
    Ok(())
}

/// The platform's account in one currency.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlatformTotals {
    pub commission: i64,
    pub discount_absorbed: i64,
    pub promotion_expense: i64,
}

/// The platform's account per currency, from its entries. Admins only.
pub async fn platform_totals(
    db: &impl ConnectionTrait,
    caller: crate::auth::CurrentUser,
) -> AppResult<BTreeMap<String, PlatformTotals>> {
    caller.require_role(&[crate::entities::users::Role::Admin])?;
    let rows: Vec<(String, PlatformKind, i64)> = platform_entries::Entity::find()
        .select_only()
        .column(platform_entries::Column::Currency)
        .column(platform_entries::Column::Kind)
        .column(platform_entries::Column::AmountMinor)
        .into_tuple()
        .all(db)
        .await?;
    let mut out: BTreeMap<String, PlatformTotals> = BTreeMap::new();
    for (currency, kind, amount) in rows {
        let totals = out.entry(currency).or_default();
        match kind {
            PlatformKind::Commission => totals.commission += amount,
            PlatformKind::DiscountAbsorbed => totals.discount_absorbed += amount,
            PlatformKind::PromotionExpense => totals.promotion_expense += amount,
        }
    }
    Ok(out)
}

/// The sum of one order's entries of the given kinds.
pub async fn order_sum(
    db: &impl ConnectionTrait,
    order_id: Uuid,
    kinds: &[EntryKind],
) -> AppResult<i64> {
    let amounts: Vec<i64> = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::AmountMinor)
        .filter(ledger_entries::Column::OrderId.eq(order_id))
        .filter(ledger_entries::Column::Kind.is_in(kinds.iter().copied()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(amounts.iter().sum())
}

/// What one order contributes to its shop's balance.
#[derive(Debug, Clone)]
pub struct OrderNet {
    pub order: orders::Model,
    pub currency: String,
    pub net_minor: i64,
    pub available: bool,
}

/// Whether an order's money can be paid out now.
pub fn is_available(order: &orders::Model, holding_days: i64, now: DateTime<Utc>) -> bool {
    match order.status {
        OrderStatus::Cancelled => true,
        OrderStatus::Delivered => order
            .delivered_at
            .is_some_and(|at| at + Duration::days(holding_days) <= now),
        _ => false,
    }
}

/// Each order's net in the shop's ledger, with whether it is available.
pub async fn order_nets(
    db: &impl ConnectionTrait,
    shop_id: Uuid,
    holding_days: i64,
    now: DateTime<Utc>,
) -> AppResult<Vec<OrderNet>> {
    let rows: Vec<(Uuid, String, i64)> = ledger_entries::Entity::find()
        .select_only()
        .column(ledger_entries::Column::OrderId)
        .column(ledger_entries::Column::Currency)
        .column(ledger_entries::Column::AmountMinor)
        .filter(ledger_entries::Column::ShopId.eq(shop_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut sums: BTreeMap<(Uuid, String), i64> = BTreeMap::new();
    for (order, currency, amount) in rows {
        *sums.entry((order, currency)).or_default() += amount;
    }
    let ids: Vec<Uuid> = sums.keys().map(|(id, _)| *id).collect();
    let orders: HashMap<Uuid, orders::Model> = orders::Entity::find()
        .filter(orders::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|o| (o.id, o))
        .collect();
    let mut nets = Vec::with_capacity(sums.len());
    for ((order_id, currency), net_minor) in sums {
        let order = orders
            .get(&order_id)
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("ledger names a missing order")))?;
        nets.push(OrderNet {
            available: is_available(&order, holding_days, now),
            order,
            currency,
            net_minor,
        });
    }
    Ok(nets)
}

/// A shop's balance in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub currency: String,
    pub pending_minor: i64,
    pub available_minor: i64,
}

/// Sums order nets into balances per currency.
pub fn balances(nets: &[OrderNet]) -> Vec<Balance> {
    let mut by_currency: BTreeMap<&str, Balance> = BTreeMap::new();
    for net in nets {
        let b = by_currency
            .entry(net.currency.as_str())
            .or_insert_with(|| Balance {
                currency: net.currency.clone(),
                pending_minor: 0,
                available_minor: 0,
            });
        if net.available {
            b.available_minor += net.net_minor;
        } else {
            b.pending_minor += net.net_minor;
        }
    }
    by_currency.into_values().collect()
}

/// A shop's entries, newest first.
pub async fn entries(
    db: &impl ConnectionTrait,
    shop_id: Uuid,
    limit: u64,
) -> AppResult<Vec<ledger_entries::Model>> {
    Ok(ledger_entries::Entity::find()
        .filter(ledger_entries::Column::ShopId.eq(shop_id))
        .order_by_desc(ledger_entries::Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: OrderStatus, delivered: Option<DateTime<Utc>>) -> orders::Model {
        let now = Utc::now();
        orders::Model {
            id: Uuid::nil(),
            checkout_id: Uuid::nil(),
            shop_id: Uuid::nil(),
            buyer_id: Uuid::nil(),
            number: "DK-2026-000001".into(),
            status,
            currency: "EUR".into(),
            subtotal_minor: 0,
            shipping_minor: 0,
            total_minor: 0,
            shop_currency: "MNT".into(),
            shop_subtotal_minor: 0,
            shop_shipping_minor: 0,
            shop_total_minor: 0,
            exchange_rate: "1/1".into(),
            shipping_address: "{}".into(),
            carrier: None,
            tracking_number: None,
            created_at: now,
            updated_at: now,
            expires_at: now,
            paid_at: None,
            commission_bps: 1000,
            refunded_minor: 0,
            delivered_at: delivered,
            discount_minor: 0,
            shop_discount_minor: 0,
            promotion_id: None,
            discount_funded_by: None,
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            referrer: None,
            rate_to_mnt: None,
            rate_to_usd: None,
        }
    }

    #[test]
    fn money_waits_for_delivery_and_the_holding_period() {
        let now = Utc::now();
        assert!(!is_available(&order(OrderStatus::Paid, None), 14, now));
        assert!(!is_available(&order(OrderStatus::Shipped, None), 14, now));
        let yesterday = Some(now - Duration::days(1));
        assert!(!is_available(
            &order(OrderStatus::Delivered, yesterday),
            14,
            now
        ));
        assert!(is_available(
            &order(OrderStatus::Delivered, yesterday),
            1,
            now
        ));
        let long_ago = Some(now - Duration::days(15));
        assert!(is_available(
            &order(OrderStatus::Delivered, long_ago),
            14,
            now
        ));
        // A cancelled (fully refunded) order nets to zero and holds nothing back.
        assert!(is_available(&order(OrderStatus::Cancelled, None), 14, now));
    }

    #[test]
    fn commission_is_frozen_basis_points_rounded_half_even() {
        assert_eq!(commission(41_000_000, 1000).ok(), Some(4_100_000));
        assert_eq!(commission(12_345, 1000).ok(), Some(1_234));
        assert_eq!(commission(12_355, 1000).ok(), Some(1_236));
        assert_eq!(commission(5_000, 0).ok(), Some(0));
    }
}
