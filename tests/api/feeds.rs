//! Product feeds for Google Merchant Center and Meta, per country and language: what is in
//! them, that they follow the channels' published rules, and that they revalidate cheaply.

use std::collections::HashMap;

use figment::providers::Serialized;
use quick_xml::events::Event;
use serde_json::{Value, json};

use crate::helpers::{Session, TestApp, catalog::ShopFixture, orders::ZONES};

pub const RUGS: &str = "01930000-0000-7000-8000-000000000002";
const SUSPEND: &str = "mutation($id: ID!) { setShopSuspended(input: { shopId: $id, suspended: true }) { shop { status } } }";
const ARCHIVE: &str =
    "mutation($id: ID!) { archiveProduct(input: { productId: $id }) { product { status } } }";

/// A marketplace with a shop shipping to Europe (three listable products, one with two
/// variants and a sale), and products no feed may show.
pub struct Market {
    pub app: TestApp,
    pub admin: Session,
    pub shop: ShopFixture,
    pub rug: String,
}

async fn zones(app: &TestApp, shop: &ShopFixture, countries: Value) {
    app.gql(
        Some(&shop.owner.access),
        ZONES,
        json!({ "i": { "shopId": shop.id, "name": "Parcels", "zones": [
            { "name": "Zone", "countries": countries, "firstItem": "40000", "additionalItem": "10000", "minDays": 7, "maxDays": 14 }
        ] } }),
    )
    .await
    .expect_data();
}

fn photos(n: usize) -> Value {
    (0..n)
        .map(|i| json!({ "url": format!("https://img.example/{i}.jpg"), "alt": [{ "language": "en", "text": "Photo" }] }))
        .collect()
}

pub async fn market(batch: u64) -> Market {
    let app =
        TestApp::spawn_with(|f| f.merge(Serialized::default("distribution.feed_batch", batch)))
            .await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let shop = app.shop("feltworks", "MN").await;
    zones(&app, &shop, json!(["DE", "FR"])).await;
    let rug = app
        .published(
            &shop,
            "shirdeg",
            json!({ "price": "370000", "categoryId": RUGS, "materials": ["Wool", "Felt"], "weightGrams": 2500,
                "originRegion": "Khentii",
                "images": photos(3),
                "translations": [
                    { "language": "mn", "title": "Ширдэг", "description": "Гар урлал" },
                    { "language": "en", "title": "Felt & <wool> \"shirdeg\" rug", "description": "Quilted by hand in Khentii, 2 × 3 m" },
                    { "language": "de", "title": "Filzteppich Shirdeg", "description": "Handgesteppt in Khentii" }
                ],
                "variants": [
                    { "sku": "RUG-S", "stock": 2, "options": [{ "name": "Size", "value": "S" }] },
                    { "sku": "RUG-L", "stock": 0, "options": [{ "name": "Size", "value": "L" }], "price": "555000" }
                ] }),
        )
        .await;
    for slug in ["bowl", "cup"] {
        app.published(
            &shop,
            slug,
            json!({ "price": "74000", "images": photos(1) }),
        )
        .await;
    }
    // Never in a feed: without a photo, a draft, archived, sold out.
    app.published(&shop, "no-photo", json!({})).await;
    app.product(&shop, "draft", json!({ "images": photos(1) }))
        .await;
    let archived = app
        .published(&shop, "archived", json!({ "images": photos(1) }))
        .await;
    app.gql(Some(&shop.owner.access), ARCHIVE, json!({ "id": archived }))
        .await
        .expect_data();
    app.published(
        &shop,
        "sold-out",
        json!({ "images": photos(1), "variants": [{ "sku": "SOLD", "stock": 0 }] }),
    )
    .await;
    // A suspended shop, and a shop that does not ship to Germany.
    let closed = app.shop("closed", "MN").await;
    zones(&app, &closed, json!(["DE"])).await;
    app.published(&closed, "hidden", json!({ "images": photos(1) }))
        .await;
    app.gql(Some(&admin.access), SUSPEND, json!({ "id": closed.id }))
        .await
        .expect_data();
    let asia = app.shop("asia-only", "MN").await;
    zones(&app, &asia, json!(["JP"])).await;
    app.published(&asia, "far", json!({ "images": photos(1) }))
        .await;
    Market {
        app,
        admin,
        shop,
        rug,
    }
}

pub async fn get(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut req = app.http.get(app.url(path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

/// Each `<item>` of an RSS feed as tag → values (nested ones as `parent/child`); panics on
/// XML that does not parse.
fn rss_items(xml: &str) -> Vec<HashMap<String, Vec<String>>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    let mut path: Vec<String> = Vec::new();
    let mut current: Option<HashMap<String, Vec<String>>> = None;
    // The escaped text of the element being read, and whether it has no child elements.
    let (mut raw, mut leaf) = (String::new(), false);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if name == "item" {
                    current = Some(HashMap::new());
                }
                path.push(name);
                raw.clear();
                leaf = true;
            }
            Event::Text(t) => raw.push_str(&t.decode().expect("utf-8")),
            Event::GeneralRef(r) => raw.push_str(&format!("&{};", r.decode().expect("utf-8"))),
            Event::End(_) => {
                let depth = path.len();
                let tag = path.pop().expect("balanced");
                if tag == "item" {
                    out.extend(current.take());
                } else if let Some(item) = current.as_mut().filter(|_| leaf) {
                    let key = if depth > 4 {
                        format!("{}/{tag}", path[depth - 2])
                    } else {
                        tag
                    };
                    let text = quick_xml::escape::unescape(&raw).expect("known entities");
                    item.entry(key).or_default().push(text.into_owned());
                }
                leaf = false;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn one<'a>(item: &'a HashMap<String, Vec<String>>, tag: &str) -> &'a str {
    match item.get(tag).map(Vec::as_slice) {
        Some([value]) => value,
        other => panic!("{tag}: {other:?} in {item:?}"),
    }
}

/// "12.50 USD": digits, the currency's decimals, one space, the code.
fn price_format_ok(text: &str, currency: &str) -> bool {
    text.split_once(' ').is_some_and(|(amount, code)| {
        code == currency
            && amount
                .split_once('.')
                .is_some_and(|(w, f)| !w.is_empty() && f.len() == 2)
            && amount.chars().all(|c| c.is_ascii_digit() || c == '.')
    })
}

#[tokio::test]
async fn google_feeds_list_what_ships_there_in_the_language_and_currency_with_every_required_attribute()
 {
    // Two products per round trip: the feed is written in several batches.
    let m = market(2).await;
    let now = chrono::Utc::now();
    let r = m
        .app
        .gql(
            Some(&m.shop.owner.access),
            "mutation($i: CreateSaleInput!) { createSale(input: $i) { sale { id } } }",
            json!({ "i": { "shopId": m.shop.id, "title": "Tsagaan Sar", "percentOff": 25,
                "endsAt": (now + chrono::Duration::days(3)).to_rfc3339(), "items": [{ "productId": m.rug }] } }),
        )
        .await;
    r.expect_data();
    let res = get(&m.app, "/feeds/google/DE/de.xml", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/rss+xml; charset=utf-8"
    );
    let body = res.text().await.expect("body");
    assert!(body.contains("xmlns:g=\"http://base.google.com/ns/1.0\""));
    let items = rss_items(&body);
    // The rug's two variants, the bowl and the cup; nothing else.
    assert_eq!(items.len(), 4, "{body}");
    for item in &items {
        for tag in [
            "g:id",
            "g:title",
            "g:description",
            "g:link",
            "g:image_link",
            "g:availability",
            "g:price",
            "g:brand",
            "g:condition",
            "g:identifier_exists",
        ] {
            assert!(!one(item, tag).is_empty(), "{tag} empty in {item:?}");
        }
        assert!(one(item, "g:title").chars().count() <= 150);
        assert!(one(item, "g:description").chars().count() <= 5000);
        assert!(one(item, "g:id").len() <= 50);
        assert!(["in_stock", "out_of_stock"].contains(&one(item, "g:availability")));
        assert!(price_format_ok(one(item, "g:price"), "EUR"), "{item:?}");
        assert_eq!(one(item, "g:condition"), "new");
        assert_eq!(one(item, "g:identifier_exists"), "no");
        assert_eq!(one(item, "g:brand"), "Shop feltworks");
        assert!(one(item, "g:link").starts_with("http://localhost:3000/feltworks/"));
        assert!(one(item, "g:link").contains("lang=de&currency=EUR&country=DE"));
        assert_eq!(one(item, "g:shipping/g:country"), "DE");
        // 40 000 MNT at 3 700 MNT per euro.
        assert_eq!(one(item, "g:shipping/g:price"), "10.81 EUR");
    }
    let rug: Vec<_> = items
        .iter()
        .filter(|i| i.get("g:item_group_id").is_some_and(|g| g[0] == m.rug))
        .collect();
    assert_eq!(rug.len(), 2, "both variants are grouped by the product");
    let small = rug
        .iter()
        .find(|i| one(i, "g:size") == "S")
        .expect("size S");
    let large = rug
        .iter()
        .find(|i| one(i, "g:size") == "L")
        .expect("size L");
    // The German text, and each variant's price at our rate with the sale a quarter off.
    assert_eq!(one(small, "g:title"), "Filzteppich Shirdeg - S");
    assert_eq!(one(small, "g:price"), "100.00 EUR");
    assert_eq!(one(small, "g:sale_price"), "75.00 EUR");
    assert_eq!(one(large, "g:price"), "150.00 EUR");
    assert_eq!(one(large, "g:sale_price"), "112.50 EUR");
    let period = one(small, "g:sale_price_effective_date");
    let (from, to) = period.split_once('/').expect("an interval");
    assert!(from.len() == 17 && to.len() == 17 && from.ends_with('Z') && from < to);
    assert_eq!(one(small, "g:availability"), "in_stock");
    assert_eq!(one(large, "g:availability"), "out_of_stock");
    assert_eq!(
        one(small, "g:google_product_category"),
        "Home & Garden > Decor > Rugs"
    );
    assert_eq!(one(small, "g:product_type"), "Felt > Felt rugs and shirdeg");
    assert_eq!(one(small, "g:material"), "Wool/Felt");
    assert_eq!(one(small, "g:shipping_weight"), "2500 g");
    assert_eq!(small["g:additional_image_link"].len(), 2);
    assert_eq!(
        small["g:product_detail/g:attribute_value"],
        vec!["Yes".to_owned(), "Khentii, MN".to_owned()]
    );
    // Products written without German fall back to the shop's language, then English... here
    // the shop writes Mongolian first.
    let bowl = items
        .iter()
        .find(|i| one(i, "g:link").contains("/bowl?"))
        .expect("bowl");
    assert_eq!(one(bowl, "g:title"), "Бүтээл bowl");
    assert!(!bowl.contains_key("g:item_group_id"));
    assert_eq!(one(bowl, "g:price"), "20.00 EUR");

    // English, with text that needs escaping.
    let body = get(&m.app, "/feeds/google/FR/en.xml", &[])
        .await
        .text()
        .await
        .expect("body");
    let items = rss_items(&body);
    let small = items
        .iter()
        .find(|i| i.get("g:size").is_some_and(|s| s[0] == "S"))
        .expect("size S");
    assert_eq!(one(small, "g:title"), "Felt & <wool> \"shirdeg\" rug - S");
    assert_eq!(
        one(small, "g:description"),
        "Quilted by hand in Khentii, 2 × 3 m"
    );

    // Japan is a market, but no rate to yen: nothing can be priced, so nothing is listed.
    let body = get(&m.app, "/feeds/google/JP/ja.xml", &[])
        .await
        .text()
        .await
        .expect("body");
    assert!(rss_items(&body).is_empty());
    m.app.set_rate(&m.admin, "JPY", "MNT", "23.5").await;
    let body = get(&m.app, "/feeds/google/JP/ja.xml", &[])
        .await
        .text()
        .await
        .expect("body");
    let far = rss_items(&body);
    assert_eq!(far.len(), 1, "only the shop shipping to Japan");
    // 125 000 MNT / 23.5 = 5 319.15 → 5 319 yen (no decimals).
    assert_eq!(one(&far[0], "g:price"), "5319 JPY");
}

#[tokio::test]
async fn meta_feeds_are_csv_in_metas_columns() {
    let m = market(500).await;
    let res = get(&m.app, "/feeds/meta/DE/en.csv", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let body = res.text().await.expect("body");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(str::to_owned)
        .collect();
    for required in [
        "id",
        "title",
        "description",
        "availability",
        "condition",
        "price",
        "link",
        "image_link",
        "brand",
    ] {
        assert!(headers.iter().any(|h| h == required), "{required}");
    }
    let rows: Vec<HashMap<String, String>> = reader
        .records()
        .map(|r| {
            headers
                .iter()
                .cloned()
                .zip(r.expect("a row").iter().map(str::to_owned))
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 4, "{body}");
    for row in &rows {
        assert!(["in stock", "out of stock"].contains(&row["availability"].as_str()));
        assert_eq!(row["condition"], "new");
        assert!(price_format_ok(&row["price"], "EUR"));
        assert!(row["title"].chars().count() <= 200);
        assert_eq!(row["shipping"], "DE::Standard:10.81 EUR");
    }
    let small = rows
        .iter()
        .find(|r| r["size"] == "S")
        .expect("the small rug");
    // Quotes and commas survive the CSV round trip.
    assert_eq!(small["title"], "Felt & <wool> \"shirdeg\" rug - S");
    assert_eq!(small["item_group_id"], m.rug);
    assert_eq!(small["additional_image_link"].split(',').count(), 2);
    assert_eq!(small["quantity_to_sell_on_facebook"], "2");
}

#[tokio::test]
async fn feeds_revalidate_and_unknown_markets_are_not_found() {
    let m = market(500).await;
    let first = get(&m.app, "/feeds/google/DE/en.xml", &[]).await;
    let etag = first.headers()["etag"].to_str().expect("etag").to_owned();
    let modified = first.headers()["last-modified"]
        .to_str()
        .expect("last-modified")
        .to_owned();
    assert!(
        first.headers()["cache-control"]
            .to_str()
            .is_ok_and(|c| c.contains("public"))
    );
    let again = get(
        &m.app,
        "/feeds/google/DE/en.xml",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(again.status(), 304);
    let again = get(
        &m.app,
        "/feeds/google/DE/en.xml",
        &[("if-modified-since", &modified)],
    )
    .await;
    assert_eq!(again.status(), 304);
    // Another language or channel is another feed.
    let other = get(
        &m.app,
        "/feeds/google/DE/de.xml",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(other.status(), 200);
    // A sale (stock, prices, rates…) changes the feed.
    m.app
        .gql(
            Some(&m.shop.owner.access),
            "mutation($i: CreateSaleInput!) { createSale(input: $i) { sale { id } } }",
            json!({ "i": { "shopId": m.shop.id, "title": "Naadam", "percentOff": 10,
                "endsAt": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339(), "items": [{ "productId": m.rug }] } }),
        )
        .await
        .expect_data();
    let changed = get(
        &m.app,
        "/feeds/google/DE/en.xml",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().ok(), Some(etag.as_str()));

    for path in [
        "/feeds/google/XX/en.xml",
        "/feeds/google/ZZZ/en.xml",
        "/feeds/google/DE/xx.xml",
        "/feeds/google/DE/en.csv",
        "/feeds/meta/DE/en.xml",
        "/feeds/bing/DE/en.xml",
        "/feeds/google/DE/en",
    ] {
        let res = get(&m.app, path, &[]).await;
        assert_eq!(res.status(), 404, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .is_ok_and(|c| c.starts_with("text/plain")),
            "{path}"
        );
        let text = res.text().await.expect("body");
        assert!(!text.is_empty() && text.len() < 100, "{path}: {text}");
    }
}
