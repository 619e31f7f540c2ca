//! Moving orders through their states: every change checked by `state::check`, written with
//! a conditional update (so two racing changes cannot both win), and recorded as an event.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QuerySelect, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::state::{self, Party};
use crate::{
    auth::CurrentUser,
    entities::{
        order_events, order_lines,
        orders::{self, OrderStatus},
        product_variants, shops,
    },
    error::{AppError, AppResult},
    events::DomainEvent,
    state::AppState,
};

/// Shipment details given when marking an order shipped.
#[derive(Debug, Clone)]
pub struct Shipment {
    pub carrier: String,
    pub tracking_number: String,
    /// The carrier's name and tracking page, once looked up in the configured carriers.
    link: Option<(String, Option<String>)>,
}

impl Shipment {
    pub fn new(carrier: String, tracking_number: String) -> Self {
        Self {
            carrier,
            tracking_number,
            link: None,
        }
    }

    /// Looks the carrier up, for the tracking link in the buyer's message.
    fn linked(mut self, carriers: &[crate::config::Carrier]) -> Self {
        self.link = Some(tracking(carriers, &self.carrier, &self.tracking_number));
        self
    }
}

/// How a shipment is followed: the carrier's name and, for carriers the platform knows, the
/// page that tracks it. `carrier` is stored as given (a known carrier's code matches in any
/// case).
pub fn tracking(
    carriers: &[crate::config::Carrier],
    carrier: &str,
    number: &str,
) -> (String, Option<String>) {
    match carriers
        .iter()
        .find(|c| c.code.eq_ignore_ascii_case(carrier.trim()))
    {
        Some(known) => {
            let number: String = number
                .trim()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .collect();
            (
                known.name.clone(),
                Some(known.tracking_url.replace("{tracking}", &number)),
            )
        }
        None => (carrier.trim().to_owned(), None),
    }
}

/// The order and the caller's part in it; `NOT_FOUND` for anyone without one, so order ids
/// reveal nothing.
pub async fn order_for(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
    id: Uuid,
) -> AppResult<(orders::Model, Party)> {
    let not_found = || AppError::NotFound("no such order".into());
    let order = orders::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let shop = shops::Entity::find_by_id(order.shop_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let party = Party::of(caller, &order, shop.owner_id).ok_or_else(not_found)?;
    Ok((order, party))
}

/// Moves an order to `to` on behalf of the caller.
#[tracing::instrument(skip_all, fields(user = %caller.id, order = %id))]
pub async fn transition(
    state: &AppState,
    caller: CurrentUser,
    id: Uuid,
    to: OrderStatus,
    note: Option<String>,
    shipment: Option<Shipment>,
) -> AppResult<orders::Model> {
    let (order, party) = order_for(&state.db, caller, id).await?;
    apply(state, order, to, party, Some(caller.id), note, shipment).await
}

/// Applies a checked transition; also used by the system (expiry) with no actor.
pub async fn apply(
    state: &AppState,
    order: orders::Model,
    to: OrderStatus,
    party: Party,
    actor: Option<Uuid>,
    note: Option<String>,
    shipment: Option<Shipment>,
) -> AppResult<orders::Model> {
    let shipment = shipment.map(|s| s.linked(&state.settings.orders.carriers));
    let from = order.status;
    let txn = crate::db::begin_write(&state.db).await?;
    let order = apply_in(&txn, order, to, party, actor, note, shipment).await?;
    txn.commit().await?;
    published(state, &order).await;
    if state::returns_stock(from, to) || state::takes_stock(from, to) {
        stock_moved(state, &[order.id]).await;
    }
    Ok(order)
}

/// After a committed change that gave stock back or took it again: cached catalogue answers
/// that showed these orders' products are forgotten, on every server. Called after commit,
/// so a failure to read the lines is logged rather than failing a change that happened.
pub async fn stock_moved(state: &AppState, orders: &[Uuid]) {
    let products = order_lines::Entity::find()
        .select_only()
        .column(order_lines::Column::ProductId)
        .filter(order_lines::Column::OrderId.is_in(orders.iter().copied()))
        .into_tuple::<Uuid>()
        .all(&state.db)
        .await;
    match products {
        Ok(products) => state.stock_changed(products),
        Err(e) => {
            tracing::warn!(error = %e, "reading moved stock failed; forgetting the whole cache");
            state.catalogue_changed();
        }
    }
}

/// Writes one entry of an order's history: a status change (`from` → `to`), or a note on the
/// order with `from == to`. Every order event is written here.
pub async fn record_event(
    db: &impl ConnectionTrait,
    order: Uuid,
    from: Option<OrderStatus>,
    to: OrderStatus,
    actor: Option<Uuid>,
    note: Option<String>,
) -> AppResult<()> {
    order_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        order_id: Set(order),
        from_status: Set(from),
        to_status: Set(to),
        actor_id: Set(actor),
        note: Set(note),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// Tells live subscribers, after the change committed.
pub async fn published(state: &AppState, order: &orders::Model) {
    state
        .events
        .publish(DomainEvent::OrderUpdated {
            order_id: order.id,
            buyer_id: order.buyer_id,
            shop_id: order.shop_id,
        })
        .await;
}

/// The transition inside the caller's transaction: conditional status update, stock back if
/// due, and the event.
pub async fn apply_in(
    txn: &DatabaseTransaction,
    order: orders::Model,
    to: OrderStatus,
    party: Party,
    actor: Option<Uuid>,
    note: Option<String>,
    shipment: Option<Shipment>,
) -> AppResult<orders::Model> {
    let from = order.status;
    state::check(from, to, party)?;
    if (from, to) == (OrderStatus::Cancelled, OrderStatus::PendingPayment)
        && order.paid_at.is_some()
    {
        return Err(AppError::Conflict(
            "this order was paid and refunded; it cannot be reinstated".into(),
        ));
    }
    let note = note
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(500).collect::<String>());
    if to == OrderStatus::Shipped {
        let ok = shipment.as_ref().is_some_and(|s| {
            !s.carrier.trim().is_empty()
                && !s.tracking_number.trim().is_empty()
                && s.carrier.len() <= 100
                && s.tracking_number.len() <= 100
        });
        if !ok {
            return Err(AppError::invalid(
                "trackingNumber",
                "a carrier and tracking number are needed",
            ));
        }
    }
    let now = Utc::now();
    let mut update = orders::Entity::update_many()
        .col_expr(orders::Column::Status, Expr::value(to))
        .col_expr(orders::Column::UpdatedAt, Expr::value(now))
        .filter(orders::Column::Id.eq(order.id))
        .filter(orders::Column::Status.eq(from));
    if to == OrderStatus::Paid {
        update = update.col_expr(orders::Column::PaidAt, Expr::value(Some(now)));
    }
    if to == OrderStatus::Delivered {
        update = update.col_expr(orders::Column::DeliveredAt, Expr::value(Some(now)));
    }
    if let Some(s) = &shipment {
        update = update
            .col_expr(
                orders::Column::Carrier,
                Expr::value(Some(s.carrier.trim().to_owned())),
            )
            .col_expr(
                orders::Column::TrackingNumber,
                Expr::value(Some(s.tracking_number.trim().to_owned())),
            );
    }
    if update.exec(txn).await?.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the order changed meanwhile; reload it".into(),
        ));
    }
    if to == OrderStatus::Paid {
        let lines = order_lines::Entity::find()
            .filter(order_lines::Column::OrderId.eq(order.id))
            .all(txn)
            .await?;
        crate::rollups::order_paid(txn, &order, &lines, now).await?;
    }
    if state::returns_stock(from, to) {
        let lines = order_lines::Entity::find()
            .filter(order_lines::Column::OrderId.eq(order.id))
            .all(txn)
            .await?;
        for line in lines {
            product_variants::Entity::update_many()
                .col_expr(
                    product_variants::Column::Stock,
                    Expr::col(product_variants::Column::Stock).add(line.quantity),
                )
                .filter(product_variants::Column::Id.eq(line.variant_id))
                .exec(txn)
                .await?;
        }
    }
    if state::takes_stock(from, to) {
        take_stock_back(txn, order.id).await?;
    }
    // A checkout's promotion use is given back when its last order is cancelled, and taken
    // again if a late bank transfer brings an order back.
    if to == OrderStatus::Cancelled {
        crate::promotions::redeem::release_if_cancelled(txn, order.checkout_id).await?;
    } else if from == OrderStatus::Cancelled {
        crate::promotions::redeem::reclaim(txn, order.checkout_id).await?;
    }
    record_event(txn, order.id, Some(from), to, actor, note).await?;
    crate::rollups::statistics_due(txn, order.id).await?;
    let order = orders::Entity::find_by_id(order.id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("no such order".into()))?;
    let extra = match shipment.and_then(|s| s.link) {
        Some((carrier, url)) => serde_json::json!({ "carrier": carrier, "tracking_url": url }),
        None => serde_json::json!({}),
    };
    super::notices::status_changed(txn, &order, from, party, extra).await?;
    Ok(order)
}

/// Takes a reinstated order's stock again, line by line, each only if enough is left: a
/// reinstatement never oversells, and one short line undoes the whole transaction.
async fn take_stock_back(txn: &DatabaseTransaction, order: Uuid) -> AppResult<()> {
    let lines = order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.eq(order))
        .all(txn)
        .await?;
    for line in lines {
        let taken = product_variants::Entity::update_many()
            .col_expr(
                product_variants::Column::Stock,
                Expr::col(product_variants::Column::Stock).sub(line.quantity),
            )
            .filter(product_variants::Column::Id.eq(line.variant_id))
            .filter(product_variants::Column::Stock.gte(line.quantity))
            .exec(txn)
            .await?;
        if taken.rows_affected != 1 {
            return Err(AppError::refused(
                "OUT_OF_STOCK",
                format!(
                    "{} is no longer in stock ({} needed); record a refund of the transfer instead",
                    line.title, line.quantity
                ),
            )
            .with_detail("variantId", line.variant_id));
        }
    }
    Ok(())
}
