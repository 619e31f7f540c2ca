//! Payouts to artisans by Stripe Connect transfer or recorded bank payment, and who may move money
//! at all. Every scenario ends by checking that each shop's balance equals the sum of its ledger.

use serde_json::json;

use crate::helpers::{
    payments::*,
    stripe::{account_json, event},
};

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
    let onboarding = r.expect_data()["startPayoutOnboarding"]["onboarding"].clone();
    let account = s(&onboarding["accountId"]);
    assert!(s(&onboarding["url"]).contains(&account));
    let r = w
        .app
        .gql(Some(&felt.owner.access), ONBOARD, urls.clone())
        .await;
    assert_eq!(
        r.expect_data()["startPayoutOnboarding"]["onboarding"]["accountId"],
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
    let payout = r.expect_data()["createPayout"]["payout"].clone();
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
    let bank = &r.expect_data()["createPayout"]["payout"];
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
    let failed = &r.expect_data()["createPayout"]["payout"];
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
    assert_eq!(
        r.expect_data()["refundOrder"]["refund"]["status"],
        "SUCCEEDED"
    );
    let (_, available) = w.balanced(&felt.id).await;
    assert_eq!(available, 36_900_000 - (3_700_027 - 370_003));
    // The buyer is told of the refund, the artisans of the money sent to them.
    let refunded = w
        .app
        .mails_to("payout@example.de", "мөнгийг буцаалаа", 1)
        .await;
    assert!(
        refunded[0].text.contains("10.00 EUR"),
        "{}",
        refunded[0].text
    );
    let paid_out = w
        .app
        .mails_to("psilver@example.mn", "орлогыг шилжүүллээ", 1)
        .await;
    assert!(
        paid_out[0].subject.contains("MNT"),
        "{}",
        paid_out[0].subject
    );
    w.app
        .mails_to("pfelt@example.mn", "орлогыг шилжүүллээ", 1)
        .await;
    let r = w.payout(&felt.id).await;
    let settled = &r.expect_data()["createPayout"]["payout"];
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
