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
    makers_shop(app, slug, region, price, &[]).await
}

/// [`craft_shop`] whose rug names makers (`CreateMakerInput`s without the shop), created first.
async fn makers_shop(
    app: &TestApp,
    slug: &str,
    region: &str,
    price: &str,
    makers: &[Value],
) -> (ShopFixture, String) {
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
    let mut credits = Vec::new();
    for maker in makers {
        let mut input = maker.clone();
        input["shopId"] = json!(shop.id);
        let r = app
            .gql(
                Some(&shop.owner.access),
                "mutation($i: CreateMakerInput!) { createMaker(input: $i) { maker { id } } }",
                json!({ "i": input }),
            )
            .await;
        credits.push(
            json!({ "makerId": r.expect_data()["createMaker"]["maker"]["id"], "role": "felter" }),
        );
    }
    let sku = format!("{}-RUG", slug.to_uppercase());
    let product = app
        .published(&shop, "rug", json!({ "price": price, "categoryId": FELT_RUGS, "makers": credits, "variants": [{ "sku": sku, "stock": 50 }] }))
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
        darkhan::statistics::cube::drain(&app.state)
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

/// Every cell, histogram row and maker cell, as the database holds them, without ids, change
/// numbers or empty rows.
async fn cube(app: &TestApp) -> (Vec<String>, Vec<String>, Vec<String>) {
    use darkhan::entities::{statistics_cells, statistics_days, statistics_maker_cells};
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
    let mut makers: Vec<String> = statistics_maker_cells::Entity::find()
        .all(&app.state.db)
        .await
        .expect("maker cells")
        .into_iter()
        .filter(|m| [m.gross_mnt, m.gross_usd, m.share_mnt, m.share_usd] != [0; 4])
        .map(|m| {
            format!(
                "{} {} {} {} {} {} | {} {} {} {}",
                m.month,
                m.shop_id,
                m.category_id,
                m.country,
                m.method,
                m.maker_id,
                m.gross_mnt,
                m.gross_usd,
                m.share_mnt,
                m.share_usd
            )
        })
        .collect();
    makers.sort();
    (cells, days, makers)
}

/// The measures of every kind: sums, shops, makers, buyers, medians and rates.
fn every_measure() -> Value {
    json!([
        "ORDERS",
        "UNITS",
        "GROSS_USD",
        "ARTISANS_SHARE_MNT",
        "ACTIVE_SHOPS",
        "ACTIVE_MAKERS",
        "NEW_BUYERS",
        "REPEAT_BUYER_ORDERS",
        "MEDIAN_DAYS_TO_SHIP",
        "MEDIAN_DAYS_TO_DELIVER",
        "REFUND_RATE"
    ])
}

/// A server's answers to questions that read every part of its copy of the cubes: the
/// shops' cells with medians and makers, the shops' attributes, the makers' cube, and the
/// public grid (asked by a signed-in buyer: anonymous answers may come from the response
/// cache for a few seconds).
async fn answers(app: &TestApp, admin: &str, buyer: &str) -> Vec<Value> {
    let (from, to) = (this_month(), this_month());
    let every = every_measure();
    let mut out = Vec::new();
    for (token, dims, measures) in [
        (
            Some(admin),
            json!(["DESTINATION", "PAYMENT_METHOD"]),
            every.clone(),
        ),
        (Some(admin), json!(["REGION", "CRAFT_GROUP"]), every.clone()),
        (
            Some(admin),
            json!(["MAKER_REGION", "MONTH"]),
            json!([
                "GROSS_USD",
                "ARTISANS_SHARE_USD",
                "ACTIVE_MAKERS",
                "ACTIVE_SHOPS"
            ]),
        ),
        (Some(buyer), json!(["QUARTER", "CRAFT"]), every),
    ] {
        let r = stats(
            app,
            token,
            json!({ "d": dims, "m": measures, "from": from, "to": to, "f": null }),
        )
        .await;
        let table = &r.expect_data()["marketStatistics"];
        out.push(json!([table["rows"], table["total"]]));
    }
    out
}

#[tokio::test]
async fn the_incremental_cube_and_a_rebuild_agree_after_a_random_history() {
    use rand::{Rng, SeedableRng};
    let w = world("history@example.de").await;
    let app = &w.app;
    app.set_rate(&w.admin, "USD", "MNT", "3450").await;
    // A second server on the database, whose copy of the cubes (read now, empty) follows
    // only the rows each drain here changes.
    let sibling = app.sibling().await;
    assert_eq!(
        answers(&sibling, &w.admin.access, &w.buyer.access).await,
        answers(app, &w.admin.access, &w.buyer.access).await
    );
    let mut shops = Vec::new();
    // Rugs by one maker, by two (their value split) and by none named.
    let maker = |name: &str| json!({ "name": name, "region": "Khentii", "craft": "felt" });
    for (slug, region, price, makers) in [
        ("hist-a", "Khentii", "370000", vec![maker("Saran")]),
        (
            "hist-b",
            "Arkhangai",
            "125000",
            vec![maker("Bat"), maker("Tsetseg")],
        ),
        ("hist-c", "Ulaanbaatar", "999000", vec![]),
    ] {
        let (shop, variant) = makers_shop(app, slug, region, price, &makers).await;
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
    assert!(
        incremental.2.len() > incremental.0.len(),
        "{:?}",
        incremental.2
    );
    let answered = answers(app, &w.admin.access, &w.buyer.access).await;
    assert!(
        answered
            .iter()
            .all(|a| a[0].as_array().is_some_and(|rows| !rows.is_empty())),
        "{answered:?}"
    );
    assert_eq!(
        answers(&sibling, &w.admin.access, &w.buyer.access).await,
        answered
    );
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
    // Both servers read the rebuilt cubes whole, and answer as before.
    assert_eq!(
        answers(app, &w.admin.access, &w.buyer.access).await,
        answered
    );
    assert_eq!(
        answers(&sibling, &w.admin.access, &w.buyer.access).await,
        answered
    );
    // The rebuild set the cubes' indexes aside while it wrote: the next drain adds to the
    // rebuilt cells through their key index, and both servers follow it.
    buy(
        &w,
        &jp.access,
        &buyers[1].1,
        &[shops[0].2.as_str()],
        "after",
    )
    .await;
    drained(app).await;
    let after = answers(app, &w.admin.access, &w.buyer.access).await;
    assert_ne!(after, answered);
    assert_eq!(
        answers(&sibling, &w.admin.access, &w.buyer.access).await,
        after
    );
    // Asked without a shop dimension and through a filter every shop passes, a question is
    // answered alike.
    let month = this_month();
    let every = every_measure();
    let ask = |f: Value| json!({ "d": ["DESTINATION", "PAYMENT_METHOD"], "m": every, "from": month, "to": month, "f": f });
    let market = stats(app, Some(&w.admin.access), ask(Value::Null)).await;
    let shops_cube = stats(
        app,
        Some(&w.admin.access),
        ask(json!({ "artisanCountry": "MN" })),
    )
    .await;
    let market = market.expect_data()["marketStatistics"]["rows"].clone();
    assert!(market.as_array().is_some_and(|r| !r.is_empty()));
    assert_eq!(market, shops_cube.expect_data()["marketStatistics"]["rows"]);
    let r = app
        .gql(
            Some(&shops[0].1.owner.access),
            "mutation { rebuildStatistics { orders } }",
            json!({}),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
}

const MAKERS: &str = "query($s: String!) { shop(slug: $s) { makers { id statistics { consentedAt gender birthYear cooperativeMember } } } }";

#[tokio::test]
async fn makers_count_by_what_they_consented_to_and_only_in_aggregates() {
    use chrono::Datelike;
    let w = world("stats-makers@example.de").await;
    let app = &w.app;
    app.set_rate(&w.admin, "USD", "MNT", "3450").await;
    let year = chrono::Utc::now().year();
    let maker = |name: &str, stats: Value| json!({ "name": name, "region": "Khentii", "craft": "felt", "yearsPractising": 12, "statistics": stats });
    // Three shops' makers are women in their early forties in cooperatives; two shops'
    // makers did not consent; one rug is made by two makers, one of them a man of sixty.
    let mut shops = Vec::new();
    for (slug, born) in [("mk-a", 40), ("mk-b", 41), ("mk-c", 42)] {
        let stats =
            json!({ "gender": "FEMALE", "birthYear": year - born, "cooperativeMember": true });
        shops.push(makers_shop(app, slug, "Khentii", "370000", &[maker(slug, stats)]).await);
    }
    for slug in ["mk-d", "mk-e"] {
        shops.push(makers_shop(app, slug, "Khentii", "370000", &[maker(slug, Value::Null)]).await);
    }
    let pair = [
        maker("mk-f1", Value::Null),
        maker("mk-f2", json!({ "gender": "MALE", "birthYear": year - 60 })),
    ];
    shops.push(makers_shop(app, "mk-f", "Khentii", "370000", &pair).await);
    let variants: Vec<&str> = shops.iter().map(|(_, v)| v.as_str()).collect();
    buy(&w, &w.buyer.access, &w.address, &variants, "makers-1").await;
    drained(app).await;

    // What was declared is shown to the shop, and to nobody else.
    let (a, _) = &shops[0];
    let r = app
        .gql(Some(&a.owner.access), MAKERS, json!({ "s": "mk-a" }))
        .await;
    let declared = r.expect_data()["shop"]["makers"][0].clone();
    assert_eq!(declared["statistics"]["gender"], "FEMALE");
    assert_eq!(declared["statistics"]["birthYear"], year - 40);
    assert_eq!(declared["statistics"]["cooperativeMember"], true);
    assert!(declared["statistics"]["consentedAt"].is_string());
    for token in [None, Some(shops[1].0.owner.access.as_str())] {
        let r = app.gql(token, MAKERS, json!({ "s": "mk-a" })).await;
        assert!(r.expect_data()["shop"]["makers"][0]["statistics"].is_null());
    }
    let r = app
        .gql(
            Some(&a.owner.access),
            "mutation($i: UpdateMakerInput!) { updateMaker(input: $i) { maker { id } } }",
            json!({ "i": { "makerId": declared["id"], "statistics": { "birthYear": 1800 } } }),
        )
        .await;
    assert_eq!(
        (r.code(), r.field()),
        ("BAD_USER_INPUT", "statistics.birthYear")
    );

    let researcher = app.register("makers@nso.mn", "BUYER").await;
    let id = app
        .gql(Some(&researcher.access), "{ me { id } }", json!({}))
        .await
        .expect_data()["me"]["id"]
        .clone();
    app.gql(Some(&w.admin.access), GRANT, json!({ "u": id, "g": true }))
        .await
        .expect_data();
    let month = this_month();
    let by = |d: Value, m: Value| json!({ "d": d, "m": m, "from": month, "to": month });
    let values = json!(["GROSS_MNT", "ACTIVE_MAKERS", "ACTIVE_SHOPS"]);

    // By gender: three shops' women are published; the lone man is withheld, and with him
    // the undeclared, or the man's half of the shared rug would be their difference.
    let r = stats(
        app,
        Some(&researcher.access),
        by(json!(["MAKER_GENDER"]), values.clone()),
    )
    .await;
    let t = r.expect_data()["marketStatistics"].clone();
    let row = |t: &Value, v: &str| {
        t["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["values"][0] == v)
            .cloned()
            .unwrap_or_else(|| panic!("{v} in {t}"))
    };
    let women = row(&t, "FEMALE");
    assert_eq!(women["suppressed"], false);
    assert_eq!(col(&t, &women, "gross_mnt"), "1110000.00");
    assert_eq!(col(&t, &women, "active_makers"), "3");
    assert_eq!(row(&t, "MALE")["suppressed"], true);
    assert_eq!(row(&t, "UNDECLARED")["suppressed"], true);
    assert_eq!(col(&t, &t["total"], "gross_mnt"), "1110000.00");
    let r = stats(
        app,
        Some(&researcher.access),
        by(
            json!(["MAKER_AGE_BAND", "MAKER_COOPERATIVE"]),
            values.clone(),
        ),
    )
    .await;
    let t = r.expect_data()["marketStatistics"].clone();
    let forties = row(&t, "35-44");
    assert_eq!(forties["values"][1], "MEMBER");
    assert_eq!(col(&t, &forties, "active_makers"), "3");

    // Active makers beside the orders: seven makers in six shops sold to Germany.
    let r = stats(
        app,
        Some(&researcher.access),
        by(
            json!(["DESTINATION"]),
            json!(["ORDERS", "ACTIVE_MAKERS", "ACTIVE_SHOPS"]),
        ),
    )
    .await;
    let t = r.expect_data()["marketStatistics"].clone();
    let de = row(&t, "DE");
    assert_eq!(
        (
            col(&t, &de, "orders"),
            col(&t, &de, "active_makers"),
            col(&t, &de, "active_shops")
        ),
        (&json!("6"), &json!("7"), &json!("6"))
    );

    // Per-order counts have no maker to belong to; the public does not break down by makers.
    let r = stats(
        app,
        Some(&researcher.access),
        by(json!(["MAKER_GENDER"]), json!(["ORDERS"])),
    )
    .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "measures"));
    let r = stats(app, None, by(json!(["MAKER_GENDER"]), json!(["GROSS_MNT"]))).await;
    assert_eq!(r.code(), "FORBIDDEN");

    // Consent withdrawn: the declaration is erased and the maker counts only in totals at
    // once, so two shops' women are too few to publish.
    let r = app
        .gql(
            Some(&a.owner.access),
            "mutation($i: UpdateMakerInput!) { updateMaker(input: $i) { maker { statistics { gender } } } }",
            json!({ "i": { "makerId": declared["id"], "statistics": null } }),
        )
        .await;
    assert!(r.expect_data()["updateMaker"]["maker"]["statistics"].is_null());
    let r = stats(
        app,
        Some(&researcher.access),
        by(json!(["MAKER_GENDER"]), values),
    )
    .await;
    let t = r.expect_data()["marketStatistics"].clone();
    assert_eq!(row(&t, "FEMALE")["suppressed"], true);
    let total = col(&t, &t["total"], "gross_mnt");
    assert!(total.is_null() || total != "1110000.00", "{t}");
}
