//! Analytics: views counted as front ends show products (without robots or the shop's own
//! people), additions to carts and paid orders rolled up by day, country and channel, the
//! figures a shop and the marketplace see, and rollups that a rebuild reproduces exactly.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp,
    payments::{minor, world},
    reply,
};

const VIEW: &str =
    "mutation($i: RecordProductViewInput!) { recordProductView(input: $i) { counted } }";
const SHOP: &str = "query($s: ID!, $from: NaiveDate!, $to: NaiveDate!, $g: AnalyticsGranularity) {
  shopAnalytics(shopId: $s, from: $from, to: $to, granularity: $g) { currency from to
    totals { views addToCarts orders units revenue { amount currencyCode } conversionRate }
    previous { views orders }
    series { start figures { views orders units } }
    byCountry { key figures { views orders revenue { amount } } }
    byChannel { key figures { views addToCarts orders } }
    topProducts { product { slug } figures { views addToCarts orders units revenue { amount } } } } }";
const MARKET: &str =
    "query($from: NaiveDate!, $to: NaiveDate!) { marketplaceAnalytics(from: $from, to: $to) {
  totals { views orders units revenue { amount currencyCode } } newShops newBuyers
  topCountries { key figures { orders } } salesByCurrency { amount currencyCode } } }";
const BROWSER: &str =
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15";

/// A request as a browser sends it, with a user agent (the test client sends none).
async fn as_browser(
    app: &TestApp,
    token: Option<&str>,
    agent: &str,
    query: &str,
    vars: Value,
) -> crate::helpers::Reply {
    let mut req = app
        .http
        .post(app.url("/graphql"))
        .header("user-agent", agent)
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    reply(req.send().await.expect("request")).await
}

async fn view(
    app: &TestApp,
    token: Option<&str>,
    agent: &str,
    input: Value,
) -> crate::helpers::Reply {
    as_browser(app, token, agent, VIEW, json!({ "i": input })).await
}

#[tokio::test]
async fn a_shop_sees_views_carts_and_sales_by_country_and_channel_and_a_rebuild_agrees() {
    let w = world("stats@example.de").await;
    let (shop, variant) = w.shop("stats", "100000", 10).await;
    let product = w
        .app
        .gql(
            None,
            "{ product(shopSlug: \"stats\", slug: \"item\") { id } }",
            json!({}),
        )
        .await
        .expect_data()["product"]["id"]
        .clone();
    let instagram = json!({ "utmSource": "instagram", "utmMedium": "social" });
    // Three views from Germany through Instagram, one from the US with nothing to say.
    for _ in 0..2 {
        let r = view(
            &w.app,
            None,
            BROWSER,
            json!({ "productId": product, "country": "DE", "attribution": instagram }),
        )
        .await;
        assert_eq!(r.expect_data()["recordProductView"]["counted"], true);
    }
    // The product page's own read counts too, and is never answered from the cache.
    const PAGE: &str = "query($c: CountViewInput) { product(shopSlug: \"stats\", slug: \"item\", countView: $c) { id } }";
    let counted = json!({ "c": { "country": "DE", "attribution": instagram } });
    let res = w
        .app
        .http
        .post(w.app.url("/graphql"))
        .header("user-agent", BROWSER)
        .json(&json!({ "query": PAGE, "variables": counted }))
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["x-cache"], "bypass");
    assert_eq!(reply(res).await.expect_data()["product"]["id"], product);
    // The same read by a crawler is answered but not counted.
    let r = as_browser(&w.app, None, "Googlebot/2.1", PAGE, counted.clone()).await;
    r.expect_data();
    let r = view(
        &w.app,
        Some(&w.buyer.access),
        BROWSER,
        json!({ "productId": product, "country": "us" }),
    )
    .await;
    assert_eq!(r.expect_data()["recordProductView"]["counted"], true);
    // Not counted: a crawler, a client that names itself to no one, the shop's owner.
    for (token, agent) in [
        (
            None,
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ),
        (None, ""),
        (Some(shop.owner.access.as_str()), BROWSER),
    ] {
        let r = view(&w.app, token, agent, json!({ "productId": product })).await;
        assert_eq!(
            r.expect_data()["recordProductView"]["counted"],
            false,
            "{agent}"
        );
    }
    // Bad input, and products the public cannot see.
    let r = view(
        &w.app,
        None,
        BROWSER,
        json!({ "productId": product, "country": "Germany" }),
    )
    .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "country"));
    let r = view(
        &w.app,
        None,
        BROWSER,
        json!({ "productId": "00000000-0000-7000-8000-000000000000" }),
    )
    .await;
    assert_eq!(r.code(), "NOT_FOUND");

    // A guest adds to a cart from Instagram; the buyer adds through Instagram and pays.
    w.app
        .gql(
            None,
            "mutation($i: CartLineInput!) { addToCart(input: $i) { cartToken } }",
            json!({ "i": { "variantId": variant, "quantity": 1, "country": "DE", "attribution": instagram } }),
        )
        .await
        .expect_data();
    w.app
        .gql(
            Some(&w.buyer.access),
            "mutation($i: CartLineInput!) { addToCart(input: $i) { cart { currency } } }",
            json!({ "i": { "variantId": variant, "quantity": 2, "country": "DE", "attribution": instagram } }),
        )
        .await
        .expect_data();
    let placed = w.place("CARD", "stats-1").await;
    w.pay(&placed, "evt_stats_1").await;
    let shop_total = minor(&placed["orders"][0]["shopTotal"]["amount"]);
    darkhan::distribution::analytics::flush(&w.app.state)
        .await
        .expect("flush");

    let today = chrono::Utc::now().date_naive();
    let from = today - chrono::Duration::days(6);
    let vars =
        json!({ "s": shop.id, "from": from.to_string(), "to": today.to_string(), "g": "DAY" });
    let r = w
        .app
        .gql(Some(&shop.owner.access), SHOP, vars.clone())
        .await;
    let a = r.expect_data()["shopAnalytics"].clone();
    assert_eq!(a["currency"], "MNT");
    let t = &a["totals"];
    assert_eq!(
        (t["views"].as_i64(), t["addToCarts"].as_i64()),
        (Some(4), Some(2))
    );
    assert_eq!(
        (t["orders"].as_i64(), t["units"].as_i64()),
        (Some(1), Some(2))
    );
    assert_eq!(minor(&t["revenue"]["amount"]), shop_total);
    assert_eq!(t["conversionRate"].as_f64(), Some(0.25));
    assert_eq!(a["previous"], json!({ "views": 0, "orders": 0 }));
    let series = a["series"].as_array().expect("series");
    assert_eq!(series.len(), 7, "every day of the range");
    assert_eq!(series[6]["start"], today.to_string());
    assert_eq!(
        series[6]["figures"],
        json!({ "views": 4, "orders": 1, "units": 2 })
    );
    let row = |list: &Value, key: &str| -> Value {
        list.as_array()
            .and_then(|l| l.iter().find(|r| r["key"] == key).cloned())
            .unwrap_or(Value::Null)
    };
    let de = row(&a["byCountry"], "DE");
    assert_eq!(
        (
            de["figures"]["views"].as_i64(),
            de["figures"]["orders"].as_i64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(minor(&de["figures"]["revenue"]["amount"]), shop_total);
    assert_eq!(row(&a["byCountry"], "US")["figures"]["views"], 1);
    assert_eq!(
        row(&a["byChannel"], "instagram")["figures"],
        json!({ "views": 3, "addToCarts": 2, "orders": 1 })
    );
    assert_eq!(row(&a["byChannel"], "direct")["figures"]["views"], 1);
    let top = &a["topProducts"][0];
    assert_eq!(top["product"]["slug"], "item");
    assert_eq!(
        (
            top["figures"]["units"].as_i64(),
            top["figures"]["orders"].as_i64(),
            top["figures"]["views"].as_i64()
        ),
        (Some(2), Some(1), Some(4))
    );
    // 2 × 100 000 MNT, the shop's line revenue.
    assert_eq!(minor(&top["figures"]["revenue"]["amount"]), 20_000_000);

    // Weeks and months bucket the same figures.
    let mut weekly = vars.clone();
    weekly["g"] = json!("MONTH");
    let r = w.app.gql(Some(&shop.owner.access), SHOP, weekly).await;
    let months = r.expect_data()["shopAnalytics"]["series"].clone();
    let sum: i64 = months
        .as_array()
        .expect("months")
        .iter()
        .map(|p| p["figures"]["views"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(sum, 4);

    // A rebuild from the stored events and paid orders gives the same answer.
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            "mutation { rebuildAnalytics { rows } }",
            json!({}),
        )
        .await;
    assert!(r.expect_data()["rebuildAnalytics"]["rows"].as_i64() > Some(0));
    let again = w
        .app
        .gql(Some(&shop.owner.access), SHOP, vars.clone())
        .await;
    assert_eq!(again.expect_data()["shopAnalytics"], a);

    // Only the shop's people and admins; ranges in order and at most two years.
    let r = w.app.gql(Some(&w.buyer.access), SHOP, vars.clone()).await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            "mutation { rebuildAnalytics { rows } }",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    for (from, to) in [(today, from), (today - chrono::Duration::days(800), today)] {
        let r = w
            .app
            .gql(
                Some(&shop.owner.access),
                SHOP,
                json!({ "s": shop.id, "from": from.to_string(), "to": to.to_string() }),
            )
            .await;
        assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "to"));
    }

    // The marketplace's dashboard.
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            MARKET,
            json!({ "from": from.to_string(), "to": today.to_string() }),
        )
        .await;
    let m = r.expect_data()["marketplaceAnalytics"].clone();
    assert_eq!(
        (
            m["totals"]["views"].as_i64(),
            m["totals"]["orders"].as_i64()
        ),
        (Some(4), Some(1))
    );
    assert_eq!(m["totals"]["revenue"]["currencyCode"], "MNT");
    assert_eq!(minor(&m["totals"]["revenue"]["amount"]), shop_total);
    assert_eq!(
        m["topCountries"],
        json!([{ "key": "DE", "figures": { "orders": 1 } }])
    );
    assert!(m["newShops"].as_i64() >= Some(1) && m["newBuyers"].as_i64() >= Some(1));
    assert_eq!(m["salesByCurrency"][0]["currencyCode"], "MNT");
    let r = w
        .app
        .gql(
            Some(&shop.owner.access),
            MARKET,
            json!({ "from": from.to_string(), "to": today.to_string() }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}
