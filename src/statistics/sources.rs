//! What the facts are computed from: a batch of orders' lines, crafts, makers, payment
//! methods and shipping, each buyer's first paid order, and the rates an order is counted at,
//! read with a handful of queries per batch and handed to the pure
//! [`contribution`](super::facts::contribution). Reading only: the rates to lock on orders
//! placed before rates were locked are returned for the caller's transaction to write.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::Expr,
};
use uuid::Uuid;

use super::facts::{Buyer, Fact, Line, OrderInput, PaidOrder, contribution};
use crate::{
    entities::{
        checkouts, order_events, order_lines,
        orders::{self, OrderStatus},
        product_makers, products,
    },
    error::AppResult,
    money::{Currency, HOME, Rate, Rates},
};

/// A batch of orders' facts, and the rates to lock on orders placed before rates were locked
/// ([`RatesToLock::lock`]): computing reads only, so a rebuild can compute on one connection
/// while it writes on another.
#[derive(Debug, Default)]
pub(super) struct BatchFacts {
    pub facts: Vec<(Uuid, Vec<Fact>)>,
    pub to_lock: RatesToLock,
}

/// The facts of a batch of orders, read with a handful of queries. Orders placed before rates
/// were locked are counted at today's rates, which the caller locks on them with the facts,
/// so every later count uses the same ones.
pub(super) async fn facts_of(
    db: &impl ConnectionTrait,
    batch: &[PaidOrder],
    rates: &Rates,
    firsts: &Firsts,
    products: &mut Products,
) -> AppResult<BatchFacts> {
    let paid: Vec<&PaidOrder> = batch.iter().filter(|o| o.paid_at.is_some()).collect();
    let ids: Vec<Uuid> = paid.iter().map(|o| o.id).collect();
    if ids.is_empty() {
        return Ok(BatchFacts {
            facts: batch.iter().map(|o| (o.id, Vec::new())).collect(),
            to_lock: RatesToLock::default(),
        });
    }
    // Only the columns the statistics read: a rebuild reads every line.
    let lines: Vec<(Uuid, Uuid, i32, i64, i64)> = order_lines::Entity::find()
        .select_only()
        .columns([
            order_lines::Column::OrderId,
            order_lines::Column::ProductId,
            order_lines::Column::Quantity,
            order_lines::Column::ShopUnitPriceMinor,
            order_lines::Column::ShopDiscountMinor,
        ])
        .filter(order_lines::Column::OrderId.is_in(ids.clone()))
        .order_by_asc(order_lines::Column::Position)
        .into_tuple()
        .all(db)
        .await?;
    products.read(db, lines.iter().map(|l| l.1)).await?;
    let mut checkout_ids: Vec<Uuid> = paid.iter().map(|o| o.checkout_id).collect();
    checkout_ids.sort_unstable();
    checkout_ids.dedup();
    let methods: HashMap<Uuid, String> = checkouts::Entity::find()
        .select_only()
        .column(checkouts::Column::Id)
        .column(checkouts::Column::PaymentMethod)
        .filter(checkouts::Column::Id.is_in(checkout_ids))
        .into_tuple::<(Uuid, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let mut shipped: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    for (order, at) in order_events::Entity::find()
        .select_only()
        .column(order_events::Column::OrderId)
        .column(order_events::Column::CreatedAt)
        .filter(order_events::Column::OrderId.is_in(ids))
        .filter(order_events::Column::ToStatus.eq(OrderStatus::Shipped))
        .into_tuple::<(Uuid, DateTime<Utc>)>()
        .all(db)
        .await?
    {
        let first = shipped.entry(order).or_insert(at);
        *first = (*first).min(at);
    }
    let mut lines_of: HashMap<Uuid, Vec<Line>> = HashMap::new();
    for (order_id, product_id, quantity, unit_price, discount) in lines {
        let (category_id, makers) = products.get(product_id);
        lines_of.entry(order_id).or_default().push(Line {
            category_id,
            quantity: i64::from(quantity),
            value: unit_price * i64::from(quantity),
            discount,
            makers,
        });
    }
    let mut out = Vec::with_capacity(batch.len());
    let mut to_lock = RatesToLock::default();
    for order in batch {
        if order.paid_at.is_none() {
            out.push((order.id, Vec::new()));
            continue;
        }
        let (to_mnt, to_usd) = locked_rates(order, rates, &mut to_lock);
        let first = firsts.get(&order.buyer_id);
        let input = OrderInput {
            order,
            lines: lines_of.remove(&order.id).unwrap_or_default(),
            method: methods.get(&order.checkout_id).cloned().unwrap_or_default(),
            to_mnt,
            to_usd,
            buyer: Buyer {
                first: first.is_some_and(|(id, _)| *id == order.id),
                returning: first.is_some_and(|(_, checkout)| *checkout != order.checkout_id),
            },
            shipped_at: shipped.get(&order.id).copied(),
        };
        out.push((order.id, contribution(&input)));
    }
    Ok(BatchFacts {
        facts: out,
        to_lock,
    })
}

/// Products' crafts and makers, each product read once for as long as this is kept: a
/// rebuild keeps it for all its batches, which name the same catalogue over and over.
#[derive(Debug, Default)]
pub(super) struct Products(HashMap<Uuid, (Uuid, Vec<Uuid>)>);

impl Products {
    /// Reads those of `ids` not read yet.
    async fn read(
        &mut self,
        db: &impl ConnectionTrait,
        ids: impl Iterator<Item = Uuid>,
    ) -> AppResult<()> {
        let mut ids: Vec<Uuid> = ids.filter(|id| !self.0.contains_key(id)).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        let crafts: Vec<(Uuid, Option<Uuid>)> = products::Entity::find()
            .select_only()
            .column(products::Column::Id)
            .column(products::Column::CategoryId)
            .filter(products::Column::Id.is_in(ids.clone()))
            .into_tuple()
            .all(db)
            .await?;
        let mut makers_of: HashMap<Uuid, Vec<(i32, Uuid)>> = HashMap::new();
        for credit in product_makers::Entity::find()
            .filter(product_makers::Column::ProductId.is_in(ids.iter().copied()))
            .all(db)
            .await?
        {
            makers_of
                .entry(credit.product_id)
                .or_default()
                .push((credit.position, credit.maker_id));
        }
        for (id, category) in crafts {
            let mut credits = makers_of.remove(&id).unwrap_or_default();
            credits.sort_unstable();
            let makers = credits.into_iter().map(|(_, maker)| maker).collect();
            self.0
                .insert(id, (category.unwrap_or_else(Uuid::nil), makers));
        }
        for id in ids {
            self.0
                .entry(id)
                .or_insert_with(|| (Uuid::nil(), Vec::new()));
        }
        Ok(())
    }

    /// A product's craft (nil for none, or a product gone) and makers in their order.
    fn get(&self, id: Uuid) -> (Uuid, Vec<Uuid>) {
        self.0
            .get(&id)
            .cloned()
            .unwrap_or_else(|| (Uuid::nil(), Vec::new()))
    }
}

/// Each buyer's first paid order and its checkout.
pub(super) type Firsts = HashMap<Uuid, (Uuid, Uuid)>;

/// The first paid order (earliest payment, then lowest id) of each of `buyers`, or of every
/// buyer with `None` (one scan, for a rebuild).
pub(super) async fn first_paid(
    db: &impl ConnectionTrait,
    buyers: Option<Vec<Uuid>>,
) -> AppResult<Firsts> {
    let query = || {
        orders::Entity::find()
            .select_only()
            .column(orders::Column::BuyerId)
            .column(orders::Column::PaidAt)
            .column(orders::Column::Id)
            .column(orders::Column::CheckoutId)
            .filter(orders::Column::PaidAt.is_not_null())
    };
    let rows: Vec<(Uuid, DateTime<Utc>, Uuid, Uuid)> = match buyers {
        None => query().into_tuple().all(db).await?,
        Some(mut buyers) => {
            buyers.sort_unstable();
            buyers.dedup();
            let mut rows = Vec::new();
            for chunk in buyers.chunks(500) {
                rows.extend(
                    query()
                        .filter(orders::Column::BuyerId.is_in(chunk.to_vec()))
                        .into_tuple::<(Uuid, DateTime<Utc>, Uuid, Uuid)>()
                        .all(db)
                        .await?,
                );
            }
            rows
        }
    };
    let mut firsts: HashMap<Uuid, (DateTime<Utc>, Uuid, Uuid)> = HashMap::new();
    for (buyer, at, id, checkout) in rows {
        let e = firsts.entry(buyer).or_insert((at, id, checkout));
        if (at, id) < (e.0, e.1) {
            *e = (at, id, checkout);
        }
    }
    Ok(firsts
        .into_iter()
        .map(|(b, (_, id, checkout))| (b, (id, checkout)))
        .collect())
}

/// The order's locked rates; for an order placed before they were locked, today's, noted in
/// `to_lock` to be written onto the order so every later count uses them too.
fn locked_rates(
    order: &PaidOrder,
    rates: &Rates,
    to_lock: &mut RatesToLock,
) -> (Option<Rate>, Option<Rate>) {
    let read = |t: &Option<String>| t.as_deref().and_then(Rate::from_fraction);
    if order.rate_to_mnt.is_some() || order.rate_to_usd.is_some() {
        return (read(&order.rate_to_mnt), read(&order.rate_to_usd));
    }
    let from = Currency::parse(&order.shop_currency);
    let today = |code: &str| Some(rates.rate(from?, Currency::parse(code)?)).flatten();
    let (mnt, usd) = (today(HOME), today("USD"));
    if mnt.is_some() || usd.is_some() {
        to_lock.0.push((order.id, mnt, usd));
    }
    (mnt, usd)
}

/// Today's rates to lock on orders that had none: (order, to tögrög, to dollars).
#[derive(Debug, Default)]
pub(super) struct RatesToLock(Vec<(Uuid, Option<Rate>, Option<Rate>)>);

impl RatesToLock {
    /// Writes the rates onto their orders, unless another count locked some first.
    pub(super) async fn lock(&self, db: &impl ConnectionTrait) -> AppResult<()> {
        for (id, mnt, usd) in &self.0 {
            orders::Entity::update_many()
                .col_expr(
                    orders::Column::RateToMnt,
                    Expr::value(mnt.map(Rate::to_fraction)),
                )
                .col_expr(
                    orders::Column::RateToUsd,
                    Expr::value(usd.map(Rate::to_fraction)),
                )
                .filter(orders::Column::Id.eq(*id))
                .filter(orders::Column::RateToMnt.is_null())
                .filter(orders::Column::RateToUsd.is_null())
                .exec(db)
                .await?;
        }
        Ok(())
    }
}
