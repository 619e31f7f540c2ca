//! Card payments through the real async-stripe client against the local fake Stripe, signed
//! webhooks, the ledger, refunds and payouts. Every scenario ends by checking that each
//! shop's balance equals the sum of its ledger.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::{
    catalog_helpers::ShopFixture,
    fake_stripe::{FakeStripe, WEBHOOK_SECRET, account_json, event, intent_json, now, signature},
    helpers::{Session, TestApp},
    orders::{buyer_in, stocked_shop},
};

const ADD: &str = "mutation($v: ID!, $q: Int!) { addToCart(input: { variantId: $v, quantity: $q }) { cart { currency } } }";
const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { checkoutId total { amount currencyCode }
  orders { id status shopTotal { amount currencyCode } shop { slug } }
  payment { paymentIntentId clientSecret publishableKey amount { amount currencyCode } status } } }";
const RETRY: &str = "mutation($c: ID!) { retryPayment(input: { checkoutId: $c }) { payment { paymentIntentId clientSecret status } } }";
pub const ORDER: &str = "query($id: ID!) { order(id: $id) { status refunded { amount currencyCode } commissionBasisPoints
  payment { status provider failures lastError reviewReason amount { amount currencyCode } }
  refunds { id status method amount { amount } shopAmount { amount } commissionReturned { amount } reference }
  events { to note } lines { variantId: sku } } }";
const FINANCES: &str = "query($s: ID) { shopFinances(shopId: $s) { shopId payoutsEnabled stripeAccountId commissionBasisPoints
  balances { currency pending { amount } available { amount } total { amount } }
  ledger(first: 500) { kind amount { amount currencyCode } orderId transferId payoutId refundId }
  payouts { id method status amount { amount currencyCode } reference failure } } }";
pub const REFUND: &str = "mutation($i: RefundOrderInput!) { refundOrder(input: $i) { refund { id status method amount { amount } shopAmount { amount } commissionReturned { amount } reference } order { status refunded { amount } } } }";
const PAYOUT: &str = "mutation($i: CreatePayoutInput!) { createPayout(input: $i) { payout { id method status amount { amount currencyCode } reference failure } } }";
const ONBOARD: &str = "mutation($i: StartPayoutOnboardingInput!) { startPayoutOnboarding(input: $i) { onboarding { accountId url expiresAt } } }";
const SHIP: &str = "mutation($o: ID!) { markOrderShipped(input: { orderId: $o, carrier: \"Mongol Post\", trackingNumber: \"RR123456789MN\" }) { order { status } } }";
const DELIVER: &str =
    "mutation($o: ID!) { markOrderDelivered(input: { orderId: $o }) { order { status } } }";

/// "123.45" → 12345 (every currency here has two decimals).
pub fn minor(amount: &Value) -> i64 {
    let text = amount.as_str().expect("amount text");
    let negative = text.starts_with('-');
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let value: i64 = digits.parse().expect("digits");
    if negative { -value } else { value }
}

pub fn s(v: &Value) -> String {
    v.as_str().expect("string").to_owned()
}

/// A Stripe-shaped PaymentIntent for a placed checkout, in the state given.
pub fn intent(placed: &Value, status: &str) -> Value {
    let pi = s(&placed["payment"]["paymentIntentId"]);
    let total = minor(&placed["total"]["amount"]);
    let currency = s(&placed["total"]["currencyCode"]).to_lowercase();
    intent_json(&pi, total, &currency, status, &s(&placed["checkoutId"]))
}

pub struct World {
    pub fake: FakeStripe,
    pub app: TestApp,
    pub admin: Session,
    pub buyer: Session,
    pub address: String,
}

pub async fn world(buyer_email: &str) -> World {
    let fake = FakeStripe::start().await;
    let app = fake.app().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (buyer, address) = buyer_in(&app, buyer_email, "DE").await;
    World {
        fake,
        app,
        admin,
        buyer,
        address,
    }
}

impl World {
    pub async fn shop(&self, slug: &str, price: &str, stock: i32) -> (ShopFixture, String) {
        stocked_shop(&self.app, slug, price, stock).await
    }

    pub async fn add(&self, variant: &str, quantity: i32) {
        self.app
            .gql(
                Some(&self.buyer.access),
                ADD,
                json!({ "v": variant, "q": quantity }),
            )
            .await
            .ok();
    }

    pub async fn place(&self, method: &str, key: &str) -> Value {
        let r = self
            .app
            .gql(
                Some(&self.buyer.access),
                PLACE,
                json!({ "i": { "addressId": self.address, "currency": "EUR", "paymentMethod": method, "idempotencyKey": key } }),
            )
            .await;
        r.ok()["placeOrder"].clone()
    }

    /// Signs and sends `payment_intent.succeeded` for a placed checkout.
    pub async fn pay(&self, placed: &Value, event_id: &str) {
        let body = event(
            event_id,
            "payment_intent.succeeded",
            intent(placed, "succeeded"),
        );
        let (status, text) = self.app.signed(&body).await;
        assert_eq!((status, text.contains("processed")), (200, true), "{text}");
    }

    pub async fn order(&self, token: &str, id: &Value) -> Value {
        let r = self.app.gql(Some(token), ORDER, json!({ "id": id })).await;
        r.ok()["order"].clone()
    }

    pub async fn finances(&self, token: &str, shop: Option<&str>) -> Value {
        let r = self
            .app
            .gql(Some(token), FINANCES, json!({ "s": shop }))
            .await;
        r.ok()["shopFinances"].clone()
    }

    /// Checks a shop's balance equals the sum of its ledger; returns (pending, available).
    pub async fn balanced(&self, shop: &str) -> (i64, i64) {
        let f = self.finances(&self.admin.access, Some(shop)).await;
        let mut sums: HashMap<String, i64> = HashMap::new();
        for entry in f["ledger"].as_array().expect("ledger") {
            *sums.entry(s(&entry["amount"]["currencyCode"])).or_default() +=
                minor(&entry["amount"]["amount"]);
        }
        let balances = f["balances"].as_array().expect("balances");
        assert_eq!(balances.len(), sums.len(), "{f}");
        let (mut pending, mut available) = (0, 0);
        for b in balances {
            let total = minor(&b["total"]["amount"]);
            assert_eq!(Some(&total), sums.get(&s(&b["currency"])), "{f}");
            assert_eq!(
                minor(&b["pending"]["amount"]) + minor(&b["available"]["amount"]),
                total
            );
            pending += minor(&b["pending"]["amount"]);
            available += minor(&b["available"]["amount"]);
        }
        (pending, available)
    }

    pub async fn ship_and_deliver(&self, owner: &Session, order: &Value) {
        let shipped = self
            .app
            .gql(Some(&owner.access), SHIP, json!({ "o": order }))
            .await;
        shipped.ok();
        let delivered = self
            .app
            .gql(Some(&self.buyer.access), DELIVER, json!({ "o": order }))
            .await;
        delivered.ok();
    }

    /// An admin's `createPayout` for a shop, without a bank reference.
    pub async fn payout(&self, shop: &str) -> crate::helpers::Reply {
        let input = json!({ "i": { "shopId": shop } });
        self.app.gql(Some(&self.admin.access), PAYOUT, input).await
    }

    pub fn ledger_of<'a>(f: &'a Value, order: &Value) -> Vec<(&'a str, i64)> {
        f["ledger"]
            .as_array()
            .expect("ledger")
            .iter()
            .filter(|e| &e["orderId"] == order)
            .map(|e| {
                (
                    e["kind"].as_str().unwrap_or(""),
                    minor(&e["amount"]["amount"]),
                )
            })
            .collect()
    }
}

fn order_of<'a>(placed: &'a Value, slug: &str) -> &'a Value {
    placed["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .find(|o| o["shop"]["slug"] == slug)
        .expect("order of shop")
}

#[tokio::test]
async fn a_card_checkout_across_two_shops_is_paid_by_a_signed_webhook() {
    let w = world("card@example.de").await;
    let (felt, rug) = w.shop("felt", "370000", 3).await;
    let (silver, ring) = w.shop("silver", "185000", 5).await;
    // A per-shop commission, frozen on the order when it is placed.
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            "mutation($s: ID!, $b: Int) { setShopCommission(input: { shopId: $s, basisPoints: $b }) { finances { commissionBasisPoints } } }",
            json!({ "s": silver.id, "b": 500 }),
        )
        .await;
    assert_eq!(
        r.ok()["setShopCommission"]["finances"]["commissionBasisPoints"],
        500
    );
    let r = w
        .app
        .gql(
            Some(&silver.owner.access),
            "mutation($s: ID!) { setShopCommission(input: { shopId: $s, basisPoints: 0 }) { finances { commissionBasisPoints } } }",
            json!({ "s": silver.id }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            "mutation($s: ID!) { setShopCommission(input: { shopId: $s, basisPoints: 20000 }) { finances { commissionBasisPoints } } }",
            json!({ "s": silver.id }),
        )
        .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "basisPoints"));

    w.add(&rug, 1).await;
    w.add(&ring, 2).await;
    let placed = w.place("CARD", "card-1").await;
    let checkout = s(&placed["checkoutId"]);
    assert_eq!(
        placed["total"],
        json!({ "amount": "224.32", "currencyCode": "EUR" })
    );
    let payment = &placed["payment"];
    assert_eq!(payment["status"], "REQUIRES_PAYMENT");
    assert_eq!(payment["publishableKey"], "pk_test_fake");
    assert_eq!(payment["amount"], placed["total"]);
    let pi = s(&payment["paymentIntentId"]);
    assert!(s(&payment["clientSecret"]).starts_with(&format!("{pi}_secret_")));

    // Exactly what Stripe needs, once, with a key derived from the checkout.
    let created = w.fake.created("/v1/payment_intents");
    assert_eq!(created.len(), 1);
    let form = &created[0].form;
    assert_eq!(form.get("amount").map(String::as_str), Some("22432"));
    assert_eq!(form.get("currency").map(String::as_str), Some("eur"));
    assert_eq!(
        form.get("automatic_payment_methods[enabled]")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(form.get("transfer_group"), Some(&checkout));
    assert_eq!(form.get("metadata[checkout_id]"), Some(&checkout));
    assert_eq!(
        created[0].idempotency_key,
        Some(format!("checkout-{checkout}-pi"))
    );

    // A client retry of placeOrder and a retryPayment reuse the same intent.
    let again = w.place("CARD", "card-1").await;
    assert_eq!(again["checkoutId"], placed["checkoutId"]);
    assert_eq!(again["payment"]["clientSecret"], payment["clientSecret"]);
    let r = w
        .app
        .gql(Some(&w.buyer.access), RETRY, json!({ "c": checkout }))
        .await;
    assert_eq!(r.ok()["retryPayment"]["payment"]["paymentIntentId"], pi);
    assert_eq!(w.fake.created("/v1/payment_intents").len(), 1);
    let stranger = w.app.register("stranger@example.de", "BUYER").await;
    let r = w
        .app
        .gql(Some(&stranger.access), RETRY, json!({ "c": checkout }))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");

    w.pay(&placed, "evt_paid_1").await;
    for o in placed["orders"].as_array().expect("orders") {
        let order = w.order(&w.buyer.access, &o["id"]).await;
        assert_eq!(order["status"], "PAID");
        assert_eq!(order["payment"]["status"], "SUCCEEDED");
        assert_eq!(order["payment"]["provider"], "STRIPE");
    }
    // The same event again changes nothing.
    let body = event(
        "evt_paid_1",
        "payment_intent.succeeded",
        intent(&placed, "succeeded"),
    );
    let (status, text) = w.app.signed(&body).await;
    assert_eq!((status, text.contains("duplicate")), (200, true), "{text}");

    // Sale credit in the shop's currency at the locked rate, minus the frozen commission.
    let f = w.finances(&felt.owner.access, None).await;
    let felt_order = &order_of(&placed, "felt")["id"];
    assert_eq!(
        World::ledger_of(&f, felt_order),
        vec![("COMMISSION", -4_100_000), ("SALE", 41_000_000)]
    );
    assert_eq!(w.balanced(&felt.id).await, (36_900_000, 0));
    let f = w.finances(&silver.owner.access, None).await;
    let silver_order = &order_of(&placed, "silver")["id"];
    assert_eq!(
        World::ledger_of(&f, silver_order),
        vec![("COMMISSION", -2_100_000), ("SALE", 42_000_000)]
    );
    assert_eq!(w.balanced(&silver.id).await, (39_900_000, 0));
    let order = w.order(&w.buyer.access, silver_order).await;
    assert_eq!(order["commissionBasisPoints"], 500);

    // Paid checkouts have nothing left to retry.
    let r = w
        .app
        .gql(Some(&w.buyer.access), RETRY, json!({ "c": checkout }))
        .await;
    assert_eq!(r.code(), "CONFLICT");
    // An artisan cannot read another shop's money.
    let r = w
        .app
        .gql(
            Some(&felt.owner.access),
            FINANCES,
            json!({ "s": silver.id }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}

#[tokio::test]
async fn webhooks_are_verified_before_anything_happens() {
    let w = world("sig@example.de").await;
    let (shop, rug) = w.shop("sig", "370000", 3).await;
    w.add(&rug, 1).await;
    let placed = w.place("CARD", "sig-1").await;
    let body = event(
        "evt_sig_1",
        "payment_intent.succeeded",
        intent(&placed, "succeeded"),
    );
    let t = now();
    let wrong = signature(&body, "whsec_not_ours", t);
    let tampered = body.replace("\"livemode\":false", "\"livemode\":true");
    for (what, text, sig) in [
        ("unsigned", body.clone(), None),
        ("wrong secret", body.clone(), Some(wrong.clone())),
        (
            "stale",
            body.clone(),
            Some(signature(&body, WEBHOOK_SECRET, t - 600)),
        ),
        (
            "from the future",
            body.clone(),
            Some(signature(&body, WEBHOOK_SECRET, t + 600)),
        ),
        (
            "tampered",
            tampered,
            Some(signature(&body, WEBHOOK_SECRET, t)),
        ),
        ("garbage", body.clone(), Some("nonsense".into())),
    ] {
        let (status, _) = w.app.webhook(&text, sig).await;
        assert_eq!(status, 400, "{what}");
    }
    let order = w.order(&w.buyer.access, &placed["orders"][0]["id"]).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(w.balanced(&shop.id).await, (0, 0));

    // Stripe may send several v1 signatures (secret rotation): one valid one is enough.
    let good = signature(&body, WEBHOOK_SECRET, t);
    let v1 = good.split("v1=").nth(1).expect("v1");
    let bad = wrong.split("v1=").nth(1).expect("v1");
    let rotated = format!("t={t},v1={bad},v1={v1}");
    let (status, text) = w.app.webhook(&body, Some(rotated.clone())).await;
    assert_eq!((status, text.contains("processed")), (200, true), "{text}");
    // The very same delivery replayed: acknowledged, not processed again.
    let (status, text) = w.app.webhook(&body, Some(rotated)).await;
    assert_eq!((status, text.contains("duplicate")), (200, true), "{text}");
    let order = w.order(&w.buyer.access, &placed["orders"][0]["id"]).await;
    assert_eq!(order["status"], "PAID");

    // Unknown types are acknowledged and ignored.
    let other = event(
        "evt_other",
        "climate.order.canceled",
        json!({ "id": "climorder_1", "object": "climate.order" }),
    );
    let (status, text) = w.app.signed(&other).await;
    assert_eq!((status, text.contains("ignored")), (200, true), "{text}");

    // Without Stripe keys the endpoint does not exist.
    let plain = TestApp::spawn().await;
    let (status, _) = plain.signed(&body).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_failed_card_then_a_new_attempt_pays_and_late_events_change_nothing() {
    let w = world("fail@example.de").await;
    let (shop, rug) = w.shop("fail", "370000", 3).await;
    w.add(&rug, 1).await;
    let placed = w.place("CARD", "fail-1").await;
    let checkout = s(&placed["checkoutId"]);
    let order_id = placed["orders"][0]["id"].clone();
    let mut declined = intent(&placed, "requires_payment_method");
    declined["last_payment_error"] = json!({ "type": "card_error", "code": "card_declined", "message": "Your card was declined." });
    let (status, _) = w
        .app
        .signed(&event(
            "evt_fail_1",
            "payment_intent.payment_failed",
            declined.clone(),
        ))
        .await;
    assert_eq!(status, 200);
    let order = w.order(&w.buyer.access, &order_id).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["payment"]["failures"], 1);
    assert_eq!(order["payment"]["lastError"], "Your card was declined.");
    assert_eq!(order["payment"]["amount"], placed["total"]);
    // The shop sees that its order awaits payment, not the buyer's card or the whole checkout.
    let seen_by_shop = w.order(&shop.owner.access, &order_id).await;
    assert_eq!(seen_by_shop["payment"]["failures"], 1);
    assert_eq!(seen_by_shop["payment"]["lastError"], Value::Null);
    assert_eq!(seen_by_shop["payment"]["amount"], Value::Null);
    assert_eq!(order["payment"]["status"], "REQUIRES_PAYMENT");

    // The buyer abandons; Stripe cancels the intent; a retry gets a new one, once.
    let old = s(&placed["payment"]["paymentIntentId"]);
    w.fake.cancel_intent(&old);
    let r = w
        .app
        .gql(Some(&w.buyer.access), RETRY, json!({ "c": checkout }))
        .await;
    let fresh = s(&r.ok()["retryPayment"]["payment"]["paymentIntentId"]);
    assert_ne!(fresh, old);
    let created = w.fake.created("/v1/payment_intents");
    assert_eq!(created.len(), 2);
    assert_eq!(
        created[1].idempotency_key,
        Some(format!("checkout-{checkout}-pi-after-{old}"))
    );
    let r = w
        .app
        .gql(Some(&w.buyer.access), RETRY, json!({ "c": checkout }))
        .await;
    assert_eq!(r.ok()["retryPayment"]["payment"]["paymentIntentId"], fresh);
    assert_eq!(w.fake.created("/v1/payment_intents").len(), 2);

    let mut paid = placed.clone();
    paid["payment"]["paymentIntentId"] = json!(fresh);
    w.pay(&paid, "evt_fail_2").await;
    // A late failure of the first attempt arrives after the success: nothing changes.
    let (status, _) = w
        .app
        .signed(&event(
            "evt_fail_3",
            "payment_intent.payment_failed",
            declined,
        ))
        .await;
    assert_eq!(status, 200);
    let order = w.order(&w.buyer.access, &order_id).await;
    assert_eq!(order["status"], "PAID");
    assert_eq!(order["payment"]["failures"], 1);
    assert_eq!(order["payment"]["status"], "SUCCEEDED");
    assert_eq!(w.balanced(&shop.id).await, (36_900_000, 0));
}

#[tokio::test]
async fn a_payment_that_does_not_match_the_checkout_is_held_for_review() {
    let w = world("short@example.de").await;
    let (shop, rug) = w.shop("short", "370000", 3).await;
    w.add(&rug, 1).await;
    let placed = w.place("CARD", "short-1").await;
    let mut short = intent(&placed, "succeeded");
    short["amount_received"] = json!(minor(&placed["total"]["amount"]) - 1);
    let (status, _) = w
        .app
        .signed(&event("evt_short", "payment_intent.succeeded", short))
        .await;
    assert_eq!(status, 200);
    let mut dollars = intent(&placed, "succeeded");
    dollars["currency"] = json!("usd");
    let (status, _) = w
        .app
        .signed(&event("evt_usd", "payment_intent.succeeded", dollars))
        .await;
    assert_eq!(status, 200);
    let order_id = &placed["orders"][0]["id"];
    let order = w.order(&w.buyer.access, order_id).await;
    assert_eq!(order["status"], "PENDING_PAYMENT");
    assert_eq!(order["payment"]["status"], "REVIEW");
    // Only admins read why.
    assert_eq!(order["payment"]["reviewReason"], Value::Null);
    let reviews = "{ paymentReviews { checkoutId status reviewReason } }";
    let r = w.app.gql(Some(&w.admin.access), reviews, json!({})).await;
    let list = r.ok()["paymentReviews"].as_array().expect("list").clone();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["checkoutId"], placed["checkoutId"]);
    assert!(s(&list[0]["reviewReason"]).contains("Stripe received"));
    let r = w.app.gql(Some(&w.buyer.access), reviews, json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN");
    assert_eq!(w.balanced(&shop.id).await, (0, 0));

    // The admin refunds it on Stripe's dashboard and clears the review with a note.
    let resolve = "mutation($c: ID!, $n: String!) { resolvePaymentReview(input: { checkoutId: $c, note: $n }) { payment { status reviewReason } } }";
    let done = json!({ "c": placed["checkoutId"], "n": "refunded in the Stripe dashboard" });
    let r = w
        .app
        .gql(Some(&w.buyer.access), resolve, done.clone())
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            resolve,
            json!({ "c": placed["checkoutId"], "n": " " }),
        )
        .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "note"));
    let r = w
        .app
        .gql(Some(&w.admin.access), resolve, done.clone())
        .await;
    assert_eq!(
        r.ok()["resolvePaymentReview"]["payment"]["reviewReason"],
        Value::Null
    );
    let r = w.app.gql(Some(&w.admin.access), reviews, json!({})).await;
    assert_eq!(r.ok()["paymentReviews"], json!([]));
    let r = w.app.gql(Some(&w.admin.access), resolve, done).await;
    assert_eq!(r.code(), "NOT_FOUND");
    let order = w.order(&w.buyer.access, order_id).await;
    let notes: Vec<String> = order["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["note"].as_str().map(str::to_owned))
        .collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("refunded in the Stripe dashboard")),
        "{notes:?}"
    );
}

#[tokio::test]
async fn refunds_partial_then_full_reverse_the_ledger_and_return_stock() {
    let w = world("refund@example.de").await;
    let (shop, rug) = w.shop("refund", "370000", 3).await;
    let other = w.app.shop("other-refund", "MN").await;
    w.add(&rug, 1).await;
    let placed = w.place("CARD", "refund-1").await;
    let order_id = placed["orders"][0]["id"].clone();
    let pi = s(&placed["payment"]["paymentIntentId"]);
    w.pay(&placed, "evt_refund_paid").await;

    let ask = |amount: Value| json!({ "i": { "orderId": order_id, "amountMinor": amount, "reason": "scratched in transit" } });
    let r = w
        .app
        .gql(Some(&w.buyer.access), REFUND, ask(json!(100)))
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w
        .app
        .gql(Some(&other.owner.access), REFUND, ask(json!(100)))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    for bad in [json!(0), json!(-5), json!(11_082)] {
        let r = w.app.gql(Some(&shop.owner.access), REFUND, ask(bad)).await;
        assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "amountMinor"));
    }
    assert!(w.fake.seen("POST", "/v1/refunds").is_empty());

    // 20.00 of 110.81 EUR back: the shop gives its share at the locked rate and gets the
    // same share of the commission back.
    let r = w
        .app
        .gql(Some(&shop.owner.access), REFUND, ask(json!(2000)))
        .await;
    let done = r.ok()["refundOrder"].clone();
    assert_eq!(done["refund"]["status"], "SUCCEEDED");
    assert_eq!(done["refund"]["method"], "STRIPE");
    assert_eq!(done["order"]["status"], "PAID");
    assert_eq!(done["order"]["refunded"]["amount"], "20.00");
    assert_eq!(minor(&done["refund"]["shopAmount"]["amount"]), 7_400_054);
    assert_eq!(
        minor(&done["refund"]["commissionReturned"]["amount"]),
        740_005
    );
    let sent = w.fake.created("/v1/refunds");
    assert_eq!(sent.len(), 1);
    let refund_id = s(&done["refund"]["id"]);
    assert_eq!(sent[0].form.get("amount").map(String::as_str), Some("2000"));
    assert_eq!(sent[0].form.get("payment_intent"), Some(&pi));
    assert_eq!(sent[0].form.get("metadata[refund_id]"), Some(&refund_id));
    assert_eq!(sent[0].idempotency_key, Some(format!("refund-{refund_id}")));
    assert_eq!(
        w.balanced(&shop.id).await,
        (36_900_000 - 7_400_054 + 740_005, 0)
    );

    // Stripe's own events about it are recognised and change nothing more.
    let re = s(&done["refund"]["reference"]);
    let refund_obj = json!({ "id": re, "object": "refund", "amount": 2000, "created": now(), "currency": "eur",
        "payment_intent": pi, "status": "succeeded", "metadata": { "refund_id": refund_id } });
    let (status, _) = w
        .app
        .signed(&event("evt_re_1", "refund.updated", refund_obj))
        .await;
    assert_eq!(status, 200);
    let charge = |refunded: i64| {
        json!({ "id": "ch_1", "object": "charge", "amount": 11_081, "amount_captured": 11_081,
            "amount_refunded": refunded, "billing_details": { "address": null, "email": null, "name": null, "phone": null },
            "captured": true, "created": now(), "currency": "eur", "disputed": false, "livemode": false,
            "metadata": {}, "paid": true, "refunded": refunded == 11_081, "status": "succeeded", "payment_intent": pi })
    };
    let (status, _) = w
        .app
        .signed(&event("evt_ch_1", "charge.refunded", charge(2000)))
        .await;
    assert_eq!(status, 200);
    let order = w.order(&w.admin.access, &order_id).await;
    assert_eq!(order["payment"]["reviewReason"], Value::Null);
    assert_eq!(order["refunds"].as_array().map(Vec::len), Some(1));

    // The shop cannot fulfil: cancelling a paid order refunds the rest, exactly.
    let r = w
        .app
        .gql(
            Some(&shop.owner.access),
            "mutation($o: ID!) { cancelOrder(input: { orderId: $o, note: \"loom broke\" }) { order { status refunded { amount } } } }",
            json!({ "o": order_id }),
        )
        .await;
    let cancelled = &r.ok()["cancelOrder"]["order"];
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["refunded"]["amount"], "110.81");
    let sent = w.fake.created("/v1/refunds");
    assert_eq!(sent[1].form.get("amount").map(String::as_str), Some("9081"));
    assert_eq!(w.balanced(&shop.id).await, (0, 0));
    let stock = w
        .app
        .gql(
            None,
            "query($s: String!) { shop(slug: $s) { slug } }",
            json!({ "s": "refund" }),
        )
        .await;
    stock.ok();
    let r = w
        .app
        .gql(
            None,
            "{ products(first: 5) { edges { node { slug variants { sku stock } } } } }",
            json!({}),
        )
        .await;
    let stock: Vec<i64> = r.ok()["products"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .flat_map(|e| {
            e["node"]["variants"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|v| v["sku"] == "REFUND-A")
        .map(|v| v["stock"].as_i64().unwrap_or(-1))
        .collect();
    assert_eq!(stock, vec![3]);
    let r = w
        .app
        .gql(Some(&w.admin.access), REFUND, ask(json!(1)))
        .await;
    assert_eq!(r.code(), "CONFLICT");

    // Stripe reports more refunded than Darkhan made (a dashboard refund): flagged.
    let (status, _) = w
        .app
        .signed(&event("evt_ch_2", "charge.refunded", charge(11_081 + 500)))
        .await;
    assert_eq!(status, 200);
    let order = w.order(&w.admin.access, &order_id).await;
    assert!(s(&order["payment"]["reviewReason"]).contains("outside Darkhan"));
}

#[tokio::test]
async fn admins_refund_shipped_orders_and_bank_transfer_refunds_are_recorded() {
    let w = world("bank@example.de").await;
    let (shop, rug) = w.shop("bank", "370000", 3).await;
    w.add(&rug, 1).await;
    let placed = w.place("BANK_TRANSFER", "bank-1").await;
    assert_eq!(placed["payment"], Value::Null);
    let order_id = placed["orders"][0]["id"].clone();
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            "mutation($c: ID!) { confirmManualPayment(input: { checkoutId: $c, reference: \"KHAN-7781\" }) { orders { status } } }",
            json!({ "c": placed["checkoutId"] }),
        )
        .await;
    r.ok();
    assert_eq!(w.balanced(&shop.id).await, (36_900_000, 0));
    w.app
        .gql(Some(&shop.owner.access), SHIP, json!({ "o": order_id }))
        .await
        .ok();
    let ask = json!({ "i": { "orderId": order_id, "amountMinor": 1000, "reason": "late", "reference": "KHAN-RET-1" } });
    let r = w
        .app
        .gql(Some(&shop.owner.access), REFUND, ask.clone())
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w.app.gql(Some(&w.admin.access), REFUND, ask).await;
    let done = &r.ok()["refundOrder"];
    assert_eq!(done["refund"]["method"], "BANK_TRANSFER");
    assert_eq!(done["refund"]["status"], "SUCCEEDED");
    assert_eq!(done["refund"]["reference"], "KHAN-RET-1");
    assert_eq!(done["order"]["status"], "SHIPPED");
    assert!(w.fake.seen("POST", "/v1/refunds").is_empty());
    let order = w.order(&w.buyer.access, &order_id).await;
    assert_eq!(order["payment"]["provider"], "BANK_TRANSFER");
    let (pending, _) = w.balanced(&shop.id).await;
    assert!(pending < 36_900_000);
}

#[tokio::test]
async fn payouts_go_by_stripe_transfer_or_by_recorded_bank_payment() {
    let w = world("payout@example.de").await;
    let (felt, rug) = w.shop("pfelt", "370000", 5).await;
    let (silver, ring) = w.shop("psilver", "185000", 5).await;
    let urls = json!({ "i": { "returnUrl": "https://artisans.darkhan.mn/payouts/done", "refreshUrl": "https://artisans.darkhan.mn/payouts/again" } });

    // Onboarding: one Express account per shop, a fresh link each time.
    let r = w
        .app
        .gql(Some(&felt.owner.access), ONBOARD, urls.clone())
        .await;
    let onboarding = r.ok()["startPayoutOnboarding"]["onboarding"].clone();
    let account = s(&onboarding["accountId"]);
    assert!(s(&onboarding["url"]).contains(&account));
    let r = w
        .app
        .gql(Some(&felt.owner.access), ONBOARD, urls.clone())
        .await;
    assert_eq!(
        r.ok()["startPayoutOnboarding"]["onboarding"]["accountId"],
        account
    );
    let accounts = w.fake.created("/v1/accounts");
    assert_eq!(accounts.len(), 1);
    let form = &accounts[0].form;
    assert_eq!(form.get("type").map(String::as_str), Some("express"));
    assert_eq!(
        form.get("capabilities[transfers][requested]")
            .map(String::as_str),
        Some("true")
    );
    assert_eq!(form.get("metadata[shop_id]"), Some(&felt.id));
    assert_eq!(
        accounts[0].idempotency_key,
        Some(format!("account-{}", felt.id))
    );
    assert_eq!(w.fake.seen("POST", "/v1/account_links").len(), 2);
    let r = w
        .app
        .gql(
            Some(&felt.owner.access),
            ONBOARD,
            json!({ "i": { "returnUrl": "javascript:alert(1)", "refreshUrl": "https://x.mn" } }),
        )
        .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "returnUrl"));
    let r = w
        .app
        .gql(Some(&w.buyer.access), ONBOARD, urls.clone())
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let f = w.finances(&felt.owner.access, None).await;
    assert_eq!(
        (f["stripeAccountId"].clone(), f["payoutsEnabled"].clone()),
        (json!(account), json!(false))
    );
    let (status, _) = w
        .app
        .signed(&event(
            "evt_acct_1",
            "account.updated",
            account_json(&account, true, &felt.id),
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        w.finances(&felt.owner.access, None).await["payoutsEnabled"],
        true
    );

    w.add(&rug, 1).await;
    w.add(&ring, 1).await;
    let placed = w.place("CARD", "payout-1").await;
    w.pay(&placed, "evt_payout_paid").await;
    let felt_order = order_of(&placed, "pfelt")["id"].clone();
    let silver_order = order_of(&placed, "psilver")["id"].clone();
    let pay_felt = json!({ "i": { "shopId": felt.id } });
    // Nothing is available before delivery.
    let r = w.payout(&felt.id).await;
    assert_eq!(r.code(), "CONFLICT");
    w.ship_and_deliver(&felt.owner, &felt_order).await;
    w.ship_and_deliver(&silver.owner, &silver_order).await;
    assert_eq!(w.balanced(&felt.id).await, (0, 36_900_000));

    let r = w
        .app
        .gql(Some(&felt.owner.access), PAYOUT, pay_felt.clone())
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w.payout(&felt.id).await;
    let payout = r.ok()["createPayout"]["payout"].clone();
    assert_eq!(payout["method"], "STRIPE_TRANSFER");
    assert_eq!(payout["status"], "PAID");
    assert_eq!(minor(&payout["amount"]["amount"]), 36_900_000);
    let transfers = w.fake.created("/v1/transfers");
    assert_eq!(transfers.len(), 1);
    let form = &transfers[0].form;
    assert_eq!(form.get("amount").map(String::as_str), Some("36900000"));
    assert_eq!(form.get("currency").map(String::as_str), Some("mnt"));
    assert_eq!(form.get("destination"), Some(&account));
    assert_eq!(
        form.get("transfer_group"),
        placed["checkoutId"].as_str().map(str::to_owned).as_ref()
    );
    assert_eq!(
        transfers[0].idempotency_key,
        Some(format!("payout-{}-{}", s(&payout["id"]), s(&felt_order)))
    );
    assert_eq!(w.balanced(&felt.id).await, (0, 0));
    let f = w.finances(&felt.owner.access, None).await;
    let entry = f["ledger"]
        .as_array()
        .expect("ledger")
        .iter()
        .find(|e| e["kind"] == "PAYOUT")
        .cloned()
        .expect("payout entry");
    assert!(s(&entry["transferId"]).starts_with("tr_"));
    assert_eq!(f["payouts"].as_array().map(Vec::len), Some(1));
    let r = w.payout(&felt.id).await;
    assert_eq!(r.code(), "CONFLICT");

    // No connected account: the admin pays by bank and records the reference.
    let pay_silver = json!({ "i": { "shopId": silver.id } });
    let r = w.app.gql(Some(&w.admin.access), PAYOUT, pay_silver).await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "reference"));
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            PAYOUT,
            json!({ "i": { "shopId": silver.id, "reference": "GOLOMT-55120" } }),
        )
        .await;
    let bank = &r.ok()["createPayout"]["payout"];
    assert_eq!(
        (bank["method"].clone(), bank["status"].clone()),
        (json!("BANK"), json!("PAID"))
    );
    assert_eq!(minor(&bank["amount"]["amount"]), 22_500_000 - 2_250_000);
    assert_eq!(w.fake.created("/v1/transfers").len(), 1);
    assert_eq!(w.balanced(&silver.id).await, (0, 0));

    // A transfer Stripe refuses is booked back into the balance.
    w.add(&rug, 1).await;
    let second = w.place("CARD", "payout-2").await;
    w.pay(&second, "evt_payout_paid_2").await;
    let order = second["orders"][0]["id"].clone();
    w.ship_and_deliver(&felt.owner, &order).await;
    w.fake.fail_transfers(true);
    let r = w.payout(&felt.id).await;
    let failed = &r.ok()["createPayout"]["payout"];
    assert_eq!(failed["status"], "FAILED");
    assert!(s(&failed["failure"]).contains("Insufficient funds"));
    assert_eq!(w.balanced(&felt.id).await, (0, 36_900_000));
    let f = w.finances(&w.admin.access, Some(&felt.id)).await;
    let kinds: Vec<&str> = World::ledger_of(&f, &order)
        .iter()
        .map(|(k, _)| *k)
        .collect();
    assert!(kinds.contains(&"PAYOUT_REVERSAL"), "{kinds:?}");

    // Support refunds part of the first, already paid-out order: the shop now owes that, and
    // the next payout settles it from the other order before transferring the rest.
    w.fake.fail_transfers(false);
    let ask = json!({ "i": { "orderId": felt_order, "amountMinor": 1000, "reason": "chipped" } });
    let r = w.app.gql(Some(&w.admin.access), REFUND, ask).await;
    assert_eq!(r.ok()["refundOrder"]["refund"]["status"], "SUCCEEDED");
    let (_, available) = w.balanced(&felt.id).await;
    assert_eq!(available, 36_900_000 - (3_700_027 - 370_003));
    let r = w.payout(&felt.id).await;
    let settled = &r.ok()["createPayout"]["payout"];
    assert_eq!(settled["status"], "PAID");
    assert_eq!(minor(&settled["amount"]["amount"]), available);
    let last = w.fake.created("/v1/transfers").pop().expect("transfer");
    assert_eq!(last.form.get("amount"), Some(&available.to_string()));
    assert_eq!(
        last.form.get("transfer_group"),
        second["checkoutId"].as_str().map(str::to_owned).as_ref()
    );
    assert_eq!(w.balanced(&felt.id).await, (0, 0));
    let f = w.finances(&w.admin.access, Some(&felt.id)).await;
    let settlements: Vec<i64> = f["ledger"]
        .as_array()
        .expect("ledger")
        .iter()
        .filter(|e| e["kind"] == "DEBT_SETTLEMENT")
        .map(|e| minor(&e["amount"]["amount"]))
        .collect();
    assert_eq!(settlements.iter().sum::<i64>(), 0);
    assert_eq!(settlements.len(), 2);

    // Events in any order: Stripe's account.updated may beat onboarding to storing the
    // account; the shop is found by the metadata we gave the account.
    let early = account_json("acct_early", true, &silver.id);
    let (status, text) = w
        .app
        .signed(&event("evt_acct_early", "account.updated", early))
        .await;
    assert_eq!((status, text.contains("processed")), (200, true), "{text}");
    let f = w.finances(&silver.owner.access, None).await;
    assert_eq!(
        (f["stripeAccountId"].clone(), f["payoutsEnabled"].clone()),
        (json!("acct_early"), json!(true))
    );
    let stranger = account_json("acct_stranger", true, "not-a-shop");
    let (status, text) = w
        .app
        .signed(&event("evt_acct_x", "account.updated", stranger))
        .await;
    assert_eq!((status, text.contains("ignored")), (200, true), "{text}");
}

#[tokio::test]
async fn cancelled_orders_lower_the_card_payment_and_expiry_cancels_it() {
    let w = world("lower@example.de").await;
    let (felt, rug) = w.shop("lfelt", "370000", 3).await;
    let (silver, ring) = w.shop("lsilver", "185000", 3).await;
    w.add(&rug, 1).await;
    w.add(&ring, 1).await;
    let placed = w.place("CARD", "lower-1").await;
    let pi = s(&placed["payment"]["paymentIntentId"]);
    let felt_order = order_of(&placed, "lfelt")["id"].clone();
    let silver_order = order_of(&placed, "lsilver")["id"].clone();
    // The buyer drops one shop's order before paying: the intent is lowered to the other.
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            "mutation($o: ID!) { cancelOrder(input: { orderId: $o }) { order { status } } }",
            json!({ "o": silver_order }),
        )
        .await;
    assert_eq!(r.ok()["cancelOrder"]["order"]["status"], "CANCELLED");
    let updates = w.fake.seen("POST", &format!("/v1/payment_intents/{pi}"));
    assert_eq!(updates.len(), 1);
    assert_eq!(
        updates[0].form.get("amount").map(String::as_str),
        Some("11081")
    );
    assert!(updates[0].idempotency_key.is_some());
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            RETRY,
            json!({ "c": placed["checkoutId"] }),
        )
        .await;
    assert_eq!(r.ok()["retryPayment"]["payment"]["paymentIntentId"], pi);
    let mut lowered = placed.clone();
    lowered["total"]["amount"] = json!("110.81");
    w.pay(&lowered, "evt_lower_paid").await;
    let order = w.order(&w.buyer.access, &felt_order).await;
    assert_eq!(order["status"], "PAID");
    assert_eq!(w.balanced(&felt.id).await, (36_900_000, 0));
    assert_eq!(w.balanced(&silver.id).await, (0, 0));

    // Unpaid card checkouts that expire cannot be paid afterwards: the intent is cancelled,
    // and money that still arrives is held for review.
    let fake = w.fake.clone();
    let app = TestApp::spawn_with(move |f| {
        fake.configure(f)
            .merge(figment::providers::Serialized::default(
                "orders.payment_window_minutes",
                0,
            ))
            .merge(figment::providers::Serialized::default(
                "orders.expiry_sweep_secs",
                3600,
            ))
    })
    .await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (_, rug) = stocked_shop(&app, "expire", "370000", 3).await;
    let (buyer, address) = buyer_in(&app, "late@example.de", "DE").await;
    app.gql(Some(&buyer.access), ADD, json!({ "v": rug, "q": 1 }))
        .await
        .ok();
    let r = app
        .gql(Some(&buyer.access), PLACE, json!({ "i": { "addressId": address, "currency": "EUR", "paymentMethod": "CARD", "idempotencyKey": "late-1" } }))
        .await;
    let late = r.ok()["placeOrder"].clone();
    let late_pi = s(&late["payment"]["paymentIntentId"]);
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let expired = darkhan::app::sweep(&app.state).await.expect("sweep");
    assert_eq!(expired, 1);
    assert_eq!(
        w.fake
            .seen("POST", &format!("/v1/payment_intents/{late_pi}/cancel"))
            .len(),
        1
    );
    let r = app
        .gql(
            Some(&buyer.access),
            RETRY,
            json!({ "c": late["checkoutId"] }),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
    let body = event(
        "evt_late",
        "payment_intent.succeeded",
        intent(&late, "succeeded"),
    );
    let (status, _) = app.signed(&body).await;
    assert_eq!(status, 200);
    let r = app
        .gql(
            Some(&admin.access),
            "{ paymentReviews { checkoutId reviewReason } }",
            json!({}),
        )
        .await;
    let reviews = r.ok()["paymentReviews"].as_array().expect("list").clone();
    assert_eq!(reviews.len(), 1);
    assert!(s(&reviews[0]["reviewReason"]).contains("no longer awaiting payment"));
}

#[tokio::test]
async fn money_operations_need_a_signed_in_caller() {
    let w = world("anon@example.de").await;
    let id = "01930000-0000-7000-8000-000000000001";
    for (query, variables) in [
        (RETRY, json!({ "c": id })),
        (REFUND, json!({ "i": { "orderId": id } })),
        (
            ONBOARD,
            json!({ "i": { "returnUrl": "https://a.mn", "refreshUrl": "https://a.mn" } }),
        ),
        (PAYOUT, json!({ "i": { "shopId": id } })),
        (
            "mutation($s: ID!) { setShopCommission(input: { shopId: $s, basisPoints: 1 }) { finances { shopId } } }",
            json!({ "s": id }),
        ),
        (FINANCES, json!({ "s": id })),
        ("{ paymentReviews { id } }", json!({})),
    ] {
        let r = w.app.gql(None, query, variables).await;
        assert_eq!(r.code(), "UNAUTHENTICATED", "{query}");
    }
    // Signed in but not an artisan: no shop to onboard or read.
    let r = w
        .app
        .gql(Some(&w.buyer.access), FINANCES, json!({ "s": null }))
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
}

#[tokio::test]
async fn an_outage_leaves_refunds_and_transfers_open_until_they_are_sent_again() {
    let w = world("outage@example.de").await;
    let (shop, rug) = w.shop("outage", "370000", 3).await;
    let urls =
        json!({ "i": { "returnUrl": "https://a.mn/done", "refreshUrl": "https://a.mn/again" } });
    let r = w.app.gql(Some(&shop.owner.access), ONBOARD, urls).await;
    let account = s(&r.ok()["startPayoutOnboarding"]["onboarding"]["accountId"]);
    w.app
        .signed(&event(
            "evt_out_acct",
            "account.updated",
            account_json(&account, true, &shop.id),
        ))
        .await;
    w.add(&rug, 1).await;
    let placed = w.place("CARD", "outage-1").await;
    w.pay(&placed, "evt_out_paid").await;
    let order_id = placed["orders"][0]["id"].clone();

    // Stripe fails while refunding: the refund waits, holding its amount, nothing is booked.
    w.fake.outage(true);
    let ask = json!({ "i": { "orderId": order_id, "amountMinor": 1000 } });
    let r = w.app.gql(Some(&shop.owner.access), REFUND, ask).await;
    let waiting = r.ok()["refundOrder"].clone();
    assert_eq!(waiting["refund"]["status"], "REQUESTED");
    assert_eq!(waiting["order"]["refunded"]["amount"], "10.00");
    assert_eq!(w.balanced(&shop.id).await, (36_900_000, 0));
    w.fake.outage(false);
    let sent = darkhan::payments::resubmit_stale(&w.app.state, chrono::Duration::zero())
        .await
        .expect("resubmit");
    assert_eq!(sent, 1);
    let order = w.order(&w.admin.access, &order_id).await;
    assert_eq!(order["refunds"][0]["status"], "SUCCEEDED");
    let attempts = w.fake.seen("POST", "/v1/refunds");
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].idempotency_key, attempts[1].idempotency_key);
    let (pending, _) = w.balanced(&shop.id).await;
    assert!(pending < 36_900_000);

    // The same for a payout: it stays PROCESSING, its money reserved, until sent again.
    w.ship_and_deliver(&shop.owner, &order_id).await;
    w.fake.outage(true);
    let r = w.payout(&shop.id).await;
    let payout = r.ok()["createPayout"]["payout"].clone();
    assert_eq!(payout["status"], "PROCESSING");
    assert_eq!(w.balanced(&shop.id).await, (0, 0));
    w.fake.outage(false);
    darkhan::payments::resubmit_stale(&w.app.state, chrono::Duration::zero())
        .await
        .expect("resubmit");
    let f = w.finances(&shop.owner.access, None).await;
    assert_eq!(f["payouts"][0]["status"], "PAID");
    let transfers = w.fake.seen("POST", "/v1/transfers");
    assert_eq!(transfers.len(), 2);
    assert_eq!(transfers[0].idempotency_key, transfers[1].idempotency_key);
    let paid: Vec<&Value> = f["ledger"]
        .as_array()
        .expect("ledger")
        .iter()
        .filter(|e| e["kind"] == "PAYOUT")
        .collect();
    assert_eq!(paid.len(), 1);
    assert!(s(&paid[0]["transferId"]).starts_with("tr_"));
    assert_eq!(w.balanced(&shop.id).await, (0, 0));
}
