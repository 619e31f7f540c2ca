//! Channel attribution: the UTM tags and referring site a front end forwards with cart
//! operations follow a guest into their account, are frozen on the orders at checkout, and
//! a shop sees its sales by channel.

use serde_json::{Value, json};

use crate::helpers::{
    PASSWORD,
    payments::{minor, world},
};

const ADD: &str =
    "mutation($i: CartLineInput!) { addToCart(input: $i) { cartToken cart { currency } } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { attribution { utmSource utmMedium utmCampaign referrer } shopTotal { amount } } }";
const CHANNELS: &str = "query($s: ID!, $from: DateTime!, $to: DateTime!) { shopChannels(shopId: $s, from: $from, to: $to) { utmSource utmMedium utmCampaign orders revenue { amount currencyCode } } }";

#[tokio::test]
async fn orders_remember_the_channel_that_brought_the_buyer_and_shops_see_sales_by_channel() {
    let w = world("channels@example.de").await;
    let (shop, variant) = w.shop("channelshop", "370000", 10).await;
    let instagram = json!({ "utmSource": " Instagram", "utmMedium": "Social", "utmCampaign": "naadam-2027",
        "referrer": "https://l.instagram.com/?u=https%3A%2F%2Fdarkhan.mn" });
    // A bad referrer is refused and nothing is added.
    let r = w
        .app
        .gql(
            None,
            ADD,
            json!({ "i": { "variantId": variant, "quantity": 1, "attribution": { "referrer": "not a site" } } }),
        )
        .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "referrer"));
    // A guest arrives from Instagram, then signs in with their cart.
    let r = w
        .app
        .gql(
            None,
            ADD,
            json!({ "i": { "variantId": variant, "quantity": 1, "attribution": instagram } }),
        )
        .await;
    let token = r.expect_data()["addToCart"]["cartToken"].clone();
    let r = w
        .app
        .gql(
            None,
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "email": "channels@example.de", "password": PASSWORD, "cartToken": token } }),
        )
        .await;
    let access = r.expect_data()["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    assert!(!access.is_empty());
    let first = w.place("CARD", "channel-1").await;
    w.pay(&first, "evt_channel_1").await;
    let order = w
        .app
        .gql(
            Some(&w.buyer.access),
            ORDER,
            json!({ "id": first["orders"][0]["id"] }),
        )
        .await;
    assert_eq!(
        order.expect_data()["order"]["attribution"],
        json!({ "utmSource": "instagram", "utmMedium": "social", "utmCampaign": "naadam-2027", "referrer": "l.instagram.com" })
    );
    // Checkout cleared it: the next purchase, made directly, has no channel.
    w.app
        .gql(
            Some(&w.buyer.access),
            ADD,
            json!({ "i": { "variantId": variant, "quantity": 2 } }),
        )
        .await
        .expect_data();
    let second = w.place("CARD", "channel-2").await;
    w.pay(&second, "evt_channel_2").await;
    let order = w
        .app
        .gql(
            Some(&w.buyer.access),
            ORDER,
            json!({ "id": second["orders"][0]["id"] }),
        )
        .await;
    assert_eq!(order.expect_data()["order"]["attribution"], Value::Null);

    let now = chrono::Utc::now();
    let period = json!({ "s": shop.id, "from": (now - chrono::Duration::hours(1)).to_rfc3339(), "to": (now + chrono::Duration::hours(1)).to_rfc3339() });
    let r = w
        .app
        .gql(Some(&shop.owner.access), CHANNELS, period.clone())
        .await;
    let rows = r.expect_data()["shopChannels"]
        .as_array()
        .expect("rows")
        .clone();
    assert_eq!(rows.len(), 2, "{rows:?}");
    // Direct: two units (740 000 + 50 000 shipping); Instagram: one (370 000 + 40 000).
    assert_eq!(
        (
            rows[0]["utmSource"].clone(),
            rows[0]["orders"].clone(),
            minor(&rows[0]["revenue"]["amount"])
        ),
        (Value::Null, json!(1), 790_000 * 100)
    );
    assert_eq!(
        (
            rows[1]["utmSource"].clone(),
            rows[1]["utmCampaign"].clone(),
            minor(&rows[1]["revenue"]["amount"])
        ),
        (json!("instagram"), json!("naadam-2027"), 410_000 * 100)
    );
    let r = w.app.gql(Some(&w.buyer.access), CHANNELS, period).await;
    assert_eq!(r.code(), "FORBIDDEN");
}
