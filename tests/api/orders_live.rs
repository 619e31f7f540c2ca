//! `orderUpdated` over WebSocket: to the buyer and the shop's owner only, and across servers
//! that share PostgreSQL.

use std::time::Duration;

use serde_json::json;

use crate::{
    helpers::{PG_ENV, TestApp},
    ws::{Ws, connect, init, next, send},
};

const SUBSCRIBE: &str = "subscription { orderUpdated { number status shop { slug } } }";

async fn subscribed(app: &TestApp, token: &str) -> Ws {
    let mut ws = connect(app, Some("graphql-transport-ws")).await;
    init(&mut ws, Some(token)).await;
    send(
        &mut ws,
        json!({ "id": "o", "type": "subscribe", "payload": { "query": SUBSCRIBE } }),
    )
    .await;
    // A ping answered means the subscription is registered.
    send(&mut ws, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut ws).await["type"], "pong");
    ws
}

/// A buyer with one item of a fresh shop in the cart, ready to place.
async fn ready_to_order(
    app: &TestApp,
) -> (
    crate::helpers::Session,
    crate::helpers::catalog::ShopFixture,
    serde_json::Value,
) {
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let shop = app.shop("live", "MN").await;
    app.gql(
        Some(&shop.owner.access),
        "mutation($s: ID!) { saveShippingProfile(input: { shopId: $s, name: \"Parcels\", zones: [{ name: \"World\", firstItem: \"1000\", additionalItem: \"0\", minDays: 5, maxDays: 9 }] }) { profile { name } } }",
        json!({ "s": shop.id }),
    )
    .await
    .expect_data();
    let product = app.published(&shop, "cup", json!({})).await;
    let r = app
        .gql(
            None,
            "query($id: ID!) { product(id: $id) { variants { id } } }",
            json!({ "id": product }),
        )
        .await;
    let variant = r.expect_data()["product"]["variants"][0]["id"].clone();
    let buyer = app.register("live@example.de", "BUYER").await;
    app.gql(Some(&buyer.access), "mutation($v: ID!) { addToCart(input: { variantId: $v, quantity: 1 }) { cart { currency } } }", json!({ "v": variant }))
        .await
        .expect_data();
    let r = app
        .gql(Some(&buyer.access), "mutation { addAddress(input: { name: \"L\", line1: \"1\", city: \"Berlin\", country: \"DE\" }) { address { id } } }", json!({}))
        .await;
    let address = r.expect_data()["addAddress"]["address"]["id"].clone();
    (
        buyer,
        shop,
        json!({ "i": { "addressId": address, "currency": "EUR", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": "live" } }),
    )
}

const PLACE: &str =
    "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { orders { id number } } }";

#[tokio::test]
async fn order_updates_reach_the_buyer_and_the_shop_only() {
    let app = TestApp::spawn().await;
    let (buyer, shop, place) = ready_to_order(&app).await;
    let outsider = app.shop("outsider", "MN").await;
    let mut buyer_ws = subscribed(&app, &buyer.access).await;
    let mut shop_ws = subscribed(&app, &shop.owner.access).await;
    let mut outsider_ws = subscribed(&app, &outsider.owner.access).await;

    let r = app.gql(Some(&buyer.access), PLACE, place).await;
    let number = r.expect_data()["placeOrder"]["orders"][0]["number"].clone();
    for ws in [&mut buyer_ws, &mut shop_ws] {
        let msg = next(ws).await;
        assert_eq!(msg["type"], "next");
        assert_eq!(msg["payload"]["data"]["orderUpdated"]["number"], number);
        assert_eq!(
            msg["payload"]["data"]["orderUpdated"]["status"],
            "PENDING_PAYMENT"
        );
    }
    let id = r.expect_data()["placeOrder"]["orders"][0]["id"].clone();
    app.gql(
        Some(&buyer.access),
        "mutation($o: ID!) { cancelOrder(input: { orderId: $o }) { order { status } } }",
        json!({ "o": id }),
    )
    .await
    .expect_data();
    let msg = next(&mut shop_ws).await;
    assert_eq!(
        msg["payload"]["data"]["orderUpdated"]["status"],
        "CANCELLED"
    );
    // The other artisan heard nothing: the next thing on their socket is the answer to a ping.
    send(&mut outsider_ws, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut outsider_ws).await["type"], "pong");
}

#[tokio::test]
async fn a_change_on_one_server_reaches_a_subscriber_on_another() {
    let a = TestApp::spawn().await;
    let b = a.sibling().await;
    let (buyer, _, place) = ready_to_order(&a).await;
    let mut on_b = subscribed(&b, &buyer.access).await;
    a.gql(Some(&buyer.access), PLACE, place).await.expect_data();
    let delivered = tokio::time::timeout(Duration::from_secs(3), next(&mut on_b)).await;
    if std::env::var(PG_ENV).is_ok_and(|u| !u.is_empty()) {
        let msg = delivered.expect("delivered through LISTEN/NOTIFY");
        assert_eq!(
            msg["payload"]["data"]["orderUpdated"]["status"],
            "PENDING_PAYMENT"
        );
    } else {
        // SQLite runs one server; its events stay in process, by design.
        assert!(delivered.is_err(), "SQLite has no cross-server delivery");
    }
}
