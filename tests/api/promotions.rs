//! Promotion codes and sales: who may create codes, what a cart shows, checkout that freezes
//! the discount and counts uses atomically, a ledger in which every party's money is exact
//! (shop-funded and platform-funded, with refunds), uses given back on cancellation, guessing
//! throttled, sale prices that checkout charges and that end by themselves, and seasonal
//! campaigns shown only while live.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp,
    orders::{buyer_in, stocked_shop},
    payments::{ADD, PLACE, REFUND, World, minor, s, world},
};

const CREATE: &str = "mutation($i: CreatePromotionCodeInput!) { createPromotionCode(input: $i) { promotion { id code fundedBy discountType percentOff amount { amount currencyCode } uses active shopId } } }";
const APPLY: &str = "mutation($i: ApplyPromotionCodeInput!) { applyPromotionCode(input: $i) { cartToken cart { currency subtotal { amount } discount { amount } shipping { amount } total { amount }
  promotion { code problem } shops { shop { slug } subtotal { amount } discount { amount } lines { unitPrice { amount } originalUnitPrice { amount } discount { amount } } } } } }";
const CART: &str = "query($t: String) { cart(currency: \"EUR\", country: \"DE\", cartToken: $t) { discount { amount } total { amount } promotion { code problem } shops { shop { slug } discount { amount } } } }";
const CODES: &str = "query($s: ID) { promotionCodes(shopId: $s, first: 50) { totalCount nodes { code uses fundedBy } } }";
const PLATFORM: &str = "{ platformAccount { currency commission { amount } discountAbsorbed { amount } promotionExpense { amount } net { amount } } }";
const ORDER_MONEY: &str = "query($id: ID!) { order(id: $id) { status subtotal { amount } discount { amount } shopDiscount { amount } discountFundedBy shipping { amount } total { amount } shopTotal { amount } lines { discount { amount } } } }";

/// Whole tögrög in minor units (MNT has two decimals).
fn mnt(whole: i64) -> i64 {
    whole * 100
}

fn apply(code: &str) -> Value {
    json!({ "i": { "code": code, "currency": "EUR", "country": "DE" } })
}

async fn create(app: &TestApp, token: &str, input: Value) -> Value {
    let r = app.gql(Some(token), CREATE, json!({ "i": input })).await;
    r.expect_data()["createPromotionCode"]["promotion"].clone()
}

async fn platform(w: &World) -> (i64, i64, i64, i64) {
    let r = w.app.gql(Some(&w.admin.access), PLATFORM, json!({})).await;
    let rows = r.expect_data()["platformAccount"].clone();
    let mnt = rows
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["currency"] == "MNT")
        .cloned()
        .unwrap_or(json!(null));
    if mnt.is_null() {
        return (0, 0, 0, 0);
    }
    (
        minor(&mnt["commission"]["amount"]),
        minor(&mnt["discountAbsorbed"]["amount"]),
        minor(&mnt["promotionExpense"]["amount"]),
        minor(&mnt["net"]["amount"]),
    )
}

fn ledger(f: &Value, order: &Value) -> Vec<(String, i64)> {
    World::ledger_of(f, order)
        .into_iter()
        .map(|(k, a)| (k.to_owned(), a))
        .collect()
}

#[tokio::test]
async fn codes_are_created_by_the_right_party_and_bad_ones_are_refused() {
    let w = world("codes@example.de").await;
    let (shop, _) = w.shop("codeshop", "370000", 5).await;
    let (other, _) = w.shop("othershop", "370000", 5).await;
    // A shop's code is its own and funded by it; an admin's is the platform's.
    let own = create(
        &w.app,
        &shop.owner.access,
        json!({ "code": "felt10", "shopId": shop.id, "percentOff": 10 }),
    )
    .await;
    assert_eq!(
        (own["code"].clone(), own["fundedBy"].clone()),
        (json!("FELT10"), json!("SHOP"))
    );
    let admin = create(
        &w.app,
        &w.admin.access,
        json!({ "code": "NAADAM", "amount": "20.00", "currency": "EUR" }),
    )
    .await;
    assert_eq!(admin["fundedBy"], "PLATFORM");
    assert_eq!(
        admin["amount"],
        json!({ "amount": "20.00", "currencyCode": "EUR" })
    );
    for (token, input, code, field) in [
        // Another shop's products, or a code for a shop one does not own.
        (
            &shop.owner.access,
            json!({ "code": "STEAL", "shopId": other.id, "percentOff": 10 }),
            "FORBIDDEN",
            "",
        ),
        (
            &shop.owner.access,
            json!({ "code": "NOSHOP", "percentOff": 10 }),
            "BAD_USER_INPUT",
            "shopId",
        ),
        (
            &w.admin.access,
            json!({ "code": "BIG", "percentOff": 101 }),
            "BAD_USER_INPUT",
            "percentOff",
        ),
        (
            &w.admin.access,
            json!({ "code": "ZERO", "percentOff": 0 }),
            "BAD_USER_INPUT",
            "percentOff",
        ),
        (
            &w.admin.access,
            json!({ "code": "NEG", "amount": "-5", "currency": "EUR" }),
            "BAD_USER_INPUT",
            "amount",
        ),
        (
            &w.admin.access,
            json!({ "code": "NOCUR", "amount": "5" }),
            "BAD_USER_INPUT",
            "currency",
        ),
        (
            &w.admin.access,
            json!({ "code": "BOTH", "amount": "5", "currency": "EUR", "percentOff": 5 }),
            "BAD_USER_INPUT",
            "percentOff",
        ),
        (
            &w.admin.access,
            json!({ "code": "x", "percentOff": 5 }),
            "BAD_USER_INPUT",
            "code",
        ),
        (
            &w.admin.access,
            json!({ "code": "naadam", "percentOff": 5 }),
            "CONFLICT",
            "",
        ),
        (
            &w.buyer.access,
            json!({ "code": "MINE", "percentOff": 5 }),
            "FORBIDDEN",
            "",
        ),
    ] {
        let r = w.app.gql(Some(token), CREATE, json!({ "i": input })).await;
        assert_eq!(r.code(), code, "{input}");
        if !field.is_empty() {
            assert_eq!(r.field(), field, "{input}");
        }
    }
    // Each sees its own: the shop its codes, admins all of them; buyers none.
    let r = w
        .app
        .gql(Some(&shop.owner.access), CODES, json!({ "s": shop.id }))
        .await;
    assert_eq!(r.expect_data()["promotionCodes"]["totalCount"], 1);
    let r = w.app.gql(Some(&w.admin.access), CODES, json!({})).await;
    assert_eq!(r.expect_data()["promotionCodes"]["totalCount"], 2);
    let r = w.app.gql(Some(&w.buyer.access), CODES, json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w
        .app
        .gql(Some(&shop.owner.access), CODES, json!({ "s": other.id }))
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}

#[tokio::test]
async fn a_cart_shows_each_shops_discount_and_bad_codes_are_refused_with_their_reason() {
    let w = world("cartcode@example.de").await;
    let (felt, felt_variant) = w.shop("feltcart", "370000", 5).await;
    let (_, silver_variant) = w.shop("silvercart", "185000", 5).await;
    w.add(&felt_variant, 1).await;
    w.add(&silver_variant, 2).await;
    let now = chrono::Utc::now();
    for input in [
        json!({ "code": "FELT15", "shopId": felt.id, "percentOff": 15 }),
        json!({ "code": "LATER", "percentOff": 10, "startsAt": (now + chrono::Duration::days(2)).to_rfc3339() }),
        json!({ "code": "GONE", "percentOff": 10, "startsAt": (now - chrono::Duration::days(3)).to_rfc3339(), "endsAt": (now - chrono::Duration::days(1)).to_rfc3339() }),
        json!({ "code": "BIGSPEND", "percentOff": 10, "minSubtotal": "500.00", "currency": "EUR" }),
        json!({ "code": "HUGE", "amount": "10000.00", "currency": "EUR" }),
        json!({ "code": "OFF", "percentOff": 10 }),
    ] {
        let token = if input["shopId"].is_null() {
            &w.admin.access
        } else {
            &felt.owner.access
        };
        create(&w.app, token, input).await;
    }
    let off = w.app.gql(Some(&w.admin.access), CODES, json!({})).await;
    let off_id = off.expect_data()["promotionCodes"]["nodes"]
        .as_array()
        .expect("codes")
        .iter()
        .find(|c| c["code"] == "OFF")
        .map(|_| ())
        .is_some();
    assert!(off_id);

    // The felt shop's code: 15 % of its line only (100.00 EUR → 15.00), none of the silver.
    let r = w
        .app
        .gql(Some(&w.buyer.access), APPLY, apply(" felt15 "))
        .await;
    let cart = r.expect_data()["applyPromotionCode"]["cart"].clone();
    assert_eq!(
        cart["promotion"],
        json!({ "code": "FELT15", "problem": null })
    );
    assert_eq!(cart["discount"]["amount"], "15.00");
    let by_shop: Vec<(String, String)> = cart["shops"]
        .as_array()
        .expect("shops")
        .iter()
        .map(|p| (s(&p["shop"]["slug"]), s(&p["discount"]["amount"])))
        .collect();
    assert!(
        by_shop.contains(&("feltcart".into(), "15.00".into())),
        "{by_shop:?}"
    );
    assert!(
        by_shop.contains(&("silvercart".into(), "0.00".into())),
        "{by_shop:?}"
    );
    let total = minor(&cart["subtotal"]["amount"]) - 1500 + minor(&cart["shipping"]["amount"]);
    assert_eq!(minor(&cart["total"]["amount"]), total);

    // Each bad code: its own error, and the cart keeps the code it had.
    for (code, expected) in [
        ("LATER", "PROMOTION_NOT_STARTED"),
        ("GONE", "PROMOTION_EXPIRED"),
        ("BIGSPEND", "PROMOTION_MINIMUM_NOT_MET"),
        ("NOSUCH", "PROMOTION_CODE_UNKNOWN"),
    ] {
        let r = w.app.gql(Some(&w.buyer.access), APPLY, apply(code)).await;
        assert_eq!(r.code(), expected, "{code}");
        assert_eq!(r.field(), "code");
    }
    let r = w.app.gql(Some(&w.buyer.access), CART, json!({})).await;
    assert_eq!(r.expect_data()["cart"]["promotion"]["code"], "FELT15");

    // A fixed amount larger than the cart makes the lines free, never a negative total.
    let r = w.app.gql(Some(&w.buyer.access), APPLY, apply("HUGE")).await;
    let cart = r.expect_data()["applyPromotionCode"]["cart"].clone();
    assert_eq!(cart["discount"], cart["subtotal"]);
    assert_eq!(cart["total"], cart["shipping"]);

    // Switched off after it was applied: the cart says so and checkout refuses it.
    let r = w.app.gql(Some(&w.buyer.access), APPLY, apply("OFF")).await;
    r.expect_data();
    let codes = w
        .app
        .gql(
            Some(&w.admin.access),
            "{ promotionCodes(first: 50) { nodes { id code } } }",
            json!({}),
        )
        .await;
    let id = codes.expect_data()["promotionCodes"]["nodes"]
        .as_array()
        .expect("codes")
        .iter()
        .find(|c| c["code"] == "OFF")
        .map(|c| c["id"].clone())
        .expect("OFF");
    w.app
        .gql(
            Some(&w.admin.access),
            "mutation($i: SetPromotionCodeActiveInput!) { setPromotionCodeActive(input: $i) { promotion { active } } }",
            json!({ "i": { "promotionId": id, "active": false } }),
        )
        .await
        .expect_data();
    let r = w.app.gql(Some(&w.buyer.access), CART, json!({})).await;
    let cart = r.expect_data()["cart"].clone();
    assert_eq!(
        cart["promotion"],
        json!({ "code": "OFF", "problem": "UNKNOWN" })
    );
    assert_eq!(cart["discount"]["amount"], "0.00");
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            PLACE,
            json!({ "i": { "addressId": w.address, "currency": "EUR", "paymentMethod": "CARD", "idempotencyKey": "off-1" } }),
        )
        .await;
    assert_eq!(r.code(), "PROMOTION_CODE_UNKNOWN");
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            "{ myOrders(first: 5) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.expect_data()["myOrders"]["totalCount"],
        0,
        "nothing placed"
    );

    // A guest applies a code with their cart token; it comes along when they sign in.
    let guest = w
        .app
        .gql(None, ADD, json!({ "v": felt_variant, "q": 1 }))
        .await;
    drop(guest);
    let r = w
        .app
        .gql(
            None,
            "mutation($v: ID!) { addToCart(input: { variantId: $v, quantity: 1 }) { cartToken } }",
            json!({ "v": felt_variant }),
        )
        .await;
    let token = s(&r.expect_data()["addToCart"]["cartToken"]);
    let r = w
        .app
        .gql(
            None,
            APPLY,
            json!({ "i": { "code": "FELT15", "cartToken": token, "currency": "EUR" } }),
        )
        .await;
    assert_eq!(
        r.expect_data()["applyPromotionCode"]["cart"]["discount"]["amount"],
        "15.00"
    );
    let r = w.app.gql(None, CART, json!({ "t": token })).await;
    assert_eq!(r.expect_data()["cart"]["promotion"]["code"], "FELT15");
}

#[tokio::test]
async fn guessing_codes_is_throttled_per_cart_and_client() {
    let w = world("guesser@example.de").await;
    let (_, variant) = w.shop("guess", "370000", 5).await;
    w.add(&variant, 1).await;
    create(
        &w.app,
        &w.admin.access,
        json!({ "code": "REAL10", "percentOff": 10 }),
    )
    .await;
    // Codes that exist do not count: many applications of a real code go through.
    for _ in 0..12 {
        w.app
            .gql(Some(&w.buyer.access), APPLY, apply("REAL10"))
            .await
            .expect_data();
    }
    let mut codes = Vec::new();
    for i in 0..11 {
        let r = w
            .app
            .gql(Some(&w.buyer.access), APPLY, apply(&format!("GUESS{i:03}")))
            .await;
        codes.push(r.code().to_owned());
    }
    assert_eq!(&codes[..10], vec!["PROMOTION_CODE_UNKNOWN"; 10].as_slice());
    assert_eq!(codes[10], "TOO_MANY_REQUESTS");
    // Blocked now even for the real code, until the window passes.
    let r = w
        .app
        .gql(Some(&w.buyer.access), APPLY, apply("REAL10"))
        .await;
    assert_eq!(r.code(), "TOO_MANY_REQUESTS");
}

/// Places the buyer's cart for card payment and pays it.
async fn place_and_pay(w: &World, key: &str) -> Value {
    let placed = w.place("CARD", key).await;
    w.pay(&placed, &format!("evt_{key}")).await;
    placed
}

async fn order_money(w: &World, id: &Value) -> Value {
    let r = w
        .app
        .gql(Some(&w.buyer.access), ORDER_MONEY, json!({ "id": id }))
        .await;
    r.expect_data()["order"].clone()
}

#[tokio::test]
async fn the_ledger_books_shop_funded_and_platform_funded_discounts_exactly() {
    let w = world("ledger-promo@example.de").await;
    // 370 000 MNT = 100.00 EUR; shipping to Germany 40 000 MNT = 10.81 EUR; commission 10 %.
    let (own, own_variant) = w.shop("ownpromo", "370000", 10).await;
    let (plat, plat_variant) = w.shop("platpromo", "370000", 10).await;
    create(
        &w.app,
        &own.owner.access,
        json!({ "code": "OWN10", "shopId": own.id, "percentOff": 10 }),
    )
    .await;
    create(
        &w.app,
        &w.admin.access,
        json!({ "code": "GIFT20", "amount": "20.00", "currency": "EUR", "shopId": plat.id }),
    )
    .await;
    create(
        &w.app,
        &w.admin.access,
        json!({ "code": "SMALL5", "percentOff": 5, "shopId": plat.id }),
    )
    .await;

    // Shop-funded: its SALE is what the buyer paid; commission on that.
    w.add(&own_variant, 1).await;
    w.app
        .gql(Some(&w.buyer.access), APPLY, apply("OWN10"))
        .await
        .expect_data();
    let placed = place_and_pay(&w, "own-1").await;
    let order = placed["orders"][0]["id"].clone();
    let o = order_money(&w, &order).await;
    assert_eq!(
        (
            s(&o["subtotal"]["amount"]),
            s(&o["discount"]["amount"]),
            s(&o["shipping"]["amount"]),
            s(&o["total"]["amount"])
        ),
        (
            "100.00".into(),
            "10.00".into(),
            "10.81".into(),
            "100.81".into()
        )
    );
    assert_eq!(o["discountFundedBy"], "SHOP");
    assert_eq!(o["shopDiscount"]["amount"], "37000.00");
    assert_eq!(o["shopTotal"]["amount"], "373000.00");
    assert_eq!(o["lines"][0]["discount"]["amount"], "10.00");
    let f = w.finances(&own.owner.access, None).await;
    let mut entries = ledger(&f, &order);
    entries.sort();
    assert_eq!(
        entries,
        vec![
            ("COMMISSION".into(), -mnt(37_300)),
            ("SALE".into(), mnt(373_000))
        ]
    );
    w.balanced(&own.id).await;
    assert_eq!(platform(&w).await, (mnt(37_300), 0, 0, mnt(37_300)));

    // Platform-funded, more than the commission: the shop is credited the full price, the
    // commission absorbs what it can and the rest is a platform expense.
    w.add(&plat_variant, 1).await;
    w.app
        .gql(Some(&w.buyer.access), APPLY, apply("GIFT20"))
        .await
        .expect_data();
    let placed = place_and_pay(&w, "plat-1").await;
    let gift = placed["orders"][0]["id"].clone();
    let o = order_money(&w, &gift).await;
    assert_eq!(
        (s(&o["discount"]["amount"]), s(&o["total"]["amount"])),
        ("20.00".into(), "90.81".into())
    );
    assert_eq!(o["discountFundedBy"], "PLATFORM");
    // 20 % of the line in tögrög; the buyer paid 336 000 of the shop's 410 000.
    assert_eq!(o["shopDiscount"]["amount"], "74000.00");
    assert_eq!(o["shopTotal"]["amount"], "336000.00");
    let f = w.finances(&plat.owner.access, None).await;
    let mut entries = ledger(&f, &gift);
    entries.sort();
    assert_eq!(
        entries,
        vec![
            ("COMMISSION".into(), -mnt(41_000)),
            ("SALE".into(), mnt(410_000))
        ]
    );
    w.balanced(&plat.id).await;
    assert_eq!(
        platform(&w).await,
        (mnt(78_300), -mnt(41_000), -mnt(33_000), mnt(4_300)),
        "37 300 + 41 000 commission, 74 000 discount: 41 000 absorbed, 33 000 expense"
    );

    // Platform-funded within the commission: absorbed, no expense.
    w.add(&plat_variant, 1).await;
    w.app
        .gql(Some(&w.buyer.access), APPLY, apply("SMALL5"))
        .await
        .expect_data();
    let placed = place_and_pay(&w, "plat-2").await;
    let small = placed["orders"][0]["id"].clone();
    let o = order_money(&w, &small).await;
    assert_eq!(
        (s(&o["discount"]["amount"]), s(&o["shopDiscount"]["amount"])),
        ("5.00".into(), "18500.00".into())
    );
    assert_eq!(
        platform(&w).await,
        (mnt(119_300), -mnt(59_500), -mnt(33_000), mnt(26_800))
    );

    // A third of the GIFT20 order refunded (30.27 of 90.81 EUR paid): the shop gives back a
    // third of what it was credited, the platform a third of each of its entries.
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            REFUND,
            json!({ "i": { "orderId": gift, "amountMinor": 3027 } }),
        )
        .await;
    let refund = r.expect_data()["refundOrder"]["refund"].clone();
    assert_eq!(refund["shopAmount"]["amount"], "136666.67");
    assert_eq!(refund["commissionReturned"]["amount"], "13666.67");
    assert_eq!(
        platform(&w).await,
        (
            mnt(119_300) - 1_366_667,
            -mnt(59_500) + 1_366_667,
            -mnt(33_000) + mnt(11_000),
            mnt(26_800) + mnt(11_000)
        )
    );
    w.balanced(&plat.id).await;
    // The rest by cancelling: everything about that order nets to zero, the use comes back.
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            "mutation($o: ID!) { cancelOrder(input: { orderId: $o }) { order { status refunded { amount } } } }",
            json!({ "o": gift }),
        )
        .await;
    assert_eq!(
        r.expect_data()["cancelOrder"]["order"]["status"],
        "CANCELLED"
    );
    let f = w.finances(&plat.owner.access, None).await;
    assert_eq!(ledger(&f, &gift).iter().map(|e| e.1).sum::<i64>(), 0);
    assert_eq!(
        platform(&w).await,
        (mnt(78_300), -mnt(18_500), 0, mnt(59_800)),
        "only the OWN10 and SMALL5 orders remain"
    );
    let r = w.app.gql(Some(&w.admin.access), CODES, json!({})).await;
    let uses: Vec<(String, i64)> = r.expect_data()["promotionCodes"]["nodes"]
        .as_array()
        .expect("codes")
        .iter()
        .map(|c| (s(&c["code"]), c["uses"].as_i64().unwrap_or(-1)))
        .collect();
    assert!(uses.contains(&("GIFT20".into(), 0)), "{uses:?}");
    assert!(uses.contains(&("SMALL5".into(), 1)), "{uses:?}");
}

#[tokio::test]
async fn a_hundred_buyers_race_for_a_code_limited_to_ten_uses() {
    let app = crate::helpers::payments::world("racer-admin@example.de").await;
    let (_, variant) = stocked_shop(&app.app, "coderace", "37000", 500).await;
    create(
        &app.app,
        &app.admin.access,
        json!({ "code": "FIRST10", "percentOff": 10, "maxUses": 10 }),
    )
    .await;
    let mut buyers = Vec::new();
    for i in 0..100 {
        let (buyer, address) = buyer_in(&app.app, &format!("coderacer{i}@example.de"), "DE").await;
        app.app
            .gql(Some(&buyer.access), ADD, json!({ "v": variant, "q": 1 }))
            .await
            .expect_data();
        app.app
            .gql(Some(&buyer.access), APPLY, apply("FIRST10"))
            .await
            .expect_data();
        buyers.push((buyer, address));
    }
    let attempts = buyers.iter().enumerate().map(|(i, (buyer, address))| {
        let app = &app.app;
        async move {
            app.gql(
                Some(&buyer.access),
                PLACE,
                json!({ "i": { "addressId": address, "currency": "EUR", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": format!("code-race-{i}") } }),
            )
            .await
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let won = results
        .iter()
        .filter(|r| r.body.get("errors").is_none())
        .count();
    let used_up = results
        .iter()
        .filter(|r| r.code() == "PROMOTION_USED_UP")
        .count();
    assert_eq!(
        (won, used_up),
        (10, 90),
        "{:?}",
        results
            .iter()
            .map(|r| r.code().to_owned())
            .collect::<Vec<_>>()
    );
    let r = app.app.gql(Some(&app.admin.access), CODES, json!({})).await;
    assert_eq!(r.expect_data()["promotionCodes"]["nodes"][0]["uses"], 10);
    // Exactly ten orders carry the discount.
    let r = app
        .app
        .gql(
            Some(&app.admin.access),
            "{ orders(first: 100) { totalCount nodes { discount { amount } } } }",
            json!({}),
        )
        .await;
    let orders = r.expect_data()["orders"].clone();
    assert_eq!(orders["totalCount"], 10);
    assert!(
        orders["nodes"]
            .as_array()
            .expect("orders")
            .iter()
            .all(|o| o["discount"]["amount"] != "0.00")
    );
}

#[tokio::test]
async fn per_buyer_and_first_order_limits_hold_and_cancellation_gives_the_use_back() {
    let w = world("limits@example.de").await;
    let (_, variant) = w.shop("limits", "370000", 20).await;
    create(
        &w.app,
        &w.admin.access,
        json!({ "code": "ONCE", "percentOff": 10, "maxUsesPerBuyer": 1 }),
    )
    .await;
    create(
        &w.app,
        &w.admin.access,
        json!({ "code": "WELCOME", "percentOff": 5, "firstOrderOnly": true }),
    )
    .await;
    w.add(&variant, 1).await;
    w.app
        .gql(Some(&w.buyer.access), APPLY, apply("ONCE"))
        .await
        .expect_data();
    let first = w.place("BANK_TRANSFER", "once-1").await;
    // Once used, the buyer cannot apply it again; the first order also ends WELCOME.
    w.add(&variant, 1).await;
    let r = w.app.gql(Some(&w.buyer.access), APPLY, apply("ONCE")).await;
    assert_eq!(r.code(), "PROMOTION_USED_UP");
    let r = w
        .app
        .gql(Some(&w.buyer.access), APPLY, apply("WELCOME"))
        .await;
    assert_eq!(r.code(), "PROMOTION_FIRST_ORDER_ONLY");
    // The buyer cancels the unpaid order: ONCE is theirs to use again (and WELCOME too).
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            "mutation($o: ID!) { cancelOrder(input: { orderId: $o }) { order { status } } }",
            json!({ "o": first["orders"][0]["id"] }),
        )
        .await;
    assert_eq!(
        r.expect_data()["cancelOrder"]["order"]["status"],
        "CANCELLED"
    );
    let r = w.app.gql(Some(&w.buyer.access), APPLY, apply("ONCE")).await;
    assert_eq!(
        r.expect_data()["applyPromotionCode"]["cart"]["discount"]["amount"],
        "10.00"
    );
    let placed = w.place("BANK_TRANSFER", "once-2").await;
    assert_eq!(placed["total"]["amount"], "100.81");
    // A retry of that request (its answer lost) gets the same checkout, not a second use.
    let again = w.place("BANK_TRANSFER", "once-2").await;
    assert_eq!(again["checkoutId"], placed["checkoutId"]);
    // The code was used up with the order and the cart is empty of it.
    let r = w.app.gql(Some(&w.buyer.access), CART, json!({})).await;
    assert_eq!(r.expect_data()["cart"]["promotion"], Value::Null);
}

#[tokio::test]
async fn a_sale_lowers_prices_everywhere_checkout_charges_it_and_it_ends_by_itself() {
    let w = world("sale@example.de").await;
    let (shop, variant) = w.shop("saleshop", "370000", 20).await;
    let product = w
        .app
        .gql(
            None,
            "{ product(shopSlug: \"saleshop\", slug: \"item\") { id } }",
            json!({}),
        )
        .await
        .expect_data()["product"]["id"]
        .clone();
    const SALE: &str = "mutation($i: CreateSaleInput!) { createSale(input: $i) { sale { id live percentOff items { productId salePrice { amount } } } } }";
    let now = chrono::Utc::now();
    // Bad input first.
    for (input, field) in [
        (json!({ "percentOff": 96 }), "percentOff"),
        (
            json!({ "percentOff": 10, "endsAt": (now - chrono::Duration::hours(1)).to_rfc3339() }),
            "endsAt",
        ),
        (
            json!({ "items": [{ "productId": product, "salePrice": "400000" }] }),
            "salePrice",
        ),
        (
            json!({ "percentOff": null, "items": [{ "productId": product }] }),
            "salePrice",
        ),
    ] {
        let mut i = json!({ "shopId": shop.id, "title": "Naadam", "percentOff": 25, "endsAt": (now + chrono::Duration::days(3)).to_rfc3339(), "items": [{ "productId": product }] });
        for (k, v) in input.as_object().expect("object") {
            i[k] = v.clone();
        }
        let r = w
            .app
            .gql(Some(&shop.owner.access), SALE, json!({ "i": i }))
            .await;
        assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", field), "{i}");
    }
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            SALE,
            json!({ "i": { "shopId": shop.id, "title": "x", "percentOff": 10, "endsAt": (now + chrono::Duration::days(1)).to_rfc3339(), "items": [{ "productId": product }] } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w
        .app
        .gql(
            Some(&shop.owner.access),
            SALE,
            json!({ "i": { "shopId": shop.id, "title": "Naadam sale", "percentOff": 25, "endsAt": (now + chrono::Duration::days(3)).to_rfc3339(), "items": [{ "productId": product }] } }),
        )
        .await;
    let sale = r.expect_data()["createSale"]["sale"].clone();
    assert_eq!(sale["live"], true);

    // 370 000 → 277 500 MNT = 75.00 EUR; the regular price stays visible.
    const SHOWN: &str = "query($c: String) { product(shopSlug: \"saleshop\", slug: \"item\", currency: $c) { price { amount currencyCode } regularPrice { amount } originalPrice { amount currencyCode } sale { title percentOff } variants { price { amount } regularPrice { amount } } } }";
    let r = w.app.gql(None, SHOWN, json!({ "c": "EUR" })).await;
    let p = r.expect_data()["product"].clone();
    assert_eq!(
        p["price"],
        json!({ "amount": "75.00", "currencyCode": "EUR" })
    );
    assert_eq!(p["regularPrice"]["amount"], "100.00");
    assert_eq!(
        p["originalPrice"],
        json!({ "amount": "370000.00", "currencyCode": "MNT" })
    );
    assert_eq!(
        p["sale"],
        json!({ "title": "Naadam sale", "percentOff": 25 })
    );
    assert_eq!(p["variants"][0]["price"]["amount"], "75.00");
    let r = w.app.gql(None, SHOWN, json!({ "c": "MNT" })).await;
    assert_eq!(r.expect_data()["product"]["price"]["amount"], "277500.00");

    // The cart and checkout charge the sale price; codes apply on top of it.
    w.add(&variant, 2).await;
    let r = w.app.gql(Some(&w.buyer.access), CART, json!({})).await;
    r.expect_data();
    let placed = w.place("CARD", "sale-1").await;
    // 2 × 75.00 + shipping 40 000 + 10 000 MNT (13.51 EUR) = 163.51.
    assert_eq!(placed["total"]["amount"], "163.51");
    assert_eq!(placed["orders"][0]["shopTotal"]["amount"], "605000.00");

    // Ending it restores the price at once.
    let r = w
        .app
        .gql(
            Some(&shop.owner.access),
            "mutation($i: EndSaleInput!) { endSale(input: $i) { sale { live } } }",
            json!({ "i": { "saleId": sale["id"] } }),
        )
        .await;
    assert_eq!(r.expect_data()["endSale"]["sale"]["live"], false);
    let r = w.app.gql(None, SHOWN, json!({ "c": "EUR" })).await;
    let p = r.expect_data()["product"].clone();
    assert_eq!(
        (p["price"]["amount"].clone(), p["sale"].clone()),
        (json!("100.00"), Value::Null)
    );

    // A sale that ends in a moment ends by itself, with nothing running.
    let r = w
        .app
        .gql(
            Some(&shop.owner.access),
            SALE,
            json!({ "i": { "shopId": shop.id, "title": "Flash", "endsAt": (chrono::Utc::now() + chrono::Duration::seconds(2)).to_rfc3339(), "items": [{ "productId": product, "salePrice": "300000" }] } }),
        )
        .await;
    assert_eq!(
        r.expect_data()["createSale"]["sale"]["items"][0]["salePrice"]["amount"],
        "300000.00"
    );
    let r = w.app.gql(None, SHOWN, json!({ "c": "MNT" })).await;
    assert_eq!(r.expect_data()["product"]["price"]["amount"], "300000.00");
    // Listings sort and filter by the price shown: on sale it is under 350 000 MNT.
    const UNDER: &str = "{ products(currency: \"MNT\", filter: { maxPrice: \"350000\" }, first: 10) { nodes { slug price { amount } } } }";
    let r = w.app.gql(None, UNDER, json!({})).await;
    assert_eq!(
        r.expect_data()["products"]["nodes"][0]["price"]["amount"],
        "300000.00"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
    let r = w.app.gql(None, SHOWN, json!({ "c": "MNT" })).await;
    assert_eq!(r.expect_data()["product"]["price"]["amount"], "370000.00");
    // The next background sweep moves it back in listings.
    darkhan::app::sweep(&w.app.state).await.expect("sweep");
    let r = w.app.gql(None, UNDER, json!({})).await;
    assert_eq!(r.expect_data()["products"]["nodes"], json!([]));
}

#[tokio::test]
async fn campaigns_show_only_while_live_in_featured_order_with_their_code() {
    let w = world("campaigns@example.de").await;
    let (_, _) = w.shop("campaignshop", "370000", 5).await;
    let product = w
        .app
        .gql(
            None,
            "{ product(shopSlug: \"campaignshop\", slug: \"item\") { id } }",
            json!({}),
        )
        .await
        .expect_data()["product"]["id"]
        .clone();
    const COLLECTION: &str = "mutation($i: CreateCollectionInput!) { createCollection(input: $i) { collection { id } } }";
    let mut collections = Vec::new();
    for slug in ["naadam", "tsagaan-sar", "christmas"] {
        let r = w
            .app
            .gql(
                Some(&w.admin.access),
                COLLECTION,
                json!({ "i": { "slug": slug, "names": [{ "language": "en", "text": slug.to_uppercase() }] } }),
            )
            .await;
        let id = r.expect_data()["createCollection"]["collection"]["id"].clone();
        w.app
            .gql(
                Some(&w.admin.access),
                "mutation($i: UpdateCollectionInput!) { updateCollection(input: $i) { collection { id } } }",
                json!({ "i": { "collectionId": id, "addProductIds": [product] } }),
            )
            .await
            .expect_data();
        collections.push(id);
    }
    create(
        &w.app,
        &w.admin.access,
        json!({ "code": "NAADAM15", "percentOff": 15, "description": "15 % off for Naadam" }),
    )
    .await;
    const CREATE_CAMPAIGN: &str = "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id live position promotion { code percentOff } } } }";
    let now = chrono::Utc::now();
    let day = chrono::Duration::days(1);
    let campaign = |collection: &Value,
                    from: chrono::DateTime<chrono::Utc>,
                    to: chrono::DateTime<chrono::Utc>,
                    position: i32,
                    code: Option<&str>| {
        json!({ "i": { "collectionId": collection, "startsAt": from.to_rfc3339(), "endsAt": to.to_rfc3339(),
            "bannerUrl": "https://cdn.example/banner.jpg", "bannerAlt": "Horses on the steppe", "position": position, "promotionCode": code } })
    };
    // Bad input and who may: admins only, an end after the start, an https banner, a real code.
    for (token, input, code) in [
        (
            &w.buyer.access,
            campaign(&collections[0], now - day, now + day, 1, None),
            "FORBIDDEN",
        ),
        (
            &w.admin.access,
            campaign(&collections[0], now + day, now - day, 1, None),
            "BAD_USER_INPUT",
        ),
        (
            &w.admin.access,
            campaign(&collections[0], now - day, now + day, 1, Some("NOPE")),
            "BAD_USER_INPUT",
        ),
    ] {
        let r = w.app.gql(Some(token), CREATE_CAMPAIGN, input).await;
        assert_eq!(r.code(), code);
    }
    let mut insecure = campaign(&collections[0], now - day, now + day, 1, None);
    insecure["i"]["bannerUrl"] = json!("http://cdn.example/banner.jpg");
    let r = w
        .app
        .gql(Some(&w.admin.access), CREATE_CAMPAIGN, insecure)
        .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "bannerUrl"));

    // Naadam (live, second), Tsagaan Sar (live, first), Christmas (not yet).
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            CREATE_CAMPAIGN,
            campaign(&collections[0], now - day, now + day, 2, Some("naadam15")),
        )
        .await;
    let naadam = r.expect_data()["createCampaign"]["campaign"].clone();
    assert_eq!(
        naadam["promotion"],
        json!({ "code": "NAADAM15", "percentOff": 15 })
    );
    w.app
        .gql(
            Some(&w.admin.access),
            CREATE_CAMPAIGN,
            campaign(&collections[1], now - day, now + day, 1, None),
        )
        .await
        .expect_data();
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            CREATE_CAMPAIGN,
            campaign(&collections[2], now + day, now + day * 30, 0, None),
        )
        .await;
    let christmas = r.expect_data()["createCampaign"]["campaign"].clone();
    assert_eq!(christmas["live"], false);
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            CREATE_CAMPAIGN,
            campaign(&collections[0], now - day, now + day, 1, None),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT", "one campaign per collection");

    const LIVE: &str = "{ campaigns(language: \"en\", currency: \"EUR\") { position banner { url alt } promotion { code description }
      collection { slug name products(first: 5) { totalCount nodes { price { amount currencyCode } } } } } }";
    let r = w.app.gql(None, LIVE, json!({})).await;
    let live = r.expect_data()["campaigns"]
        .as_array()
        .expect("campaigns")
        .clone();
    let slugs: Vec<&str> = live
        .iter()
        .map(|c| c["collection"]["slug"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        slugs,
        vec!["tsagaan-sar", "naadam"],
        "featured order, live only"
    );
    assert_eq!(live[1]["promotion"]["code"], "NAADAM15");
    assert_eq!(live[1]["banner"]["alt"], "Horses on the steppe");
    assert_eq!(
        live[1]["collection"]["products"]["nodes"][0]["price"]["amount"],
        "100.00"
    );
    // Not live: hidden from the public by slug too, visible to admins.
    const ONE: &str = "query($s: String!) { campaign(slug: $s) { live collection { slug } } }";
    let r = w.app.gql(None, ONE, json!({ "s": "christmas" })).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = w
        .app
        .gql(Some(&w.admin.access), ONE, json!({ "s": "christmas" }))
        .await;
    assert_eq!(r.expect_data()["campaign"]["live"], false);
    // Moving its start brings it in, first; unlinking Naadam's code hides the code.
    w.app
        .gql(
            Some(&w.admin.access),
            "mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) { campaign { live } } }",
            json!({ "i": { "campaignId": christmas["id"], "startsAt": (now - day).to_rfc3339() } }),
        )
        .await
        .expect_data();
    w.app
        .gql(
            Some(&w.admin.access),
            "mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) { campaign { promotion { code } } } }",
            json!({ "i": { "campaignId": naadam["id"], "promotionCode": null } }),
        )
        .await
        .expect_data();
    let r = w.app.gql(None, LIVE, json!({})).await;
    let live = r.expect_data()["campaigns"]
        .as_array()
        .expect("campaigns")
        .clone();
    let slugs: Vec<&str> = live
        .iter()
        .map(|c| c["collection"]["slug"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(slugs, vec!["christmas", "tsagaan-sar", "naadam"]);
    assert_eq!(live[2]["promotion"], Value::Null);
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            "{ allCampaigns(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.expect_data()["allCampaigns"]["totalCount"], 3);
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            "{ allCampaigns(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}
