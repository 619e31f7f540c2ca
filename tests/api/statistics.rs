//! Market statistics: figures by craft, destination and region at the rates locked on each
//! order, k-protection that survives arithmetic on everything the public can read, the
//! researcher role, a shop beside its market, the open-data files, and a cube that the
//! incremental path and a rebuild agree on after a random history.

use serde_json::{Value, json};

use crate::helpers::{
    TestApp,
    catalog::ShopFixture,
    orders::{ZONES, buyer_in, first_variant},
    payments::{PLACE, REFUND, World, order_of, world},
};

const STATS: &str = "query($d: [StatisticsDimension!]!, $m: [StatisticsMeasure!]!, $from: String!, $to: String!, $f: StatisticsFilter) {
  marketStatistics(dimensions: $d, measures: $m, from: $from, to: $to, filter: $f) {
    columns { key isDimension description descriptionMn } rows { values suppressed coarsened }
    total { values } from to minShops suppressionRule } }";
const POSITION: &str = "query($s: ID!, $from: String!, $to: String!) { shopMarketPosition(shopId: $s, from: $from, to: $to) {
  craft orders units exports { amount currencyCode } marketExports { amount } sharePercent
  averagePrice { amount } marketAveragePrice { amount } marketShops } }";
const GRANT: &str =
    "mutation($u: ID!, $g: Boolean!) { setResearcher(userId: $u, granted: $g) { user { role } } }";
const FELT_RUGS: &str = "01930000-0000-7000-8000-000000000002";

/// A shop in `region` shipping to Europe and Asia, with one felt rug in stock.
async fn craft_shop(app: &TestApp, slug: &str, region: &str, price: &str) -> (ShopFixture, String) {
    let shop = app.shop(slug, "MN").await;
    app.gql(
        Some(&shop.owner.access),
        "mutation($i: UpdateShopInput!) { updateShop(input: $i) { shop { region } } }",
        json!({ "i": { "shopId": shop.id, "region": region } }),
    )
    .await
    .expect_data();
    app.gql(
        Some(&shop.owner.access),
        ZONES,
        json!({ "i": { "shopId": shop.id, "name": "Parcels", "zones": [
            { "name": "Europe", "countries": ["DE", "FR"], "firstItem": "40000", "additionalItem": "10000", "minDays": 7, "maxDays": 14 },
            { "name": "Asia", "countries": ["JP", "KR"], "firstItem": "30000", "additionalItem": "5000", "minDays": 5, "maxDays": 10 }
        ] } }),
    )
    .await
    .expect_data();
    let sku = format!("{}-RUG", slug.to_uppercase());
    let product = app
        .published(&shop, "rug", json!({ "price": price, "categoryId": FELT_RUGS, "variants": [{ "sku": sku, "stock": 50 }] }))
        .await;
    let variant = first_variant(app, &product).await;
    (shop, variant)
}

/// Places a card checkout for `variants` as the buyer with `token`, and pays it.
async fn buy(w: &World, token: &str, address: &str, variants: &[&str], key: &str) -> Value {
    for v in variants {
        w.app
            .gql(
                Some(token),
                "mutation($v: ID!) { addToCart(input: { variantId: $v, quantity: 1 }) { cart { currency } } }",
                json!({ "v": v }),
            )
            .await
            .expect_data();
    }
    let placed = w
        .app
        .gql(
            Some(token),
            PLACE,
            json!({ "i": { "addressId": address, "currency": "EUR", "paymentMethod": "CARD", "idempotencyKey": key } }),
        )
        .await
        .expect_data()["placeOrder"]
        .clone();
    w.pay(&placed, &format!("evt_{key}")).await;
    placed
}

/// Recomputes every queued order. The server's own ticker may be draining at the same moment
/// (on PostgreSQL its claimed rows are skipped, not waited for), so this waits until the queue
/// is empty.
async fn drained(app: &TestApp) {
    use sea_orm::{EntityTrait, PaginatorTrait};
    for _ in 0..100 {
        darkhan::statistics::facts::drain(&app.state)
            .await
            .expect("drain");
        let left = darkhan::entities::statistics_queue::Entity::find()
            .count(&app.state.db)
            .await
            .expect("queue");
        if left == 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the statistics queue never emptied");
}

async fn stats(app: &TestApp, token: Option<&str>, vars: Value) -> crate::helpers::Reply {
    app.gql(token, STATS, vars).await
}

fn this_month() -> String {
    chrono::Utc::now().format("%Y-%m").to_string()
}

/// The value of column `key` in `row`.
fn col<'a>(table: &'a Value, row: &'a Value, key: &str) -> &'a Value {
    let i = table["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .position(|c| c["key"] == key)
        .expect("column");
    &row["values"][i]
}

#[tokio::test]
async fn statistics_answer_by_craft_country_and_region_and_no_one_can_single_out_a_shop() {
    let w = world("stats-de@example.de").await;
    let app = &w.app;
    app.set_rate(&w.admin, "USD", "MNT", "3450").await;
    // Three Khentii workshops sell rugs to Germany; one Gobi shop alone sells to Japan.
    let mut khentii = Vec::new();
    for slug in ["khentii-a", "khentii-b", "khentii-c"] {
        khentii.push(craft_shop(app, slug, "Khentii", "370000").await);
    }
    let (gobi, gobi_rug) = craft_shop(app, "gobi-d", "Ömnögovi", "555000").await;
    let variants: Vec<&str> = khentii.iter().map(|(_, v)| v.as_str()).collect();
    let placed = buy(&w, &w.buyer.access, &w.address, &variants, "de-1").await;
    let (jp, jp_address) = buyer_in(app, "stats-jp@example.jp", "JP").await;
    buy(&w, &jp.access, &jp_address, &[&gobi_rug], "jp-1").await;
    let first = order_of(&placed, "khentii-a")["id"].clone();
    w.ship_and_deliver(&khentii[0].0.owner, &first).await;
    drained(app).await;
    let month = this_month();
    let by = |d: Value, m: Value, f: Value| json!({ "d": d, "m": m, "from": month, "to": month, "f": f });

    // A researcher before the grant sees only the open subset.
    let researcher = app.register("analyst@nso.mn", "BUYER").await;
    let me = app
        .gql(Some(&researcher.access), "{ me { id } }", json!({}))
        .await;
    let researcher_id = me.expect_data()["me"]["id"].clone();
    let regional = by(
        json!(["REGION", "DESTINATION"]),
        json!([
            "ORDERS",
            "GROSS_MNT",
            "ARTISANS_SHARE_MNT",
            "ACTIVE_SHOPS",
            "MEDIAN_DAYS_TO_DELIVER"
        ]),
        Value::Null,
    );
    let r = stats(app, Some(&researcher.access), regional.clone()).await;
    assert_eq!(r.code(), "FORBIDDEN");
    for token in [&researcher.access, &khentii[0].0.owner.access] {
        let r = app
            .gql(Some(token), GRANT, json!({ "u": researcher_id, "g": true }))
            .await;
        assert_eq!(r.code(), "FORBIDDEN");
    }
    let r = app
        .gql(
            Some(&w.admin.access),
            GRANT,
            json!({ "u": researcher_id, "g": true }),
        )
        .await;
    assert_eq!(
        r.expect_data()["setResearcher"]["user"]["role"],
        "RESEARCHER"
    );
    // An artisan cannot be made one.
    let r = app
        .gql(
            Some(&w.admin.access),
            GRANT,
            json!({ "u": gobi_owner_id(app, &gobi).await, "g": true }),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");

    // Granted: by region and destination. Khentii → Germany is three shops; Gobi → Japan
    // is one and is withheld.
    let r = stats(app, Some(&researcher.access), regional).await;
    let t = r.expect_data()["marketStatistics"].clone();
    assert_eq!(t["minShops"], 3);
    assert!(t["columns"].as_array().expect("columns").iter().all(|c| {
        !c["description"].as_str().unwrap_or_default().is_empty()
            && !c["descriptionMn"].as_str().unwrap_or_default().is_empty()
    }));
    let rows = t["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 2, "{t}");
    let de = rows.iter().find(|r| r["values"][1] == "DE").expect("DE");
    assert_eq!(de["values"][0], "Khentii");
    assert_eq!(de["suppressed"], false);
    assert_eq!(col(&t, de, "orders"), "3");
    assert_eq!(col(&t, de, "active_shops"), "3");
    // 3 × 370,000 MNT, and 90 % of it after the 10 % commission.
    assert_eq!(col(&t, de, "gross_mnt"), "1110000.00");
    assert_eq!(col(&t, de, "artisans_share_mnt"), "999000.00");
    assert_eq!(col(&t, de, "median_days_to_deliver"), "0.0");
    let jp_row = rows.iter().find(|r| r["values"][1] == "JP").expect("JP");
    assert_eq!(jp_row["suppressed"], true);
    assert!(
        jp_row["values"].as_array().expect("values")[2..]
            .iter()
            .all(Value::is_null),
        "{jp_row}"
    );
    assert_eq!(col(&t, &t["total"], "gross_mnt"), "1110000.00");

    // "How much felt went to Germany from Khentii, and how much reached the artisans?"
    let r = stats(
        app,
        Some(&researcher.access),
        by(
            json!(["YEAR"]),
            json!(["GROSS_USD", "ARTISANS_SHARE_USD", "ARTISANS_SHARE_PERCENT"]),
            json!({ "craft": "felt", "destination": "de", "region": "Khentii" }),
        ),
    )
    .await;
    let t = r.expect_data()["marketStatistics"].clone();
    let row = &t["rows"][0];
    // Each 370,000 MNT order is 107.25 USD at the 3,450 MNT per USD locked on it.
    assert_eq!(col(&t, row, "gross_usd"), "321.75");
    assert_eq!(col(&t, row, "artisans_share_percent"), "90.0");

    // The public: by destination, Japan is withheld; the grand total and every filter the
    // public may use are sums of published cells, so nothing subtracts to Japan.
    let open = |d: Value, f: Value| by(d, json!(["GROSS_MNT", "ORDERS"]), f);
    let r = stats(app, None, open(json!(["REGION"]), Value::Null)).await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = stats(app, None, open(json!(["DESTINATION"]), Value::Null)).await;
    let t = r.expect_data()["marketStatistics"].clone();
    let published: i64 = t["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["suppressed"] == false)
        .map(|r| crate::helpers::payments::minor(col(&t, r, "gross_mnt")))
        .sum();
    assert_eq!(published, 111_000_000);
    let gobi_sale = 55_500_000;
    for (dims, filter) in [
        (json!([]), Value::Null),
        (json!([]), json!({ "destination": "JP" })),
        (json!(["CRAFT_GROUP"]), Value::Null),
        (json!(["CRAFT"]), json!({ "craft": "felt-rugs" })),
        (json!(["YEAR", "QUARTER"]), Value::Null),
    ] {
        let r = stats(app, None, open(dims, filter)).await;
        let t = r.expect_data()["marketStatistics"].clone();
        let total = col(&t, &t["total"], "gross_mnt");
        let total = if total.is_null() {
            0
        } else {
            crate::helpers::payments::minor(total)
        };
        // Every public total is the published Germany figure or nothing: never Japan's sale.
        assert!(total == published || total == 0, "{t}");
        assert_ne!(total - published, gobi_sale);
        for row in t["rows"].as_array().expect("rows") {
            if row["suppressed"] == false {
                assert_ne!(
                    crate::helpers::payments::minor(col(&t, row, "gross_mnt")),
                    gobi_sale
                );
            }
        }
    }

    // The open files say the same, name no shop, and describe themselves.
    let quarter = {
        let now = chrono::Utc::now();
        use chrono::Datelike;
        format!("{}-Q{}", now.year(), now.month0() / 3 + 1)
    };
    let csv = app
        .http
        .get(app.url(&format!("/open-data/{quarter}.csv?bom=1")))
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    let body = csv.bytes().await.expect("body");
    assert!(body.starts_with(&[0xEF, 0xBB, 0xBF]));
    let text = String::from_utf8_lossy(&body[3..]).to_string();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "quarter,destination_country,craft,orders,units,gross_mnt,gross_usd,artisans_share_mnt,artisans_share_usd,active_shops,suppressed"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert!(
        rows.contains(
            &format!("{quarter},DE,felt-rugs,3,3,1110000.00,321.75,999000.00,289.56,3,false")
                .as_str()
        ),
        "{text}"
    );
    assert!(
        rows.contains(&format!("{quarter},JP,felt-rugs,,,,,,,,true").as_str()),
        "{text}"
    );
    for secret in ["khentii-a", "gobi-d", "Khentii", "stats-jp", "555000"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let json_file: Value = app
        .http
        .get(app.url(&format!("/open-data/{quarter}.json")))
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("json body");
    assert!(
        json_file["licence"]
            .as_str()
            .unwrap_or_default()
            .contains("CC BY")
    );
    assert!(json_file["generated_at"].is_string());
    assert!(
        json_file["suppression_rule"]
            .as_str()
            .unwrap_or_default()
            .contains("fewer than 3")
    );
    for column in json_file["dictionary"].as_array().expect("dictionary") {
        assert!(
            !column["description_mn"]
                .as_str()
                .unwrap_or_default()
                .is_empty()
        );
    }
    assert_eq!(json_file["rows"].as_array().map(Vec::len), Some(2));
    let index: Value = app
        .http
        .get(app.url("/open-data"))
        .send()
        .await
        .expect("index")
        .json()
        .await
        .expect("index json");
    assert_eq!(
        index["quarters"][0]["csv"],
        format!("/open-data/{quarter}.csv")
    );
    let dictionary = app
        .http
        .get(app.url("/open-data/dictionary.csv"))
        .send()
        .await
        .expect("dict");
    assert!(
        dictionary
            .text()
            .await
            .expect("dict")
            .contains("destination_country,dimension")
    );
    for missing in ["/open-data/2026-Q5.csv", "/open-data/whatever.txt"] {
        let r = app
            .http
            .get(app.url(missing))
            .send()
            .await
            .expect("missing");
        assert_eq!(r.status(), 404, "{missing}");
    }

    // A shop beside its market: a quarter of the felt rugs exported (four shops), at the
    // market's average price; another shop's figures are not for it.
    let (a, _) = &khentii[0];
    let vars = json!({ "s": a.id, "from": month, "to": month });
    let r = app.gql(Some(&a.owner.access), POSITION, vars.clone()).await;
    let crafts = r.expect_data()["shopMarketPosition"].clone();
    let rugs = &crafts[0];
    assert_eq!(rugs["craft"], "felt-rugs");
    assert_eq!(rugs["exports"]["amount"], "107.25");
    assert_eq!(rugs["marketShops"], 4);
    assert_eq!(rugs["marketExports"]["amount"], "482.62");
    assert_eq!(rugs["marketAveragePrice"]["amount"], "120.65");
    assert_eq!(rugs["sharePercent"], 22.2);
    let r = app.gql(Some(&gobi.owner.access), POSITION, vars).await;
    assert!(
        matches!(r.code(), "FORBIDDEN" | "NOT_FOUND"),
        "{:?}",
        r.code()
    );

    // Bad questions get clear answers.
    let r = stats(
        app,
        Some(&researcher.access),
        json!({ "d": [], "m": ["ORDERS"], "from": "2026-13", "to": month }),
    )
    .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "from"));
    let r = stats(app, Some(&researcher.access), json!({ "d": ["MONTH", "CRAFT", "REGION", "DESTINATION", "SHOP_SIZE"], "m": ["ORDERS"], "from": month, "to": month })).await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "dimensions"));

    // The charts page, in Mongolian and English, drawn by the server from public figures.
    let page = |lang: &str| {
        app.http
            .get(app.url(&format!("/statistics?lang={lang}")))
            .send()
    };
    let mn = page("mn").await.expect("page").text().await.expect("html");
    assert!(
        mn.contains("Монгол гар урлал дэлхийд") && mn.contains("<svg"),
        "{mn}"
    );
    assert!(
        mn.contains(">DE<") && !mn.contains(">JP<"),
        "Japan is withheld: {mn}"
    );
    assert!(mn.contains("90.0%"));
    let en = app
        .http
        .get(app.url("/statistics"))
        .header("accept-language", "en-GB,en;q=0.8")
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(en.contains("Exports by destination") && !en.contains("<script"));
    // A real browser on a phone-sized screen draws it.
    let shots = tempfile::tempdir().expect("dir");
    let shot = shots.path().join("statistics.png");
    let out = tokio::process::Command::new(crate::pages::chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--hide-scrollbars",
            &format!("--user-data-dir={}", shots.path().join("profile").display()),
            "--window-size=390,844",
            &format!("--screenshot={}", shot.display()),
            &app.url("/statistics?lang=mn"),
        ])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), out)
        .await
        .expect("Chromium finishes")
        .expect("Chromium runs");
    let png = std::fs::read(&shot)
        .unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&out.stderr)));
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 5_000,
        "{} bytes",
        png.len()
    );

    // Withdrawn: the researcher is back to the open subset at once.
    app.gql(
        Some(&w.admin.access),
        GRANT,
        json!({ "u": researcher_id, "g": false }),
    )
    .await
    .expect_data();
    let r = stats(
        app,
        Some(&researcher.access),
        by(json!(["REGION"]), json!(["ORDERS"]), Value::Null),
    )
    .await;
    assert_eq!(r.code(), "FORBIDDEN");
}

async fn gobi_owner_id(app: &TestApp, shop: &ShopFixture) -> Value {
    let r = app
        .gql(Some(&shop.owner.access), "{ me { id } }", json!({}))
        .await;
    r.expect_data()["me"]["id"].clone()
}

/// Every cell and histogram row, as the database holds them, without ids or empty rows.
async fn cube(app: &TestApp) -> (Vec<String>, Vec<String>) {
    use darkhan::entities::{statistics_cells, statistics_days};
    use sea_orm::EntityTrait;
    let mut cells: Vec<String> = statistics_cells::Entity::find()
        .all(&app.state.db)
        .await
        .expect("cells")
        .into_iter()
        .filter(|c| {
            [
                c.orders,
                c.units,
                c.gross_mnt,
                c.gross_usd,
                c.share_mnt,
                c.share_usd,
                c.refunded_orders,
                c.new_buyers,
                c.repeat_orders,
            ]
            .iter()
            .any(|v| *v != 0)
        })
        .map(|c| {
            format!(
                "{} {} {} {} {} | {} {} {} {} {} {} {} {} {}",
                c.month,
                c.shop_id,
                c.category_id,
                c.country,
                c.method,
                c.orders,
                c.units,
                c.gross_mnt,
                c.gross_usd,
                c.share_mnt,
                c.share_usd,
                c.refunded_orders,
                c.new_buyers,
                c.repeat_orders
            )
        })
        .collect();
    cells.sort();
    let mut days: Vec<String> = statistics_days::Entity::find()
        .all(&app.state.db)
        .await
        .expect("days")
        .into_iter()
        .filter(|d| d.orders != 0)
        .map(|d| {
            format!(
                "{} {} {} {} {} {} {} {}",
                d.month, d.shop_id, d.category_id, d.country, d.method, d.kind, d.days, d.orders
            )
        })
        .collect();
    days.sort();
    (cells, days)
}

#[tokio::test]
async fn the_incremental_cube_and_a_rebuild_agree_after_a_random_history() {
    use rand::{Rng, SeedableRng};
    let w = world("history@example.de").await;
    let app = &w.app;
    app.set_rate(&w.admin, "USD", "MNT", "3450").await;
    let mut shops = Vec::new();
    for (slug, region, price) in [
        ("hist-a", "Khentii", "370000"),
        ("hist-b", "Arkhangai", "125000"),
        ("hist-c", "Ulaanbaatar", "999000"),
    ] {
        let (shop, variant) = craft_shop(app, slug, region, price).await;
        shops.push((slug, shop, variant));
    }
    let (jp, jp_address) = buyer_in(app, "history-jp@example.jp", "JP").await;
    let buyers = [(&w.buyer, w.address.clone()), (&jp, jp_address)];
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261202);
    for round in 0..10 {
        let (buyer, address) = &buyers[rng.random_range(0..2)];
        let picked: Vec<&str> = shops
            .iter()
            .filter(|_| rng.random_bool(0.6))
            .map(|(_, _, v)| v.as_str())
            .collect();
        let picked = if picked.is_empty() {
            vec![shops[0].2.as_str()]
        } else {
            picked
        };
        let placed = buy(&w, &buyer.access, address, &picked, &format!("h{round}")).await;
        for order in placed["orders"].as_array().expect("orders") {
            let slug = order["shop"]["slug"].as_str().unwrap_or_default();
            let owner = &shops
                .iter()
                .find(|(s, _, _)| *s == slug)
                .expect("the order's shop")
                .1
                .owner;
            match rng.random_range(0..4) {
                // A partial refund.
                0 => {
                    let r = app.gql(Some(&owner.access), REFUND, json!({ "i": { "orderId": order["id"], "amountMinor": 1500, "reason": "chipped" } })).await;
                    r.expect_data();
                }
                // Cancelled after payment: refunded in full.
                1 => {
                    let r = app.gql(Some(&owner.access), "mutation($o: ID!) { cancelOrder(input: { orderId: $o, note: \"cannot make it\" }) { order { status } } }", json!({ "o": order["id"] })).await;
                    r.expect_data();
                }
                2 if buyer.access == w.buyer.access => {
                    w.ship_and_deliver(owner, &order["id"]).await;
                }
                _ => {}
            }
        }
        // Drained now and then, as the server's ticker would.
        if rng.random_bool(0.5) {
            drained(app).await;
        }
    }
    // An unpaid order that expires changes nothing.
    drained(app).await;
    let incremental = cube(app).await;
    assert!(!incremental.0.is_empty());
    let r = app
        .gql(
            Some(&w.admin.access),
            "mutation { rebuildStatistics { orders facts cells } }",
            json!({}),
        )
        .await;
    let rebuilt = r.expect_data()["rebuildStatistics"].clone();
    assert!(
        rebuilt["orders"].as_i64().unwrap_or_default() >= 10,
        "{rebuilt}"
    );
    assert_eq!(cube(app).await, incremental);
    let r = app
        .gql(
            Some(&shops[0].1.owner.access),
            "mutation { rebuildStatistics { orders } }",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}
