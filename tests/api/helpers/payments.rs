//! Payment fixtures: a world with the fake Stripe, an admin, a buyer in Berlin, and the
//! calls every payment scenario makes; `balanced` checks a shop's balance against its ledger.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{
    Session, TestApp,
    catalog::ShopFixture,
    orders::{buyer_in, stocked_shop},
    stripe::{FakeStripe, event, intent_json},
};

pub const ADD: &str = "mutation($v: ID!, $q: Int!) { addToCart(input: { variantId: $v, quantity: $q }) { cart { currency } } }";
pub const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { checkoutId total { amount currencyCode }
  orders { id status shopTotal { amount currencyCode } shop { slug } }
  payment { paymentIntentId clientSecret publishableKey amount { amount currencyCode } status } } }";
pub const RETRY: &str = "mutation($c: ID!) { retryPayment(input: { checkoutId: $c }) { payment { paymentIntentId clientSecret status } } }";
pub const ORDER: &str = "query($id: ID!) { order(id: $id) { status refunded { amount currencyCode } commissionBasisPoints
  payment { status provider failures lastError reviewReason amount { amount currencyCode } }
  refunds { id status method amount { amount } shopAmount { amount } commissionReturned { amount } reference }
  events { to note } lines { variantId: sku } } }";
pub const FINANCES: &str = "query($s: ID) { shopFinances(shopId: $s) { shopId payoutsEnabled stripeAccountId commissionBasisPoints
  balances { currency pending { amount } available { amount } total { amount } }
  ledger(first: 500) { kind amount { amount currencyCode } orderId transferId payoutId refundId }
  payouts { id method status amount { amount currencyCode } reference failure } } }";
pub const REFUND: &str = "mutation($i: RefundOrderInput!) { refundOrder(input: $i) { refund { id status method amount { amount } shopAmount { amount } commissionReturned { amount } reference } order { status refunded { amount } } } }";
pub const PAYOUT: &str = "mutation($i: CreatePayoutInput!) { createPayout(input: $i) { payout { id method status amount { amount currencyCode } reference failure } } }";
pub const ONBOARD: &str = "mutation($i: StartPayoutOnboardingInput!) { startPayoutOnboarding(input: $i) { onboarding { accountId url expiresAt } } }";
pub const SHIP: &str = "mutation($o: ID!) { markOrderShipped(input: { orderId: $o, carrier: \"Mongol Post\", trackingNumber: \"RR123456789MN\" }) { order { status } } }";
pub const DELIVER: &str =
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
            .expect_data();
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
        r.expect_data()["placeOrder"].clone()
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
        r.expect_data()["order"].clone()
    }

    pub async fn finances(&self, token: &str, shop: Option<&str>) -> Value {
        let r = self
            .app
            .gql(Some(token), FINANCES, json!({ "s": shop }))
            .await;
        r.expect_data()["shopFinances"].clone()
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
        shipped.expect_data();
        let delivered = self
            .app
            .gql(Some(&self.buyer.access), DELIVER, json!({ "o": order }))
            .await;
        delivered.expect_data();
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

pub fn order_of<'a>(placed: &'a Value, slug: &str) -> &'a Value {
    placed["orders"]
        .as_array()
        .expect("orders")
        .iter()
        .find(|o| o["shop"]["slug"] == slug)
        .expect("order of shop")
}
