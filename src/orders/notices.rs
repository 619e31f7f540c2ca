//! Who hears of an order's changes, written to the outbox in the change's transaction: the
//! buyer gets a receipt per checkout and word of each order's progress; the shop hears of
//! new and paid orders and of what the buyer or the system did.

use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use super::state::Party;
use crate::{
    entities::{
        checkouts,
        orders::{self, OrderStatus},
        shops,
    },
    error::{AppError, AppResult},
    outbox::{self, Kind, Notice},
};

/// Messages for a new checkout: the buyer's receipt (with the bank details when paying by
/// transfer) and "new order" to each shop.
pub async fn placed(
    db: &impl ConnectionTrait,
    checkout: &checkouts::Model,
    orders: &[(orders::Model, Uuid)],
) -> AppResult<()> {
    let receipt = Notice::new(
        Kind::OrderPlaced,
        checkout.buyer_id,
        checkout.id,
        json!({ "checkout_id": checkout.id }),
    );
    let mut notices = vec![receipt];
    for (order, owner) in orders {
        notices.push(Notice::new(
            Kind::NewOrder,
            *owner,
            order.id,
            json!({ "order_id": order.id, "audience": "shop" }),
        ));
    }
    outbox::enqueue(db, notices).await
}

/// A reminder that a bank-transfer checkout's window is closing.
pub async fn reminder(db: &impl ConnectionTrait, checkout: &checkouts::Model) -> AppResult<()> {
    outbox::enqueue(
        db,
        [Notice::new(
            Kind::PaymentReminder,
            checkout.buyer_id,
            checkout.id,
            json!({ "checkout_id": checkout.id }),
        )],
    )
    .await
}

/// Messages for a status change that committed with this transaction. `extra` carries facts
/// the order row does not (a tracking link).
pub async fn status_changed(
    db: &impl ConnectionTrait,
    order: &orders::Model,
    from: OrderStatus,
    party: Party,
    extra: serde_json::Value,
) -> AppResult<()> {
    use OrderStatus::*;
    let owner = shops::Entity::find_by_id(order.shop_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such shop".into()))?
        .owner_id;
    let buyer = |kind| {
        let mut data = json!({ "order_id": order.id, "audience": "buyer" });
        merge(&mut data, &extra);
        Notice::new(kind, order.buyer_id, order.id, data)
    };
    let shop = |kind| {
        Notice::new(
            kind,
            owner,
            order.id,
            json!({ "order_id": order.id, "audience": "shop" }),
        )
    };
    let notices = match (from, order.status) {
        // One "paid" message per checkout for the buyer, however many shops it spans.
        (_, Paid) => vec![
            Notice::new(
                Kind::OrderPaid,
                order.buyer_id,
                order.checkout_id,
                json!({ "checkout_id": order.checkout_id, "audience": "buyer" }),
            ),
            shop(Kind::OrderPaid),
        ],
        (_, Shipped) => vec![buyer(Kind::OrderShipped)],
        (_, Delivered) => vec![
            buyer(Kind::OrderDelivered),
            shop(Kind::OrderDelivered),
            buyer(Kind::ReviewInvitation),
        ],
        (PendingPayment, Cancelled) if party == Party::System => {
            vec![buyer(Kind::OrderExpired), shop(Kind::OrderExpired)]
        }
        (_, Cancelled) => vec![buyer(Kind::OrderCancelled), shop(Kind::OrderCancelled)],
        (_, PendingPayment) => vec![],
    };
    outbox::enqueue(db, notices).await
}

fn merge(into: &mut serde_json::Value, extra: &serde_json::Value) {
    if let (Some(into), Some(extra)) = (into.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            into.insert(k.clone(), v.clone());
        }
    }
}
