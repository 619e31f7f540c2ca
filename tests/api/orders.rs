//! Cart, checkout across shops, overselling, idempotency and the order lifecycle.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp,
    orders::{ADD_ADDRESS, buyer_in, stocked_shop},
};

use crate::helpers::orders::ZONES;
const ADD: &str = "mutation($v: ID!, $q: Int!) { addToCart(input: { variantId: $v, quantity: $q }) { cart { currency subtotal { amount } shops { lines { sku quantity } } } } }";
const CART: &str = "query($c: String, $d: String) { cart(currency: $c, country: $d) { currency destination subtotal { amount currencyCode } shipping { amount } total { amount currencyCode }
  shops { shop { slug } shipsToDestination subtotal { amount } shipping { cost { amount } minDays maxDays } lines { sku quantity unitPrice { amount } lineTotal { amount } problem } } } }";
const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { checkoutId total { amount currencyCode } orders { id number status total { amount currencyCode } shopTotal { amount currencyCode } exchangeRate shop { slug } shippingAddress { city country } lines { sku quantity unitPrice { amount } } } } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { number status carrier trackingNumber events { from to note } customs { totalWeightGrams totalValue { amount currencyCode } items { description hsCode originCountry quantity weightGrams value { amount } } } } }";

fn place(address: &str, key: &str) -> Value {
    json!({ "i": { "addressId": address, "currency": "EUR", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": key } })
}

#[tokio::test]
async fn a_buyer_in_berlin_orders_from_two_shops_in_euros() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (felt, rug) = stocked_shop(&app, "felt", "370000", 3).await;
    let (silver, ring) = stocked_shop(&app, "silver", "185000", 5).await;
    let (anna, address) = buyer_in(&app, "anna@example.de", "DE").await;

    app.gql(Some(&anna.access), ADD, json!({ "v": rug, "q": 1 }))
        .await
        .expect_data();
    app.gql(Some(&anna.access), ADD, json!({ "v": ring, "q": 1 }))
        .await
        .expect_data();
    // Adding the same variant again sums the lines.
    app.gql(Some(&anna.access), ADD, json!({ "v": ring, "q": 1 }))
        .await
        .expect_data();

    let cart = app
        .gql(Some(&anna.access), CART, json!({ "c": "EUR", "d": "DE" }))
        .await;
    let cart = &cart.expect_data()["cart"];
    // Rug 370,000 MNT = 100.00 EUR; two rings 2 x 50.00; shipping 40,000 MNT = 10.81 EUR for
    // the rug, 40,000 + 10,000 MNT = 13.51 EUR for the rings.
    assert_eq!(
        cart["subtotal"],
        json!({ "amount": "200.00", "currencyCode": "EUR" })
    );
    assert_eq!(cart["shipping"]["amount"], "24.32");
    assert_eq!(
        cart["total"],
        json!({ "amount": "224.32", "currencyCode": "EUR" })
    );
    assert_eq!(cart["shops"].as_array().map(Vec::len), Some(2));

    let r = app
        .gql(Some(&anna.access), PLACE, place(&address, "berlin-1"))
        .await;
    let placed = &r.expect_data()["placeOrder"];
    assert_eq!(
        placed["total"],
        json!({ "amount": "224.32", "currencyCode": "EUR" })
    );
    let orders = placed["orders"].as_array().expect("orders").clone();
    assert_eq!(orders.len(), 2);
    for order in &orders {
        assert_eq!(order["status"], "PENDING_PAYMENT");
        assert!(order["number"].as_str().unwrap_or("").starts_with("DK-"));
        assert_eq!(
            order["shippingAddress"],
            json!({ "city": "Berlin", "country": "DE" })
        );
        assert_eq!(
            order["exchangeRate"], "1/3700",
            "1 MNT = 1/3700 EUR, locked on the order"
        );
    }
    let rug_order = orders
        .iter()
        .find(|o| o["shop"]["slug"] == "felt")
        .expect("felt order");
    assert_eq!(rug_order["total"]["amount"], "110.81");
    assert_eq!(
        rug_order["shopTotal"],
        json!({ "amount": "410000.00", "currencyCode": "MNT" })
    );

    // The cart is empty, stock is taken.
    let after = app.gql(Some(&anna.access), CART, json!({})).await;
    assert_eq!(after.expect_data()["cart"]["shops"], json!([]));
    let stock = app
        .gql(
            None,
            "query($s: String!) { product(shopSlug: $s, slug: \"item\") { variants { stock } } }",
            json!({ "s": "silver" }),
        )
        .await;
    assert_eq!(stock.expect_data()["product"]["variants"][0]["stock"], 3);

    // Customs for the rug.
    let id = rug_order["id"].as_str().expect("id");
    let r = app
        .gql(Some(&anna.access), ORDER, json!({ "id": id }))
        .await;
    let customs = &r.expect_data()["order"]["customs"];
    assert_eq!(customs["items"][0]["hsCode"], "570500");
    assert_eq!(customs["items"][0]["originCountry"], "MN");
    assert_eq!(customs["items"][0]["description"], "Work item");
    assert_eq!(customs["totalWeightGrams"], 2000);
    assert_eq!(customs["totalValue"]["amount"], "100.00");

    // The bank transfer arrives; each artisan ships; the buyer confirms.
    let confirm = "mutation($c: ID!) { confirmManualPayment(input: { checkoutId: $c, reference: \"DEUTDEFF-123\" }) { orders { status } } }";
    assert_eq!(
        app.gql(
            Some(&anna.access),
            confirm,
            json!({ "c": placed["checkoutId"] })
        )
        .await
        .code(),
        "FORBIDDEN"
    );
    let r = app
        .gql(
            Some(&admin.access),
            confirm,
            json!({ "c": placed["checkoutId"] }),
        )
        .await;
    assert_eq!(
        r.expect_data()["confirmManualPayment"]["orders"],
        json!([{ "status": "PAID" }, { "status": "PAID" }])
    );
    let ship = "mutation($o: ID!) { markOrderShipped(input: { orderId: $o, carrier: \"Mongol Post\", trackingNumber: \"RR123456789MN\" }) { order { status carrier } } }";
    assert_eq!(
        app.gql(Some(&silver.owner.access), ship, json!({ "o": id }))
            .await
            .code(),
        "NOT_FOUND",
        "another shop's order"
    );
    assert_eq!(
        app.gql(Some(&anna.access), ship, json!({ "o": id }))
            .await
            .code(),
        "FORBIDDEN"
    );
    let r = app
        .gql(Some(&felt.owner.access), ship, json!({ "o": id }))
        .await;
    assert_eq!(
        r.expect_data()["markOrderShipped"]["order"]["status"],
        "SHIPPED"
    );
    let deliver = "mutation($o: ID!) { markOrderDelivered(input: { orderId: $o, note: \"Arrived, beautiful\" }) { order { status } } }";
    let r = app
        .gql(Some(&anna.access), deliver, json!({ "o": id }))
        .await;
    assert_eq!(
        r.expect_data()["markOrderDelivered"]["order"]["status"],
        "DELIVERED"
    );
    let r = app
        .gql(Some(&felt.owner.access), ORDER, json!({ "id": id }))
        .await;
    let events: Vec<(Value, Value)> = r.expect_data()["order"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| (e["from"].clone(), e["to"].clone()))
        .collect();
    assert_eq!(
        events,
        [
            (Value::Null, json!("PENDING_PAYMENT")),
            (json!("PENDING_PAYMENT"), json!("PAID")),
            (json!("PAID"), json!("SHIPPED")),
            (json!("SHIPPED"), json!("DELIVERED")),
        ]
    );
    assert_eq!(r.expect_data()["order"]["trackingNumber"], "RR123456789MN");

    // Views: each artisan sees their own order; the buyer both; admins all.
    let shop_orders = app
        .gql(
            Some(&felt.owner.access),
            "{ shopOrders { totalCount edges { node { shop { slug } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(shop_orders.expect_data()["shopOrders"]["totalCount"], 1);
    let mine = app
        .gql(Some(&anna.access), "{ myOrders { totalCount } }", json!({}))
        .await;
    assert_eq!(mine.expect_data()["myOrders"]["totalCount"], 2);
    let all = app
        .gql(
            Some(&admin.access),
            "{ orders(status: PAID) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(all.expect_data()["orders"]["totalCount"], 1);
    assert_eq!(
        app.gql(Some(&anna.access), "{ orders { totalCount } }", json!({}))
            .await
            .code(),
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn the_same_idempotency_key_returns_the_same_checkout() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (_, variant) = stocked_shop(&app, "idem", "37000", 10).await;
    let (buyer, address) = buyer_in(&app, "retry@example.de", "DE").await;
    app.gql(Some(&buyer.access), ADD, json!({ "v": variant, "q": 2 }))
        .await
        .expect_data();
    let (a, b) = tokio::join!(
        app.gql(Some(&buyer.access), PLACE, place(&address, "key-1")),
        app.gql(Some(&buyer.access), PLACE, place(&address, "key-1")),
    );
    let c = app
        .gql(Some(&buyer.access), PLACE, place(&address, "key-1"))
        .await;
    let id = |r: &crate::helpers::Reply| r.expect_data()["placeOrder"]["checkoutId"].clone();
    assert_eq!(id(&a), id(&b));
    assert_eq!(id(&a), id(&c));
    let mine = app
        .gql(
            Some(&buyer.access),
            "{ myOrders { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(mine.expect_data()["myOrders"]["totalCount"], 1);
    let stock = app
        .gql(
            None,
            "{ product(shopSlug: \"idem\", slug: \"item\") { variants { stock } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stock.expect_data()["product"]["variants"][0]["stock"],
        8,
        "taken once"
    );
}

#[tokio::test]
async fn fifty_buyers_race_for_five_units() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (_, variant) = stocked_shop(&app, "race", "37000", 5).await;
    let mut buyers = Vec::new();
    for i in 0..50 {
        let (buyer, address) = buyer_in(&app, &format!("racer{i}@example.de"), "DE").await;
        app.gql(Some(&buyer.access), ADD, json!({ "v": variant, "q": 1 }))
            .await
            .expect_data();
        buyers.push((buyer, address));
    }
    let attempts = buyers.iter().enumerate().map(|(i, (buyer, address))| {
        let app = &app;
        async move {
            app.gql(
                Some(&buyer.access),
                PLACE,
                place(address, &format!("race-{i}")),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let won = results
        .iter()
        .filter(|r| r.body.get("errors").is_none())
        .count();
    let sold_out = results
        .iter()
        .filter(|r| r.code() == "OUT_OF_STOCK")
        .count();
    assert_eq!(won, 5, "exactly as many orders as units");
    assert_eq!(
        sold_out,
        45,
        "{:?}",
        results
            .iter()
            .map(|r| r.code().to_owned())
            .collect::<Vec<_>>()
    );
    let stock = app
        .gql(
            None,
            "{ product(shopSlug: \"race\", slug: \"item\") { variants { stock } } }",
            json!({}),
        )
        .await;
    assert_eq!(stock.expect_data()["product"]["variants"][0]["stock"], 0);
}

#[tokio::test]
async fn unshippable_destinations_and_bad_carts_are_refused_before_payment() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "USD", "MNT", "3450").await;
    let (_, variant) = stocked_shop(&app, "nowhere", "34500", 2).await;
    let (buyer, us_address) = buyer_in(&app, "us@example.com", "US").await;
    let empty = app
        .gql(Some(&buyer.access), PLACE, json!({ "i": { "addressId": us_address, "currency": "USD", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": "e" } }))
        .await;
    assert_eq!((empty.code(), empty.field()), ("EMPTY_CART", ""));
    app.gql(Some(&buyer.access), ADD, json!({ "v": variant, "q": 2 }))
        .await
        .expect_data();

    let cart = app
        .gql(Some(&buyer.access), CART, json!({ "c": "USD", "d": "US" }))
        .await;
    assert_eq!(
        cart.expect_data()["cart"]["shops"][0]["shipsToDestination"],
        false
    );
    assert_eq!(cart.expect_data()["cart"]["total"], Value::Null);
    let r = app
        .gql(Some(&buyer.access), PLACE, json!({ "i": { "addressId": us_address, "currency": "USD", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": "us-1" } }))
        .await;
    assert_eq!(r.code(), "SHIPPING_UNAVAILABLE");
    assert_eq!(r.body["errors"][0]["extensions"]["country"], "US");
    assert!(r.body["errors"][0]["extensions"]["shopId"].is_string());
    let card = app
        .gql(Some(&buyer.access), PLACE, json!({ "i": { "addressId": us_address, "currency": "USD", "paymentMethod": "CARD", "idempotencyKey": "us-2" } }))
        .await;
    assert_eq!(card.code(), "PAYMENT_METHOD_UNAVAILABLE");

    // Asking for more than the stock shows on the cart and refuses the order.
    let r = app.gql(Some(&buyer.access), "mutation($v: ID!) { setCartQuantity(input: { variantId: $v, quantity: 3 }) { cart { shops { lines { quantity problem } } } } }", json!({ "v": variant })).await;
    assert_eq!(
        r.expect_data()["setCartQuantity"]["cart"]["shops"][0]["lines"][0]["problem"],
        "INSUFFICIENT_STOCK"
    );
    let (_, jp_address) = {
        let r = app
            .gql(
                Some(&buyer.access),
                ADD_ADDRESS,
                json!({ "i": { "name": "B", "line1": "1-1", "city": "Tokyo", "country": "JP" } }),
            )
            .await;
        (
            (),
            r.expect_data()["addAddress"]["address"]["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        )
    };
    let r = app
        .gql(Some(&buyer.access), PLACE, json!({ "i": { "addressId": jp_address, "currency": "JPY", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": "jp-1" } }))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "no JPY rate yet: {}", r.body);
    app.set_rate(&admin, "JPY", "MNT", "23").await;
    let r = app
        .gql(Some(&buyer.access), PLACE, json!({ "i": { "addressId": jp_address, "currency": "JPY", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": "jp-2" } }))
        .await;
    assert_eq!(r.code(), "OUT_OF_STOCK");

    // Someone else's address is not yours to ship to.
    let (other, _) = buyer_in(&app, "other@example.de", "DE").await;
    let r = app
        .gql(Some(&other.access), PLACE, json!({ "i": { "addressId": jp_address, "currency": "JPY", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": "x" } }))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let zones = app
        .gql(
            Some(&other.access),
            ZONES,
            json!({ "i": { "shopId": "01930000-0000-7000-8000-000000000001", "name": "x", "zones": [] } }),
        )
        .await;
    assert_eq!(zones.code(), "NOT_FOUND");
}

#[tokio::test]
async fn cancelling_returns_stock_and_illegal_moves_conflict() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (shop, variant) = stocked_shop(&app, "cancel", "37000", 4).await;
    let (buyer, address) = buyer_in(&app, "c@example.de", "DE").await;
    let (stranger, _) = buyer_in(&app, "s@example.de", "DE").await;
    app.gql(Some(&buyer.access), ADD, json!({ "v": variant, "q": 3 }))
        .await
        .expect_data();
    let r = app
        .gql(Some(&buyer.access), PLACE, place(&address, "c-1"))
        .await;
    let id = r.expect_data()["placeOrder"]["orders"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    assert_eq!(
        app.gql(Some(&stranger.access), ORDER, json!({ "id": id }))
            .await
            .code(),
        "NOT_FOUND"
    );
    let ship = "mutation($o: ID!) { markOrderShipped(input: { orderId: $o, carrier: \"DHL\", trackingNumber: \"1\" }) { order { status } } }";
    assert_eq!(
        app.gql(Some(&shop.owner.access), ship, json!({ "o": id }))
            .await
            .code(),
        "CONFLICT",
        "unpaid"
    );
    let cancel = "mutation($o: ID!) { cancelOrder(input: { orderId: $o, note: \"changed my mind\" }) { order { status } } }";
    assert_eq!(
        app.gql(Some(&stranger.access), cancel, json!({ "o": id }))
            .await
            .code(),
        "NOT_FOUND"
    );
    let r = app
        .gql(Some(&buyer.access), cancel, json!({ "o": id }))
        .await;
    assert_eq!(
        r.expect_data()["cancelOrder"]["order"]["status"],
        "CANCELLED"
    );
    assert_eq!(
        app.gql(Some(&buyer.access), cancel, json!({ "o": id }))
            .await
            .code(),
        "CONFLICT"
    );
    let stock = app
        .gql(
            None,
            "{ product(shopSlug: \"cancel\", slug: \"item\") { variants { stock } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stock.expect_data()["product"]["variants"][0]["stock"],
        4,
        "stock came back"
    );
    let r = app
        .gql(Some(&buyer.access), ORDER, json!({ "id": id }))
        .await;
    assert_eq!(
        r.expect_data()["order"]["events"][1]["note"],
        "changed my mind"
    );
}

#[tokio::test]
async fn unpaid_orders_expire_and_give_their_stock_back() {
    // The order is paid by bank transfer, whose window is counted in hours.
    let app = TestApp::spawn_with(|f| {
        f.merge(figment::providers::Serialized::default(
            "orders.bank_transfer_window_hours",
            0,
        ))
        .merge(figment::providers::Serialized::default(
            "orders.expiry_sweep_secs",
            1,
        ))
    })
    .await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (_, variant) = stocked_shop(&app, "expire", "37000", 2).await;
    let (buyer, address) = buyer_in(&app, "slow@example.de", "DE").await;
    app.gql(Some(&buyer.access), ADD, json!({ "v": variant, "q": 2 }))
        .await
        .expect_data();
    let r = app
        .gql(Some(&buyer.access), PLACE, place(&address, "slow"))
        .await;
    let id = r.expect_data()["placeOrder"]["orders"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let mut status = Value::Null;
    for _ in 0..50 {
        let r = app
            .gql(Some(&buyer.access), ORDER, json!({ "id": id }))
            .await;
        status = r.expect_data()["order"]["status"].clone();
        if status == "CANCELLED" {
            assert_eq!(
                r.expect_data()["order"]["events"][1]["note"],
                "payment window expired"
            );
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(status, "CANCELLED");
    let stock = app
        .gql(
            None,
            "{ product(shopSlug: \"expire\", slug: \"item\") { variants { stock } } }",
            json!({}),
        )
        .await;
    assert_eq!(stock.expect_data()["product"]["variants"][0]["stock"], 2);
    // Sweeping again, as a second server would, finds nothing left to do.
    assert_eq!(darkhan::app::sweep(&app.state).await.ok(), Some(0));
}

#[tokio::test]
async fn a_guest_cart_follows_the_visitor_into_their_account() {
    let app = TestApp::spawn().await;
    let (_, rug) = stocked_shop(&app, "guest", "37000", 10).await;
    let guest_add = "mutation($v: ID!, $q: Int!, $t: String) { addToCart(input: { variantId: $v, quantity: $q, cartToken: $t }) { cartToken cart { currency shops { lines { quantity } } } } }";
    let r = app.gql(None, guest_add, json!({ "v": rug, "q": 2 })).await;
    let token = r.expect_data()["addToCart"]["cartToken"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_eq!(r.expect_data()["addToCart"]["cart"]["currency"], "MNT");
    app.gql(None, guest_add, json!({ "v": rug, "q": 1, "t": token }))
        .await
        .expect_data();
    let cart = app
        .gql(
            None,
            "query($t: String) { cart(cartToken: $t) { shops { lines { quantity } } } }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(
        cart.expect_data()["cart"]["shops"][0]["lines"][0]["quantity"],
        3
    );
    let no_token = app.gql(None, "{ cart { currency } }", json!({})).await;
    assert_eq!(no_token.code(), "UNAUTHENTICATED");
    let bad = app
        .gql(
            None,
            "{ cart(cartToken: \"forged\") { currency } }",
            json!({}),
        )
        .await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT", "cartToken"));

    // The buyer already had one rug in their account cart; logging in adds the guest's three.
    let buyer = app.register("guest@example.de", "BUYER").await;
    app.gql(Some(&buyer.access), ADD, json!({ "v": rug, "q": 1 }))
        .await
        .expect_data();
    let login = "mutation($t: String) { login(input: { email: \"guest@example.de\", password: \"felt-and-silver-42\", cartToken: $t }) { accessToken } }";
    let r = app.gql(None, login, json!({ "t": token })).await;
    let access = r.expect_data()["login"]["accessToken"]
        .as_str()
        .expect("access")
        .to_owned();
    let cart = app.gql(Some(&access), CART, json!({})).await;
    assert_eq!(
        cart.expect_data()["cart"]["shops"][0]["lines"][0]["quantity"],
        4
    );
    // The guest cart is gone; logging in again with its token is harmless.
    let gone = app
        .gql(
            None,
            "query($t: String) { cart(cartToken: $t) { currency } }",
            json!({ "t": token }),
        )
        .await;
    assert_eq!(gone.code(), "BAD_USER_INPUT");
    app.gql(None, login, json!({ "t": token }))
        .await
        .expect_data();
}

#[tokio::test]
async fn every_transition_checks_state_and_party() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (shop, variant) = stocked_shop(&app, "moves", "37000", 10).await;
    let (buyer, address) = buyer_in(&app, "moves@example.de", "DE").await;
    let order = |key: &'static str| {
        let (app, buyer, address, variant) = (&app, &buyer, address.clone(), variant.clone());
        async move {
            app.gql(Some(&buyer.access), ADD, json!({ "v": variant, "q": 1 }))
                .await
                .expect_data();
            let r = app
                .gql(Some(&buyer.access), PLACE, place(&address, key))
                .await;
            (
                r.expect_data()["placeOrder"]["orders"][0]["id"]
                    .as_str()
                    .expect("id")
                    .to_owned(),
                r.expect_data()["placeOrder"]["checkoutId"]
                    .as_str()
                    .expect("checkout")
                    .to_owned(),
            )
        }
    };
    let act = |token: String, mutation: &'static str, id: String| {
        let app = &app;
        async move {
            let q = match mutation {
                "cancel" => {
                    "mutation($o: ID!) { cancelOrder(input: { orderId: $o }) { order { status } } }"
                }
                "ship" => {
                    "mutation($o: ID!) { markOrderShipped(input: { orderId: $o, carrier: \"EMS\", trackingNumber: \"EE1\" }) { order { status } } }"
                }
                _ => {
                    "mutation($o: ID!) { markOrderDelivered(input: { orderId: $o }) { order { status } } }"
                }
            };
            let r = app.gql(Some(&token), q, json!({ "o": id })).await;
            if r.body.get("errors").is_some() {
                r.code().to_owned()
            } else {
                "OK".to_owned()
            }
        }
    };
    let pay = |checkout: String| {
        let (app, admin) = (&app, &admin);
        async move {
            app.gql(Some(&admin.access), "mutation($c: ID!) { confirmManualPayment(input: { checkoutId: $c, reference: \"R\" }) { orders { status } } }", json!({ "c": checkout }))
                .await
                .expect_data();
        }
    };
    let (b, s, a) = (
        buyer.access.clone(),
        shop.owner.access.clone(),
        admin.access.clone(),
    );

    // Unpaid: nothing can be shipped or delivered; the shop may cancel.
    let (first, _) = order("m1").await;
    assert_eq!(act(s.clone(), "ship", first.clone()).await, "CONFLICT");
    assert_eq!(act(b.clone(), "deliver", first.clone()).await, "CONFLICT");
    assert_eq!(act(s.clone(), "cancel", first.clone()).await, "OK");

    // Paid: the buyer can no longer cancel; the shop can (it cannot fulfil), stock returns.
    let (second, checkout) = order("m2").await;
    pay(checkout.clone()).await;
    assert_eq!(act(b.clone(), "cancel", second.clone()).await, "FORBIDDEN");
    assert_eq!(act(b.clone(), "ship", second.clone()).await, "FORBIDDEN");
    assert_eq!(act(s.clone(), "cancel", second.clone()).await, "OK");
    // Paying twice is a conflict.
    let again = app
        .gql(Some(&a), "mutation($c: ID!) { confirmManualPayment(input: { checkoutId: $c, reference: \"R\" }) { orders { status } } }", json!({ "c": checkout }))
        .await;
    assert_eq!(again.code(), "CONFLICT");

    // Shipped and delivered are final for cancellation.
    let (third, checkout) = order("m3").await;
    pay(checkout).await;
    assert_eq!(act(a.clone(), "ship", third.clone()).await, "OK");
    assert_eq!(act(s.clone(), "cancel", third.clone()).await, "CONFLICT");
    assert_eq!(act(s.clone(), "ship", third.clone()).await, "CONFLICT");
    assert_eq!(act(b.clone(), "deliver", third.clone()).await, "OK");
    assert_eq!(act(a.clone(), "cancel", third.clone()).await, "CONFLICT");
    assert_eq!(act(b.clone(), "deliver", third.clone()).await, "CONFLICT");

    // Newest first, page by page.
    let page = "query($a: String) { myOrders(first: 2, after: $a) { pageInfo { hasNextPage endCursor } edges { node { id } } } }";
    let r = app.gql(Some(&b), page, json!({})).await;
    let ids: Vec<&str> = r.expect_data()["myOrders"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(ids, [third.as_str(), second.as_str()]);
    assert_eq!(r.expect_data()["myOrders"]["pageInfo"]["hasNextPage"], true);
    let r2 = app
        .gql(
            Some(&b),
            page,
            json!({ "a": r.expect_data()["myOrders"]["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        r2.expect_data()["myOrders"]["edges"][0]["node"]["id"],
        first.as_str()
    );
    assert_eq!(
        r2.expect_data()["myOrders"]["pageInfo"]["hasNextPage"],
        false
    );

    // Two cancelled orders gave their unit back; the delivered one did not.
    let stock = app
        .gql(
            None,
            "{ product(shopSlug: \"moves\", slug: \"item\") { variants { stock } } }",
            json!({}),
        )
        .await;
    assert_eq!(stock.expect_data()["product"]["variants"][0]["stock"], 9);
}

#[tokio::test]
async fn products_ship_with_their_own_profile_or_the_shops_default() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (shop, small) = stocked_shop(&app, "profiles", "37000", 5).await;
    let furniture = app
        .gql(
            Some(&shop.owner.access),
            ZONES,
            json!({ "i": { "shopId": shop.id, "name": "Furniture", "zones": [
                { "name": "Europe", "countries": ["DE"], "firstItem": "370000", "additionalItem": "185000", "minDays": 20, "maxDays": 40 }
            ] } }),
        )
        .await;
    let profile = &furniture.expect_data()["saveShippingProfile"]["profile"];
    assert_eq!(
        profile["isDefault"], false,
        "the first profile stays the default"
    );
    let profile_id = profile["id"].as_str().expect("id").to_owned();
    let chest = app
        .published(&shop, "chest", json!({ "price": "740000", "shippingProfileId": profile_id, "variants": [{ "sku": "CHEST", "stock": 2 }] }))
        .await;
    let r = app
        .gql(
            None,
            "query($id: ID!) { product(id: $id) { shippingProfileId variants { id } } }",
            json!({ "id": chest }),
        )
        .await;
    assert_eq!(
        r.expect_data()["product"]["shippingProfileId"],
        profile_id.as_str()
    );
    let chest_variant = r.expect_data()["product"]["variants"][0]["id"].clone();

    let (buyer, _) = buyer_in(&app, "profile@example.de", "DE").await;
    app.gql(Some(&buyer.access), ADD, json!({ "v": small, "q": 2 }))
        .await
        .expect_data();
    app.gql(
        Some(&buyer.access),
        ADD,
        json!({ "v": chest_variant, "q": 2 }),
    )
    .await
    .expect_data();
    let cart = app
        .gql(Some(&buyer.access), CART, json!({ "c": "EUR", "d": "DE" }))
        .await;
    let part = &cart.expect_data()["cart"]["shops"][0];
    // Parcels: 40,000 + 10,000 MNT; furniture: 370,000 + 185,000 MNT; 605,000 MNT = 163.51 EUR.
    assert_eq!(part["shipping"]["cost"]["amount"], "163.51");
    assert_eq!(
        part["shipping"]["maxDays"], 40,
        "the slowest parcel decides"
    );
    // Japan is in the parcel profile but not the furniture one: the shop cannot ship there.
    let japan = app
        .gql(Some(&buyer.access), CART, json!({ "c": "EUR", "d": "JP" }))
        .await;
    assert_eq!(
        japan.expect_data()["cart"]["shops"][0]["shipsToDestination"],
        false
    );

    let listed = app
        .gql(
            None,
            "{ shippingProfiles(shopSlug: \"profiles\") { name isDefault zones { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        listed.expect_data()["shippingProfiles"][0]["name"],
        "Parcels"
    );
    assert_eq!(
        listed.expect_data()["shippingProfiles"][1]["name"],
        "Furniture"
    );

    // Another shop's profile cannot be named.
    let other = app.shop("other-profiles", "MN").await;
    let r = app
        .gql(
            Some(&other.owner.access),
            crate::helpers::catalog::CREATE_PRODUCT,
            json!({ "input": { "shopId": other.id, "slug": "xx", "price": "1", "variants": [{ "sku": "X", "stock": 1 }], "shippingProfileId": profile_id } }),
        )
        .await;
    assert_eq!(
        (r.code(), r.field()),
        ("BAD_USER_INPUT", "shippingProfileId")
    );
    let steal = app
        .gql(
            Some(&other.owner.access),
            ZONES,
            json!({ "i": { "shopId": shop.id, "name": "Mine", "zones": [] } }),
        )
        .await;
    assert_eq!(steal.code(), "FORBIDDEN");
}

#[tokio::test]
async fn a_checkout_is_paid_whole_or_not_at_all() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (felt, rug) = stocked_shop(&app, "whole-a", "37000", 3).await;
    let (_, ring) = stocked_shop(&app, "whole-b", "37000", 3).await;
    let (buyer, address) = buyer_in(&app, "whole@example.de", "DE").await;
    app.gql(Some(&buyer.access), ADD, json!({ "v": rug, "q": 1 }))
        .await
        .expect_data();
    app.gql(Some(&buyer.access), ADD, json!({ "v": ring, "q": 1 }))
        .await
        .expect_data();
    let r = app
        .gql(Some(&buyer.access), PLACE, place(&address, "whole"))
        .await;
    let placed = r.expect_data()["placeOrder"].clone();
    let felt_order = placed["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .find(|o| o["shop"]["slug"] == "whole-a")
        .expect("a")["id"]
        .clone();
    // One shop cannot fulfil and cancels before the money arrives.
    app.gql(
        Some(&felt.owner.access),
        "mutation($o: ID!) { cancelOrder(input: { orderId: $o }) { order { status } } }",
        json!({ "o": felt_order }),
    )
    .await
    .expect_data();
    let confirm = "mutation($c: ID!) { confirmManualPayment(input: { checkoutId: $c, reference: \"REF\" }) { orders { status } } }";
    let r = app
        .gql(
            Some(&admin.access),
            confirm,
            json!({ "c": placed["checkoutId"] }),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    // Nothing was half-written: the other order is still waiting for payment.
    let mine = app
        .gql(
            Some(&buyer.access),
            "{ myOrders { edges { node { status shop { slug } } } } }",
            json!({}),
        )
        .await;
    let statuses: Vec<String> = mine.expect_data()["myOrders"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| e["node"]["status"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(
        statuses.contains(&"PENDING_PAYMENT".to_owned()),
        "{statuses:?}"
    );
    assert!(!statuses.contains(&"PAID".to_owned()), "{statuses:?}");
    let blank = app.gql(Some(&admin.access), "mutation($c: ID!) { confirmManualPayment(input: { checkoutId: $c, reference: \" \" }) { orders { status } } }", json!({ "c": placed["checkoutId"] })).await;
    assert_eq!(
        (blank.code(), blank.field()),
        ("BAD_USER_INPUT", "reference")
    );
}

/// A cart change answered with only the cart's currency does not price the cart; asked for
/// its lines, fragments included, the answer is priced as before.
#[tokio::test]
async fn a_cart_answer_is_priced_only_when_prices_are_asked_for() {
    const BARE: &str = "mutation($v: ID!, $q: Int!) { setCartQuantity(input: { variantId: $v, quantity: $q, currency: \"EUR\" }) { cart { currency __typename } } }";
    const PRICED: &str = "mutation($v: ID!, $q: Int!) { setCartQuantity(input: { variantId: $v, quantity: $q, currency: \"EUR\" }) { cart { currency ...Lines } } } fragment Lines on Cart { shops { lines { quantity } } subtotal { amount } }";
    let app = TestApp::spawn_counted().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (_, rug) = stocked_shop(&app, "felt", "370000", 9).await;
    let (anna, _) = buyer_in(&app, "anna@example.de", "DE").await;
    // The line exists before anything is counted: every change below updates it.
    app.gql(Some(&anna.access), BARE, json!({ "v": rug, "q": 1 }))
        .await
        .expect_data();
    let token = Some(anna.access.as_str());
    let (bare, data) = app
        .least_statements(token, BARE, json!({ "v": rug, "q": 2 }))
        .await;
    assert_eq!(data["setCartQuantity"]["cart"]["currency"], "EUR");
    let (priced, data) = app
        .least_statements(token, PRICED, json!({ "v": rug, "q": 4 }))
        .await;
    let cart = &data["setCartQuantity"]["cart"];
    assert_eq!(cart["shops"][0]["lines"][0]["quantity"], 4);
    assert_eq!(cart["subtotal"]["amount"], "400.00");
    assert!(
        bare + 5 <= priced,
        "an unpriced answer costs {bare} statements, a priced one {priced}"
    );
}
