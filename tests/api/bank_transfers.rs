//! Bank transfers that can actually be paid: instructions with a checked reference, a window
//! of days, a reminder, confirmation by reference, and a way forward for late money.

use std::time::Duration;

use figment::providers::Serialized;
use serde_json::{Value, json};

use crate::helpers::{
    Session, TestApp,
    catalog::{ShopFixture, nodes},
    orders::{buyer_in, stocked_shop},
};

const ADD: &str = "mutation($v: ID!, $q: Int!) { addToCart(input: { variantId: $v, quantity: $q }) { cart { currency } } }";
const PLACE: &str = "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { checkoutId orders { id status expiresAt bankTransfer { paymentReference } } bankTransfer { bank accountHolder accountNumber iban swift paymentReference amount { amount currencyCode } payBy } } }";
const CONFIRM: &str = "mutation($r: String!) { confirmManualPayment(input: { paymentReference: $r, reference: \"BANK-1\" }) { orders { status } } }";
const REINSTATE: &str = "mutation($r: String!) { reinstateBankTransfer(input: { paymentReference: $r, reference: \"BANK-2\" }) { orders { status } } }";
const RETURN: &str = "mutation($r: String!) { returnBankTransfer(input: { paymentReference: $r, reference: \"BACK-3\" }) { orders { status payment { status } } } }";
const TRANSFERS: &str = "query($e: Boolean) { bankTransfers(expired: $e, first: 10) { totalCount edges { node { paymentReference amount { amount currencyCode } orders { status } } } } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { status events { note } } }";

struct Scene {
    app: TestApp,
    admin: Session,
    shop: ShopFixture,
    variant: String,
    buyer: Session,
    address: String,
}

async fn scene(app: TestApp, stock: i32) -> Scene {
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (shop, variant) = stocked_shop(&app, "transfer", "37000", stock).await;
    let (buyer, address) = buyer_in(&app, "payer@example.de", "DE").await;
    Scene {
        app,
        admin,
        shop,
        variant,
        buyer,
        address,
    }
}

impl Scene {
    async fn place(&self, key: &str) -> Value {
        self.app
            .gql(
                Some(&self.buyer.access),
                ADD,
                json!({ "v": self.variant, "q": 1 }),
            )
            .await
            .expect_data();
        let r = self
            .app
            .gql(
                Some(&self.buyer.access),
                PLACE,
                json!({ "i": { "addressId": self.address, "currency": "EUR", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": key } }),
            )
            .await;
        r.expect_data()["placeOrder"].clone()
    }

    async fn stock(&self) -> i64 {
        let r = self
            .app
            .gql(
                None,
                "{ product(shopSlug: \"transfer\", slug: \"item\") { variants { stock } } }",
                json!({}),
            )
            .await;
        r.expect_data()["product"]["variants"][0]["stock"]
            .as_i64()
            .expect("stock")
    }

    async fn status(&self, order: &Value) -> Value {
        let r = self
            .app
            .gql(Some(&self.admin.access), ORDER, json!({ "id": order }))
            .await;
        r.expect_data()["order"]["status"].clone()
    }

    async fn wait_cancelled(&self, order: &Value) {
        for _ in 0..100 {
            if self.status(order).await == "CANCELLED" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("order {order} did not expire");
    }
}

#[tokio::test]
async fn a_bank_transfer_is_paid_days_later_by_its_reference() {
    let s = scene(TestApp::spawn().await, 3).await;
    let placed = s.place("days-1").await;
    let bank = &placed["bankTransfer"];
    let reference = bank["paymentReference"]
        .as_str()
        .expect("reference")
        .to_owned();
    assert!(
        reference.len() == 9
            && reference.starts_with("DK-")
            && reference[3..]
                .chars()
                .all(|c| "23456789ABCDEFGHJKLMNPQRSTUVWXYZ".contains(c)),
        "{reference}"
    );
    assert_eq!(bank["iban"], "MN12 0005 0050 0012 3456 78");
    assert_eq!(bank["swift"], "AGMOMNUB");
    assert_eq!(bank["amount"]["currencyCode"], "EUR");
    // Five days to pay, not thirty minutes.
    let pay_by: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(bank["payBy"].clone()).expect("payBy");
    let days = (pay_by - chrono::Utc::now()).num_hours();
    assert!((119..=120).contains(&days), "{days} hours");
    assert_eq!(
        placed["orders"][0]["bankTransfer"]["paymentReference"],
        reference.as_str()
    );
    // The receipt carries the reference.
    let receipt = s.app.mails_to("payer@example.de", "Таны Дархан", 1).await;
    assert!(receipt[0].text.contains(&reference));

    // Buyers see nothing of the admins' list.
    let r = s.app.gql(Some(&s.buyer.access), TRANSFERS, json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = s.app.gql(Some(&s.admin.access), TRANSFERS, json!({})).await;
    let waiting = nodes(&r.expect_data()["bankTransfers"]);
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0]["paymentReference"], reference.as_str());

    // A typo in the reference is caught by its check character, not matched to another order.
    let mut typo: Vec<char> = reference.chars().collect();
    typo[4] = if typo[4] == 'A' { 'B' } else { 'A' };
    let typo: String = typo.into_iter().collect();
    let r = s
        .app
        .gql(Some(&s.admin.access), CONFIRM, json!({ "r": typo }))
        .await;
    assert_eq!(
        (r.code(), r.field()),
        ("BAD_USER_INPUT", "paymentReference")
    );
    let r = s
        .app
        .gql(Some(&s.buyer.access), CONFIRM, json!({ "r": reference }))
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = s
        .app
        .gql(
            Some(&s.admin.access),
            CONFIRM,
            json!({ "r": format!(" {} ", reference.to_lowercase()) }),
        )
        .await;
    assert_eq!(
        r.expect_data()["confirmManualPayment"]["orders"][0]["status"],
        "PAID"
    );
    let r = s.app.gql(Some(&s.admin.access), TRANSFERS, json!({})).await;
    assert_eq!(r.expect_data()["bankTransfers"]["totalCount"], 0);
    let _ = &s.shop;
}

#[tokio::test]
async fn money_after_the_window_reinstates_the_orders_or_goes_back() {
    let app = TestApp::spawn_with(|f| {
        f.merge(Serialized::default("orders.bank_transfer_window_hours", 0))
            .merge(Serialized::default("orders.expiry_sweep_secs", 1))
    })
    .await;
    let s = scene(app, 2).await;

    // Late money while the stock is still there: the order comes back, paid.
    let late = s.place("late-1").await;
    let reference = late["bankTransfer"]["paymentReference"].clone();
    let order = late["orders"][0]["id"].clone();
    s.wait_cancelled(&order).await;
    assert_eq!(s.stock().await, 2);
    let r = s
        .app
        .gql(Some(&s.admin.access), CONFIRM, json!({ "r": reference }))
        .await;
    assert_eq!(r.code(), "CONFLICT");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("reinstateBankTransfer")
    );
    let r = s
        .app
        .gql(Some(&s.admin.access), TRANSFERS, json!({ "e": true }))
        .await;
    assert_eq!(
        nodes(&r.expect_data()["bankTransfers"])[0]["paymentReference"],
        reference
    );
    let r = s
        .app
        .gql(Some(&s.admin.access), REINSTATE, json!({ "r": reference }))
        .await;
    assert_eq!(
        r.expect_data()["reinstateBankTransfer"]["orders"][0]["status"],
        "PAID"
    );
    assert_eq!(s.stock().await, 1, "the stock was taken again");
    let r = s
        .app
        .gql(Some(&s.admin.access), REINSTATE, json!({ "r": reference }))
        .await;
    assert_eq!(r.code(), "CONFLICT", "paid orders are not reinstated twice");

    // Late money after the item sold out: refused whole, then sent back.
    let gone = s.place("late-2").await;
    let reference = gone["bankTransfer"]["paymentReference"].clone();
    let order = gone["orders"][0]["id"].clone();
    s.wait_cancelled(&order).await;
    s.app
        .gql(
            Some(&s.shop.owner.access),
            "mutation($id: ID!) { updateProduct(input: { productId: $id, variants: [{ sku: \"TRANSFER-A\", stock: 0 }] }) { product { id } } }",
            json!({ "id": s.app.gql(None, "{ product(shopSlug: \"transfer\", slug: \"item\") { id } }", json!({})).await.expect_data()["product"]["id"] }),
        )
        .await
        .expect_data();
    let r = s
        .app
        .gql(Some(&s.admin.access), REINSTATE, json!({ "r": reference }))
        .await;
    assert_eq!(r.code(), "OUT_OF_STOCK");
    assert_eq!(s.status(&order).await, "CANCELLED", "nothing changed");
    assert_eq!(s.stock().await, 0, "never oversold");
    let r = s
        .app
        .gql(Some(&s.admin.access), RETURN, json!({ "r": reference }))
        .await;
    let orders = &r.expect_data()["returnBankTransfer"]["orders"];
    assert_eq!(orders[0]["status"], "CANCELLED");
    let r = s
        .app
        .gql(Some(&s.admin.access), ORDER, json!({ "id": order }))
        .await;
    let notes: Vec<String> = r.expect_data()["order"]["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["note"].as_str().map(str::to_owned))
        .collect();
    assert!(notes.iter().any(|n| n.contains("sent back")), "{notes:?}");
    let r = s
        .app
        .gql(Some(&s.admin.access), RETURN, json!({ "r": reference }))
        .await;
    assert_eq!(r.code(), "CONFLICT", "recorded once");
    // The buyer heard that the first order expired and then was paid.
    let mails = s.app.mails_to("payer@example.de", "", 1).await;
    assert!(mails.iter().any(|m| m.subject.contains("хугацаа дууслаа")));
}

#[tokio::test]
async fn the_buyer_is_reminded_once_a_day_before_the_window_closes() {
    let app = TestApp::spawn_with(|f| {
        f.merge(Serialized::default("orders.bank_transfer_window_hours", 20))
            .merge(Serialized::default("orders.expiry_sweep_secs", 1))
    })
    .await;
    let s = scene(app, 2).await;
    s.place("remind-1").await;
    let reminders = s.app.mails_to("payer@example.de", "Сануулга", 1).await;
    assert!(reminders[0].text.contains("DK-"));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let count = s
        .app
        .all_mail()
        .iter()
        .filter(|m| m.subject.contains("Сануулга"))
        .count();
    assert_eq!(count, 1, "several sweeps, one reminder");
}
