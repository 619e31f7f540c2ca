//! Refunds by Stripe and by bank, partial and full, reversing the ledger; outages leave them open
//! until they are sent again. Every scenario ends by checking that each shop's balance equals the
//! sum of its ledger.

use serde_json::{Value, json};

use crate::helpers::{
    payments::*,
    stripe::{account_json, event, now},
};

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
    let done = r.expect_data()["refundOrder"].clone();
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
    let cancelled = &r.expect_data()["cancelOrder"]["order"];
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
    stock.expect_data();
    let r = w
        .app
        .gql(
            None,
            "{ products(first: 5) { edges { node { slug variants { sku stock } } } } }",
            json!({}),
        )
        .await;
    let stock: Vec<i64> = r.expect_data()["products"]["edges"]
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
    r.expect_data();
    assert_eq!(w.balanced(&shop.id).await, (36_900_000, 0));
    w.app
        .gql(Some(&shop.owner.access), SHIP, json!({ "o": order_id }))
        .await
        .expect_data();
    let ask = json!({ "i": { "orderId": order_id, "amountMinor": 1000, "reason": "late", "reference": "KHAN-RET-1" } });
    let r = w
        .app
        .gql(Some(&shop.owner.access), REFUND, ask.clone())
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w.app.gql(Some(&w.admin.access), REFUND, ask).await;
    let done = &r.expect_data()["refundOrder"];
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
async fn an_outage_leaves_refunds_and_transfers_open_until_they_are_sent_again() {
    let w = world("outage@example.de").await;
    let (shop, rug) = w.shop("outage", "370000", 3).await;
    let urls =
        json!({ "i": { "returnUrl": "https://a.mn/done", "refreshUrl": "https://a.mn/again" } });
    let r = w.app.gql(Some(&shop.owner.access), ONBOARD, urls).await;
    let account = s(&r.expect_data()["startPayoutOnboarding"]["onboarding"]["accountId"]);
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
    let waiting = r.expect_data()["refundOrder"].clone();
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
    let payout = r.expect_data()["createPayout"]["payout"].clone();
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
