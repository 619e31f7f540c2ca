//! Regression tests for what an outside review broke: requests that could stop the process,
//! races that answered wrongly, input that reached the database unchecked.

use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, reply},
    ws::{closed, connect, init, next, send},
};

/// `[[[ … true … ]]]` nested `levels` deep.
fn nested_list(levels: usize) -> String {
    format!("{}true{}", "[".repeat(levels), "]".repeat(levels))
}

/// `{a:{a:{ … 1 … }}}` nested `levels` deep.
fn nested_object(levels: usize) -> String {
    format!("{}1{}", "{a:".repeat(levels), "}".repeat(levels))
}

async fn alive(app: &TestApp) {
    let r = app.gql(None, "{ __typename }", json!({})).await;
    assert_eq!(r.expect_data()["__typename"], "Query");
}

#[tokio::test]
async fn deeply_nested_values_are_refused_by_post_get_and_websocket() {
    let app = TestApp::spawn().await;
    for literal in [nested_list(2_000), nested_object(2_000), nested_list(65)] {
        let query = format!("{{ __typename @skip(if: {literal}) }}");
        let r = app.gql(None, &query, json!({})).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.code(), "NESTING_TOO_DEEP", "{}", r.body);
        assert!(r.body.get("data").is_none());

        let get = app
            .http
            .get(app.url("/graphql"))
            .query(&[("query", query.as_str())])
            .header("accept", "application/graphql-response+json")
            .send()
            .await
            .expect("get");
        let get = reply(get).await;
        assert_eq!(
            (get.status, get.code()),
            (400, "NESTING_TOO_DEEP"),
            "{}",
            get.body
        );
    }
    // Variables: within the JSON parser's own bound but beyond ours.
    let mut deep = json!(1);
    for _ in 0..100 {
        deep = json!({ "a": deep });
    }
    let r = app
        .gql(
            None,
            "query($x: Boolean) { __typename }",
            json!({ "x": deep }),
        )
        .await;
    assert_eq!(r.code(), "NESTING_TOO_DEEP", "{}", r.body);
    // Beyond the JSON parser's bound: still a coded request error.
    let mut deeper = "1".to_owned();
    for _ in 0..5_000 {
        deeper = format!("[{deeper}]");
    }
    let raw = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"query":"{{ __typename }}","variables":{{"x":{deeper}}}}}"#
        ))
        .send()
        .await
        .expect("post");
    let raw = reply(raw).await;
    assert_eq!(raw.status, 400);
    assert!(!raw.code().is_empty(), "{}", raw.body);

    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws, None).await;
    let query = format!("{{ __typename @skip(if: {}) }}", nested_object(2_000));
    send(
        &mut ws,
        json!({ "type": "subscribe", "id": "1", "payload": { "query": query } }),
    )
    .await;
    let answer = next(&mut ws).await;
    assert_eq!(answer["type"], "error", "{answer}");
    assert_eq!(
        answer["payload"][0]["extensions"]["code"],
        "NESTING_TOO_DEEP"
    );
    send(
        &mut ws,
        json!({ "type": "subscribe", "id": "2", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    assert_eq!(
        next(&mut ws).await["payload"]["data"]["__typename"],
        "Query"
    );
    alive(&app).await;
}

/// graphql-js `getIntrospectionQuery()`, with one more `ofType` level than v16 asks for.
const INTROSPECTION: &str = "query IntrospectionQuery { __schema { queryType { name } mutationType { name } subscriptionType { name }
  types { ...FullType } directives { name description locations args { ...InputValue } } } }
fragment FullType on __Type { kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue } interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason } possibleTypes { ...TypeRef } }
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }";

#[tokio::test]
async fn the_standard_introspection_query_works_but_deep_data_queries_do_not() {
    let app = TestApp::spawn().await;
    let r = app.gql(None, INTROSPECTION, json!({})).await;
    let types = r.expect_data()["__schema"]["types"]
        .as_array()
        .expect("types")
        .len();
    assert!(types > 50, "{types}");

    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws, None).await;
    send(
        &mut ws,
        json!({ "type": "subscribe", "id": "i", "payload": { "query": INTROSPECTION } }),
    )
    .await;
    let answer = next(&mut ws).await;
    assert!(answer["payload"]["errors"].is_null(), "{answer}");

    // Data next to introspection keeps the configured depth.
    let deep = "{ __schema { queryType { name } } products(first: 1) { edges { node { shop { products(first: 1) { edges { node { shop { products(first: 1) { edges { node { shop { id } } } } } } } } } } } } }";
    let r = app.gql(None, deep, json!({})).await;
    assert_eq!(r.code(), "GRAPHQL_VALIDATION_FAILED", "{}", r.body);
}

const REGISTER: &str = "mutation($input: RegisterInput!) { register(input: $input) { user { id email displayName } } }";

fn account(email: &str, name: &str) -> Value {
    json!({ "input": {
        "email": email, "password": crate::helpers::PASSWORD, "displayName": name,
        "role": "BUYER", "country": "DE", "preferredLanguage": "en", "preferredCurrency": "EUR"
    }})
}

#[tokio::test]
async fn control_characters_are_refused_and_text_is_normalised() {
    let app = TestApp::spawn().await;
    for (vars, field) in [
        (account("a\u{0}b@x.example", "Anna"), "email"),
        (account("anna@x.example", "An\u{0}na"), "displayName"),
        (account("anna@x.example", "An\u{7}na"), "displayName"),
    ] {
        let r = app.gql(None, REGISTER, vars).await;
        assert_eq!(
            (r.code(), r.field()),
            ("BAD_USER_INPUT", field),
            "{}",
            r.body
        );
    }
    let login = app
        .gql(
            None,
            "mutation { login(input: { email: \"a\\u0000b@x.example\", password: \"x\" }) { accessToken } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (login.code(), login.field()),
        ("BAD_USER_INPUT", "email"),
        "{}",
        login.body
    );
    // Decomposed and composed spellings are one email and one name.
    let composed = app
        .gql(None, REGISTER, account("zo\u{eb}@x.example", "Zo\u{eb}"))
        .await;
    assert_eq!(
        composed.expect_data()["register"]["user"]["displayName"],
        "Zo\u{eb}"
    );
    let decomposed = app
        .gql(
            None,
            REGISTER,
            account("zoe\u{308}@x.example", "Zoe\u{308}"),
        )
        .await;
    assert_eq!(decomposed.code(), "CONFLICT", "{}", decomposed.body);
    // Line breaks stay allowed where text may have them.
    alive(&app).await;
}

#[tokio::test]
async fn a_burst_of_guesses_gets_the_limit_verified_across_servers() {
    let app = TestApp::spawn().await;
    let other = app.sibling().await;
    app.register("target@example.mn", "BUYER").await;
    let guesses = (0..20).map(|i| {
        let server = if i % 2 == 0 { &app } else { &other };
        server.login("Target@example.mn", "wrong-password-guess")
    });
    let answers = futures_util::future::join_all(guesses).await;
    let codes: Vec<String> = answers
        .iter()
        .map(|r| r.as_ref().expect_err("all fail").code().to_owned())
        .collect();
    let verified = codes.iter().filter(|c| *c == "UNAUTHENTICATED").count();
    let throttled = codes.iter().filter(|c| *c == "TOO_MANY_REQUESTS").count();
    assert_eq!((verified, throttled), (5, 15), "{codes:?}");
    // The right password is refused too until the window ends, on either server.
    let r = other
        .login("target@example.mn", crate::helpers::PASSWORD)
        .await
        .expect_err("throttled");
    assert_eq!(r.code(), "TOO_MANY_REQUESTS");
    assert!(r.body["errors"][0]["extensions"]["retryAfter"].as_u64() > Some(0));
}

#[tokio::test]
async fn two_successes_for_one_intent_at_once_pay_once_without_review() {
    use crate::{
        helpers::payments::{intent, world},
        helpers::stripe::event,
    };
    let w = world("twice@example.de").await;
    let (_, rug) = w.shop("twice", "100000", 50).await;
    for round in 0..4 {
        w.add(&rug, 1).await;
        let placed = w.place("CARD", &format!("twice-{round}")).await;
        let paid = intent(&placed, "succeeded");
        let first = event(
            &format!("evt_a_{round}"),
            "payment_intent.succeeded",
            paid.clone(),
        );
        let second = event(&format!("evt_b_{round}"), "payment_intent.succeeded", paid);
        let (a, b) = tokio::join!(w.app.signed(&first), w.app.signed(&second));
        assert_eq!((a.0, b.0), (200, 200), "{a:?} {b:?}");
        let order = w.order(&w.buyer.access, &placed["orders"][0]["id"]).await;
        assert_eq!(order["status"], "PAID");
        assert_eq!(order["payment"]["status"], "SUCCEEDED", "{order}");
        assert!(order["payment"]["reviewReason"].is_null(), "{order}");
    }
}

#[tokio::test]
async fn two_refunds_of_one_order_at_once_give_one_success_and_one_conflict() {
    use crate::helpers::payments::{REFUND, world};
    let w = world("refund-race@example.de").await;
    let (shop, rug) = w.shop("refund-race", "370000", 3).await;
    w.add(&rug, 1).await;
    let placed = w.place("CARD", "refund-race-1").await;
    w.pay(&placed, "evt_refund_race_paid").await;
    let order = placed["orders"][0]["id"].clone();
    let ask = json!({ "i": { "orderId": order, "reason": "the artisan cannot make it" } });
    let (a, b) = tokio::join!(
        w.app.gql(Some(&shop.owner.access), REFUND, ask.clone()),
        w.app.gql(Some(&w.admin.access), REFUND, ask.clone()),
    );
    let mut codes = vec![a.code().to_owned(), b.code().to_owned()];
    codes.sort();
    assert_eq!(codes, vec!["", "CONFLICT"], "{} {}", a.body, b.body);
    let winner = if a.code().is_empty() { &a } else { &b };
    assert_eq!(
        winner.expect_data()["refundOrder"]["refund"]["status"],
        "SUCCEEDED"
    );
    assert_eq!(w.fake.seen("POST", "/v1/refunds").len(), 1);
}

const ADD: &str = "mutation($v: ID!, $q: Int!) { addToCart(input: { variantId: $v, quantity: $q }) { cart { currency } } }";
const PLACE: &str =
    "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { checkoutId orders { id } } }";

fn place(address: &str, key: &str, currency: &str) -> Value {
    json!({ "i": { "addressId": address, "currency": currency, "paymentMethod": "BANK_TRANSFER", "idempotencyKey": key } })
}

#[tokio::test]
async fn retries_of_a_placed_key_get_its_checkout_whatever_the_stock() {
    use crate::helpers::orders::{buyer_in, stocked_shop};
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (_, rug) = stocked_shop(&app, "last-one", "370000", 1).await;
    let (buyer, address) = buyer_in(&app, "retry@example.de", "DE").await;
    app.gql(Some(&buyer.access), ADD, json!({ "v": rug, "q": 1 }))
        .await
        .expect_data();
    let tries = (0..20).map(|_| {
        app.gql(
            Some(&buyer.access),
            PLACE,
            place(&address, "only-key", "EUR"),
        )
    });
    let answers = futures_util::future::join_all(tries).await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|r| {
            r.expect_data()["placeOrder"]["checkoutId"]
                .as_str()
                .expect("checkout")
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    // Once more after the fact: the cart is empty and the stock gone, the answer the same.
    let again = app
        .gql(
            Some(&buyer.access),
            PLACE,
            place(&address, "only-key", "EUR"),
        )
        .await;
    assert!(
        ids.contains(
            again.expect_data()["placeOrder"]["checkoutId"]
                .as_str()
                .unwrap_or("")
        )
    );
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused_and_keeps_the_cart() {
    use crate::helpers::orders::{buyer_in, stocked_shop};
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    app.set_rate(&admin, "USD", "MNT", "3450").await;
    let (_, rug) = stocked_shop(&app, "reuse", "370000", 10).await;
    let (buyer, address) = buyer_in(&app, "reuse@example.de", "DE").await;
    app.gql(Some(&buyer.access), ADD, json!({ "v": rug, "q": 1 }))
        .await
        .expect_data();
    app.gql(Some(&buyer.access), PLACE, place(&address, "k-1", "EUR"))
        .await
        .expect_data();
    // Another currency with the same key.
    let r = app
        .gql(Some(&buyer.access), PLACE, place(&address, "k-1", "USD"))
        .await;
    assert_eq!(r.code(), "IDEMPOTENCY_KEY_REUSED", "{}", r.body);
    // A new cart with the same key: refused, and the new items stay in the cart.
    app.gql(Some(&buyer.access), ADD, json!({ "v": rug, "q": 2 }))
        .await
        .expect_data();
    let r = app
        .gql(Some(&buyer.access), PLACE, place(&address, "k-1", "EUR"))
        .await;
    assert_eq!(r.code(), "IDEMPOTENCY_KEY_REUSED", "{}", r.body);
    let cart = app
        .gql(
            Some(&buyer.access),
            "{ cart { shops { lines { quantity } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        cart.expect_data()["cart"]["shops"][0]["lines"][0]["quantity"],
        2
    );
    // The same request as the first: the first checkout.
    let fresh = app
        .gql(Some(&buyer.access), PLACE, place(&address, "k-2", "EUR"))
        .await;
    fresh.expect_data();
}

#[tokio::test]
async fn refusals_name_what_to_act_on() {
    use crate::helpers::orders::{buyer_in, stocked_shop};
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (shop, rug) = stocked_shop(&app, "acts", "370000", 2).await;
    let (buyer, address) = buyer_in(&app, "acts@example.de", "DE").await;
    let empty = app
        .gql(Some(&buyer.access), PLACE, place(&address, "e-1", "EUR"))
        .await;
    assert_eq!(empty.code(), "EMPTY_CART", "{}", empty.body);

    app.gql(Some(&buyer.access), ADD, json!({ "v": rug, "q": 2 }))
        .await
        .expect_data();
    // Someone else buys one first.
    let (rival, rival_address) = buyer_in(&app, "rival@example.de", "DE").await;
    app.gql(Some(&rival.access), ADD, json!({ "v": rug, "q": 1 }))
        .await
        .expect_data();
    app.gql(
        Some(&rival.access),
        PLACE,
        place(&rival_address, "r-1", "EUR"),
    )
    .await
    .expect_data();
    let r = app
        .gql(Some(&buyer.access), PLACE, place(&address, "o-1", "EUR"))
        .await;
    assert_eq!(r.code(), "OUT_OF_STOCK", "{}", r.body);
    let ext = &r.body["errors"][0]["extensions"];
    assert_eq!(ext["variantId"], rug);
    assert_eq!(ext["sku"], "ACTS-A");
    assert_eq!(ext["shopId"], json!(shop.id));
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("ACTS-A")
    );
}

const PROFILE: &str = "subscription { profileUpdated { id } }";

async fn subscribed(app: &TestApp, token: &str) -> crate::ws::Ws {
    let mut ws = connect(app, Some("graphql-transport-ws")).await;
    init(&mut ws, Some(token)).await;
    send(
        &mut ws,
        json!({ "id": "p", "type": "subscribe", "payload": { "query": PROFILE } }),
    )
    .await;
    send(&mut ws, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut ws).await["type"], "pong");
    ws
}

#[tokio::test]
async fn sockets_close_when_their_session_ends() {
    let app = TestApp::spawn().await;
    // Servers share events through PostgreSQL; on SQLite there is one server.
    let on_postgres = std::env::var(crate::helpers::PG_ENV).is_ok_and(|u| !u.is_empty());
    let sibling = if on_postgres {
        Some(app.sibling().await)
    } else {
        None
    };
    let other = sibling.as_ref().unwrap_or(&app);
    let anna = app.register("anna@example.mn", "BUYER").await;
    let phone = app
        .login("anna@example.mn", crate::helpers::PASSWORD)
        .await
        .expect("second sign-in");
    let mut laptop_ws = subscribed(&app, &anna.access).await;
    // Connected to the other server: the end of the session reaches it too.
    let mut phone_ws = subscribed(other, &phone.access).await;

    // Logging out the laptop ends the laptop's socket only.
    let r = app
        .gql(
            None,
            "mutation($t: String!) { logout(input: { refreshToken: $t }) { __typename } }",
            json!({ "t": anna.refresh }),
        )
        .await;
    r.expect_data();
    assert_eq!(closed(&mut laptop_ws).await.0, 4403);
    send(&mut phone_ws, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut phone_ws).await["type"], "pong");

    // A password change ends every session.
    let r = app
        .gql(
            Some(&phone.access),
            "mutation($c: String!) { changePassword(input: { currentPassword: $c, newPassword: \"another-good-password-1\" }) { accessToken } }",
            json!({ "c": crate::helpers::PASSWORD }),
        )
        .await;
    r.expect_data();
    assert_eq!(closed(&mut phone_ws).await.0, 4403);
}

#[tokio::test]
async fn sockets_close_when_their_token_expires_and_echo_a_clients_close() {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::{
        Message,
        protocol::{CloseFrame, frame::coding::CloseCode},
    };
    let app = TestApp::spawn_with(|f| {
        f.merge(figment::providers::Serialized::default(
            "auth.access_token_ttl_secs",
            2,
        ))
    })
    .await;
    let bat = app.register("bat@example.mn", "BUYER").await;
    let mut ws = subscribed(&app, &bat.access).await;
    let started = std::time::Instant::now();
    assert_eq!(closed(&mut ws).await.0, 4403, "expiry");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));

    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws, None).await;
    ws.send(Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "bye".into(),
    })))
    .await
    .expect("close");
    assert_eq!(closed(&mut ws).await.0, 1000);
}

#[tokio::test]
async fn prices_filter_as_they_are_shown_and_unknown_currencies_are_refused_at_the_root() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "USD", "MNT", "3450.25").await;
    let shop = app.shop("bounds", "MN").await;
    app.published(&shop, "bowl", json!({ "price": "125085" }))
        .await;
    let query = "query($f: ProductFilterInput) { products(currency: \"USD\", first: 5, filter: $f) { edges { node { price { amount } } } } }";
    for filter in [
        json!({ "maxPrice": "36.25" }),
        json!({ "minPrice": "36.25" }),
        json!({ "minPrice": "36.25", "maxPrice": "36.25" }),
    ] {
        let r = app.gql(None, query, json!({ "f": filter })).await;
        let edges = r.expect_data()["products"]["edges"]
            .as_array()
            .expect("edges")
            .clone();
        assert_eq!(edges.len(), 1, "{filter}: {}", r.body);
        assert_eq!(edges[0]["node"]["price"]["amount"], "36.25");
    }
    let r = app
        .gql(None, query, json!({ "f": { "maxPrice": "36.24" } }))
        .await;
    assert_eq!(r.expect_data()["products"]["edges"], json!([]));

    // No NZD rate: one coded error on the argument, no product without its price.
    let r = app
        .gql(
            None,
            "{ products(currency: \"NZD\", first: 1) { edges { node { id price { amount } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (r.code(), r.field()),
        ("BAD_USER_INPUT", "currency"),
        "{}",
        r.body
    );
    assert_eq!(r.body["errors"].as_array().map(Vec::len), Some(1));
    assert!(r.body["data"]["products"].is_null(), "{}", r.body);
}

#[tokio::test]
async fn a_refused_collection_change_changes_nothing() {
    let app = TestApp::spawn().await;
    let shop = app.shop("whole", "MN").await;
    let other = app.shop("other-whole", "MN").await;
    let theirs = app.published(&other, "cup", json!({})).await;
    let create = "mutation($i: CreateCollectionInput!) { createCollection(input: $i) { collection { id } } }";
    let r = app
        .gql(
            Some(&shop.owner.access),
            create,
            json!({ "i": { "shopId": shop.id, "slug": "whole-best", "names": [{ "language": "en", "text": "Best" }] } }),
        )
        .await;
    let id = r.expect_data()["createCollection"]["collection"]["id"].clone();
    let update = "mutation($i: UpdateCollectionInput!) { updateCollection(input: $i) { collection { slug } } }";
    let r = app
        .gql(
            Some(&shop.owner.access),
            update,
            json!({ "i": { "collectionId": id, "slug": "renamed", "names": [{ "language": "en", "text": "Renamed" }], "addProductIds": [theirs] } }),
        )
        .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "addProductIds"));
    let now = app
        .gql(
            None,
            "{ collection(slug: \"whole-best\") { slug name } }",
            json!({}),
        )
        .await;
    assert_eq!(
        now.expect_data()["collection"]["slug"],
        "whole-best",
        "{}",
        now.body
    );
    assert_eq!(now.expect_data()["collection"]["name"], "Best");
}

#[tokio::test]
async fn sign_in_reports_the_guest_cart_it_merged() {
    use crate::helpers::orders::stocked_shop;
    let app = TestApp::spawn().await;
    let (_, rug) = stocked_shop(&app, "merge", "37000", 10).await;
    let guest_add =
        "mutation($v: ID!) { addToCart(input: { variantId: $v, quantity: 2 }) { cartToken } }";
    let r = app.gql(None, guest_add, json!({ "v": rug })).await;
    let token = r.expect_data()["addToCart"]["cartToken"].clone();
    app.register("merge@example.de", "BUYER").await;
    let login = "mutation($t: String) { login(input: { email: \"merge@example.de\", password: \"felt-and-silver-42\", cartToken: $t }) { guestCart { found mergedLines } } }";
    let r = app.gql(None, login, json!({ "t": token })).await;
    assert_eq!(
        r.expect_data()["login"]["guestCart"],
        json!({ "found": true, "mergedLines": 1 })
    );
    let r = app.gql(None, login, json!({ "t": token })).await;
    assert_eq!(
        r.expect_data()["login"]["guestCart"],
        json!({ "found": false, "mergedLines": 0 })
    );
    let r = app.gql(None, login, json!({ "t": null })).await;
    assert!(r.expect_data()["login"]["guestCart"].is_null());
}

#[tokio::test]
async fn carts_and_orders_read_in_the_buyers_language() {
    use crate::helpers::orders::stocked_shop;
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (_, rug) = stocked_shop(&app, "words", "37000", 10).await;
    app.gql(None, REGISTER, account("words@example.de", "Anna"))
        .await
        .expect_data();
    let buyer = app
        .login("words@example.de", crate::helpers::PASSWORD)
        .await
        .expect("login");
    let add = "mutation($v: ID!, $l: String) { addToCart(input: { variantId: $v, quantity: 1, language: $l }) { cart { shops { lines { title } } } } }";
    // No Accept-Language: the account's preferred language (en).
    let r = app.gql(Some(&buyer.access), add, json!({ "v": rug })).await;
    assert_eq!(
        r.expect_data()["addToCart"]["cart"]["shops"][0]["lines"][0]["title"],
        "Work item"
    );
    // The argument wins.
    let r = app
        .gql(
            Some(&buyer.access),
            "{ cart(language: \"mn\") { shops { lines { title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.expect_data()["cart"]["shops"][0]["lines"][0]["title"],
        "Бүтээл item"
    );
    // The order keeps the English title.
    let address = app
        .gql(
            Some(&buyer.access),
            "mutation { addAddress(input: { name: \"Anna\", line1: \"Torstraße 1\", city: \"Berlin\", postalCode: \"10119\", country: \"DE\" }) { address { id } } }",
            json!({}),
        )
        .await;
    let address = address.expect_data()["addAddress"]["address"]["id"].clone();
    let r = app
        .gql(
            Some(&buyer.access),
            "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { orders { lines { title } } } }",
            json!({ "i": { "addressId": address, "currency": "EUR", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": "words-1" } }),
        )
        .await;
    assert_eq!(
        r.expect_data()["placeOrder"]["orders"][0]["lines"][0]["title"],
        "Work item"
    );

    // A guest abroad sees the cart in the currency and destination they asked for.
    let r = app
        .gql(
            None,
            "mutation($v: ID!) { addToCart(input: { variantId: $v, quantity: 1, currency: \"EUR\", country: \"DE\", language: \"en\" }) { cart { currency destination shops { lines { title } } } } }",
            json!({ "v": rug }),
        )
        .await;
    let cart = &r.expect_data()["addToCart"]["cart"];
    assert_eq!(
        (cart["currency"].as_str(), cart["destination"].as_str()),
        (Some("EUR"), Some("DE"))
    );
    assert_eq!(cart["shops"][0]["lines"][0]["title"], "Work item");
}

#[tokio::test]
async fn every_request_error_carries_a_code() {
    let app = TestApp::spawn_with(|f| {
        f.merge(figment::providers::Serialized::default(
            "server.body_limit_bytes",
            2048,
        ))
    })
    .await;
    let post = |body: Value| {
        let app = &app;
        async move {
            let res = app
                .http
                .post(app.url("/graphql"))
                .header("accept", "application/graphql-response+json")
                .json(&body)
                .send()
                .await
                .expect("post");
            reply(res).await
        }
    };
    let unknown = post(json!({ "query": "query A { __typename }", "operationName": "B" })).await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (400, "GRAPHQL_VALIDATION_FAILED"),
        "{}",
        unknown.body
    );
    let several = post(json!({ "query": "query A { __typename } query B { __typename }" })).await;
    assert_eq!(
        (several.status, several.code()),
        (400, "GRAPHQL_VALIDATION_FAILED"),
        "{}",
        several.body
    );
    let missing = post(json!({ "query": "query($id: ID!) { product(id: $id) { id } }" })).await;
    assert_eq!(
        (missing.status, missing.code(), missing.field()),
        (400, "BAD_USER_INPUT", "id"),
        "{}",
        missing.body
    );
    assert!(missing.body.get("data").is_none());
    let null = post(json!({ "query": "query($id: ID!) { product(id: $id) { id } }", "variables": { "id": null } })).await;
    assert_eq!(null.status, 400, "{}", null.body);
    assert!(!null.code().is_empty());

    let big = app
        .http
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .header("accept", "application/graphql-response+json")
        .body(format!(
            r#"{{"query":"{{ __typename {} }}"}}"#,
            " ".repeat(4096)
        ))
        .send()
        .await
        .expect("post");
    let big = reply(big).await;
    assert_eq!(
        (big.status, big.code()),
        (413, "PAYLOAD_TOO_LARGE"),
        "{}",
        big.body
    );
    assert!(
        big.content_type
            .starts_with("application/graphql-response+json")
    );
}

#[tokio::test]
async fn long_chains_of_fragments_are_refused() {
    let app = TestApp::spawn().await;
    let mut doc = String::from("query { ...F0 }\n");
    for i in 0..3_000 {
        doc.push_str(&format!("fragment F{i} on Query {{ ...F{} }}\n", i + 1));
    }
    doc.push_str("fragment F3000 on Query { __typename }\n");
    let r = app.gql(None, &doc, json!({})).await;
    assert!(r.status < 500, "{}", r.body);
    // The parser bounds how deep fragments spread (32) and says so with a code.
    assert_eq!(r.code(), "GRAPHQL_PARSE_FAILED", "{}", r.body);
    alive(&app).await;
}

#[tokio::test]
async fn servers_started_together_on_a_fresh_database_migrate_once_and_all_serve() {
    let fleet = TestApp::spawn_fleet(3).await;
    for server in &fleet {
        alive(server).await;
    }
    // What one server writes, the others read: one schema, one database.
    fleet[0].register("fleet@example.mn", "BUYER").await;
    let session = fleet[2]
        .login("fleet@example.mn", crate::helpers::PASSWORD)
        .await
        .expect("the same account on another server");
    assert!(!session.access.is_empty());
}

#[tokio::test]
async fn a_server_older_than_its_database_refuses_to_start() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    app.state
        .db
        .execute_unprepared(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m20991231_000001_future', 0)",
        )
        .await
        .expect("a migration from the future");
    let settings = (*app.state.settings).clone();
    let refused = darkhan::app::build_state(settings)
        .await
        .err()
        .expect("refused");
    assert!(
        format!("{refused:#}").contains("ahead of this build"),
        "{refused:#}"
    );
}

#[tokio::test]
async fn one_socket_runs_a_bounded_number_of_operations() {
    let app = TestApp::spawn().await;
    let user = app.register("many@example.mn", "BUYER").await;
    let mut ws = connect(&app, Some("graphql-transport-ws")).await;
    init(&mut ws, Some(&user.access)).await;
    for i in 0..100 {
        send(
            &mut ws,
            json!({ "id": format!("s{i}"), "type": "subscribe", "payload": { "query": PROFILE } }),
        )
        .await;
    }
    send(
        &mut ws,
        json!({ "id": "one-too-many", "type": "subscribe", "payload": { "query": PROFILE } }),
    )
    .await;
    let refused = next(&mut ws).await;
    assert_eq!(refused["type"], "error", "{refused}");
    assert_eq!(refused["id"], "one-too-many");
    assert_eq!(
        refused["payload"][0]["extensions"]["code"],
        "TOO_MANY_REQUESTS"
    );
    // Completing one makes room for another.
    send(&mut ws, json!({ "id": "s0", "type": "complete" })).await;
    send(
        &mut ws,
        json!({ "id": "again", "type": "subscribe", "payload": { "query": "{ __typename }" } }),
    )
    .await;
    assert_eq!(
        next(&mut ws).await["payload"]["data"]["__typename"],
        "Query"
    );
}
