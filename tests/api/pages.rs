//! Pages search engines index and chat apps preview: product and shop pages with their
//! head (checked as served and as a real headless Chromium renders it), JSON-LD for product
//! rich results, sitemaps with language alternates, and robots.txt.

use serde_json::{Value, json};

use crate::{
    feeds::{get, market},
    helpers::payments::world,
};

/// The `content` of `<meta property|name="key">`, or the `href` of `<link rel="key">`, as
/// served (attributes are written `name="…"` and HTML-escaped).
fn head_value(html: &str, attribute: &str, key: &str) -> Option<String> {
    let needle = format!("{attribute}=\"{key}\"");
    let tag_start = html.find(&needle)?;
    let open = html[..tag_start].rfind('<')?;
    let close = tag_start + html[tag_start..].find('>')?;
    let tag = &html[open..close];
    let value_attr = if attribute == "rel" || attribute == "hreflang" {
        "href"
    } else {
        "content"
    };
    let at = tag.find(&format!("{value_attr}=\""))? + value_attr.len() + 2;
    let end = at + tag[at..].find('"')?;
    Some(unescape(&tag[at..end]))
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// The page's JSON-LD.
fn json_ld(html: &str) -> Value {
    let start = html
        .find("<script type=\"application/ld+json\">")
        .expect("a JSON-LD script")
        + "<script type=\"application/ld+json\">".len();
    let end = start + html[start..].find("</script>").expect("closed");
    serde_json::from_str(&html[start..end]).expect("JSON-LD parses")
}

/// What Google requires of a Product rich result (and of each offer in it), as published in
/// Search Central's structured data reference: a name, and offers, a review or a rating;
/// offers with a positive price, a currency and a schema.org availability.
fn product_rich_result_problems(ld: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    if ld["@context"] != "https://schema.org" || ld["@type"] != "Product" {
        problems.push("not a schema.org Product".into());
    }
    if ld["name"].as_str().is_none_or(str::is_empty) {
        problems.push("name missing".into());
    }
    if ld["offers"].is_null() && ld["review"].is_null() && ld["aggregateRating"].is_null() {
        problems.push("needs offers, review or aggregateRating".into());
    }
    let offers = match &ld["offers"] {
        Value::Array(list) => list.clone(),
        Value::Null => Vec::new(),
        one => vec![one.clone()],
    };
    for offer in offers {
        let price = offer["price"]
            .as_str()
            .and_then(|p| p.parse::<f64>().ok())
            .or_else(|| offer["price"].as_f64());
        if !price.is_some_and(|p| p > 0.0) {
            problems.push(format!("offer price {}", offer["price"]));
        }
        if offer["priceCurrency"]
            .as_str()
            .is_none_or(|c| c.len() != 3 || !c.chars().all(|ch| ch.is_ascii_uppercase()))
        {
            problems.push(format!("offer currency {}", offer["priceCurrency"]));
        }
        if !offer["availability"]
            .as_str()
            .is_some_and(|a| a.starts_with("https://schema.org/"))
        {
            problems.push(format!("offer availability {}", offer["availability"]));
        }
    }
    if !ld["aggregateRating"].is_null() {
        let r = &ld["aggregateRating"];
        if r["ratingValue"].is_null() || r["reviewCount"].as_i64().is_none_or(|n| n < 1) {
            problems.push("aggregateRating needs ratingValue and reviewCount".into());
        }
    }
    problems
}

#[tokio::test]
async fn a_product_page_previews_with_its_photo_and_price_in_the_readers_language() {
    let m = market(500).await;
    let api = m.app.state.settings.public.api_base_url.clone();
    let res = get(&m.app, "/p/feltworks/shirdeg?lang=en&currency=EUR", &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    assert!(res.headers().contains_key("last-modified"));
    let html = res.text().await.expect("body");
    // Text that could break out of an attribute or a script is escaped.
    assert!(!html.contains("<wool>"));
    assert!(html.contains("&lt;wool&gt;"));
    assert_eq!(
        head_value(&html, "property", "og:title").as_deref(),
        Some("Felt & <wool> \"shirdeg\" rug")
    );
    assert_eq!(
        head_value(&html, "property", "og:image").as_deref(),
        Some("https://img.example/0.jpg")
    );
    assert_eq!(
        head_value(&html, "property", "og:type").as_deref(),
        Some("product")
    );
    assert_eq!(
        head_value(&html, "property", "product:price:amount").as_deref(),
        Some("100.00")
    );
    assert_eq!(
        head_value(&html, "property", "product:price:currency").as_deref(),
        Some("EUR")
    );
    assert_eq!(
        head_value(&html, "property", "product:availability").as_deref(),
        Some("in stock")
    );
    assert_eq!(
        head_value(&html, "name", "twitter:card").as_deref(),
        Some("summary_large_image")
    );
    let canonical = format!("{api}/p/feltworks/shirdeg?lang=en");
    assert_eq!(
        head_value(&html, "rel", "canonical").as_deref(),
        Some(canonical.as_str())
    );
    for language in ["en", "mn", "de", "x-default"] {
        assert!(
            head_value(&html, "hreflang", language).is_some(),
            "{language}"
        );
    }
    assert!(head_value(&html, "hreflang", "fr").is_none());
    // On to the front end, in the page's language and currency.
    assert!(
        unescape(&html)
            .contains("href=\"http://localhost:3000/feltworks/shirdeg?lang=en&currency=EUR\""),
        "{html}"
    );

    let ld = json_ld(&html);
    assert_eq!(product_rich_result_problems(&ld), Vec::<String>::new());
    assert_eq!(ld["name"], "Felt & <wool> \"shirdeg\" rug");
    assert_eq!(ld["brand"]["name"], "Shop feltworks");
    assert_eq!(ld["offers"].as_array().map(Vec::len), Some(2));
    assert_eq!(ld["offers"][0]["price"], "100.00");
    assert_eq!(
        ld["offers"][0]["availability"],
        "https://schema.org/InStock"
    );
    assert_eq!(ld["offers"][1]["price"], "150.00");
    assert_eq!(
        ld["offers"][1]["availability"],
        "https://schema.org/OutOfStock"
    );
    assert!(ld.get("aggregateRating").is_none(), "no reviews yet");

    // German, from the reader's Accept-Language; the configured page currency (USD) has no
    // rate here, so prices fall back to the shop's own.
    let html = get(
        &m.app,
        "/p/feltworks/shirdeg",
        &[("accept-language", "de-DE,de;q=0.9")],
    )
    .await
    .text()
    .await
    .expect("body");
    assert_eq!(
        head_value(&html, "property", "og:title").as_deref(),
        Some("Filzteppich Shirdeg")
    );
    assert_eq!(
        head_value(&html, "property", "product:price:currency").as_deref(),
        Some("MNT")
    );
    // A language the product is not written in reads the shop's, canonically.
    let html = get(&m.app, "/p/feltworks/shirdeg?lang=fr", &[])
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(
        head_value(&html, "rel", "canonical"),
        Some(format!("{api}/p/feltworks/shirdeg?lang=mn"))
    );

    // Never a draft, an archived product, a suspended shop's or an unknown one.
    for path in [
        "/p/feltworks/draft",
        "/p/feltworks/archived",
        "/p/closed/hidden",
        "/p/feltworks/nothing",
        "/p/nobody/shirdeg",
        "/s/closed",
        "/s/nobody",
    ] {
        let res = get(&m.app, path, &[]).await;
        assert_eq!(res.status(), 404, "{path}");
        assert!(res.text().await.expect("body").contains("noindex"));
    }

    // The shop's page links to its products.
    let html = get(&m.app, "/s/feltworks?lang=en", &[])
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(
        head_value(&html, "property", "og:title").as_deref(),
        Some("Shop feltworks")
    );
    assert_eq!(json_ld(&html)["@type"], "Store");
    assert!(unescape(&html).contains("/p/feltworks/shirdeg?lang=en"));
    assert!(!unescape(&html).contains("/p/feltworks/draft"));
}

#[tokio::test]
async fn sitemaps_list_public_pages_per_language_with_alternates_and_robots_points_at_them() {
    let m = market(500).await;
    let api = m.app.state.settings.public.api_base_url.clone();
    let robots = get(&m.app, "/robots.txt", &[])
        .await
        .text()
        .await
        .expect("body");
    assert!(robots.contains(&format!("Sitemap: {api}/sitemap.xml")));
    assert!(robots.contains("Disallow: /graphql"));

    let index = get(&m.app, "/sitemap.xml", &[])
        .await
        .text()
        .await
        .expect("body");
    let locs = |xml: &str| -> Vec<String> {
        xml.split("<loc>")
            .skip(1)
            .filter_map(|s| s.split("</loc>").next())
            .map(|s| s.replace("&amp;", "&"))
            .collect()
    };
    let files = locs(&index);
    for file in ["shops.xml", "en/1.xml", "mn/1.xml", "de/1.xml"] {
        assert!(
            files.contains(&format!("{api}/sitemaps/{file}")),
            "{file} in {files:?}"
        );
    }
    assert!(
        !files.iter().any(|f| f.contains("/fr/")),
        "nothing in French"
    );

    let english = get(&m.app, "/sitemaps/en/1.xml", &[])
        .await
        .text()
        .await
        .expect("body");
    let mut reader = quick_xml::Reader::from_str(&english);
    while !matches!(
        reader.read_event().expect("well-formed XML"),
        quick_xml::events::Event::Eof
    ) {}
    let urls = locs(&english);
    assert!(urls.contains(&format!("{api}/p/feltworks/shirdeg?lang=en")));
    assert!(urls.contains(&format!("{api}/p/asia-only/far?lang=en")));
    for hidden in ["draft", "archived", "hidden"] {
        assert!(
            !urls.iter().any(|u| u.contains(&format!("/{hidden}?"))),
            "{hidden}"
        );
    }
    assert!(english.contains(&format!(
        "hreflang=\"de\" href=\"{api}/p/feltworks/shirdeg?lang=de\""
    )));
    let shops = get(&m.app, "/sitemaps/shops.xml", &[])
        .await
        .text()
        .await
        .expect("body");
    assert!(locs(&shops).contains(&format!("{api}/s/feltworks?lang=mn")));
    assert!(!shops.contains("/s/closed"));
    for path in [
        "/sitemaps/en/2.xml",
        "/sitemaps/en/0.xml",
        "/sitemaps/xx/1.xml",
        "/sitemaps/en/one.xml",
    ] {
        assert_eq!(get(&m.app, path, &[]).await.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn reviews_give_the_page_its_rating() {
    let w = world("pages@example.de").await;
    let (shop, variant) = w.shop("rated", "100.00", 10).await;
    w.add(&variant, 1).await;
    let placed = w.place("CARD", "rated-1").await;
    w.pay(&placed, "evt_rated").await;
    let order = placed["orders"][0]["id"].clone();
    w.ship_and_deliver(&shop.owner, &order).await;
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            "query($id: ID!) { order(id: $id) { lines { id } } }",
            json!({ "id": order }),
        )
        .await;
    let line = r.expect_data()["order"]["lines"][0]["id"].clone();
    w.app
        .gql(
            Some(&w.buyer.access),
            "mutation($i: WriteReviewInput!) { writeReview(input: $i) { review { id } } }",
            json!({ "i": { "orderLineId": line, "rating": 4, "body": "Warm and beautifully made", "language": "en" } }),
        )
        .await
        .expect_data();
    let html = get(&w.app, "/p/rated/item?lang=en&currency=EUR", &[])
        .await
        .text()
        .await
        .expect("body");
    let ld = json_ld(&html);
    assert_eq!(product_rich_result_problems(&ld), Vec::<String>::new());
    assert_eq!(ld["aggregateRating"]["ratingValue"], "4.0");
    assert_eq!(ld["aggregateRating"]["reviewCount"], 1);
    // No photo: a plain summary card.
    assert_eq!(
        head_value(&html, "name", "twitter:card").as_deref(),
        Some("summary")
    );
}

/// Chromium from the Debian packages (`scripts/test` installs it).
pub fn chromium() -> String {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if std::process::Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return name.to_owned();
        }
    }
    panic!("no headless Chromium: install the Debian package `chromium` (scripts/test does)");
}

#[tokio::test]
async fn a_real_browser_reads_the_preview_tags_and_structured_data() {
    let m = market(500).await;
    let browser = chromium();
    let url = m.app.url("/p/feltworks/shirdeg?lang=de&currency=EUR");
    let profile = tempfile::tempdir().expect("profile dir");
    let out = tokio::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-dev-shm-usage",
            &format!("--user-data-dir={}", profile.path().display()),
            "--virtual-time-budget=2000",
            "--dump-dom",
            &url,
        ])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), out)
        .await
        .expect("Chromium finishes")
        .expect("Chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        dom.contains("<head>"),
        "Chromium printed no DOM: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The browser's serialisation of the parsed document: what a previewer sees.
    assert!(dom.contains("<title>Filzteppich Shirdeg | Shop feltworks | Darkhan</title>"));
    assert_eq!(
        head_value(&dom, "property", "og:image").as_deref(),
        Some("https://img.example/0.jpg")
    );
    assert_eq!(
        head_value(&dom, "property", "product:price:amount").as_deref(),
        Some("100.00")
    );
    assert_eq!(
        head_value(&dom, "property", "og:title").as_deref(),
        Some("Filzteppich Shirdeg")
    );
    let ld = json_ld(&dom);
    assert_eq!(product_rich_result_problems(&ld), Vec::<String>::new());
    assert_eq!(ld["offers"][0]["priceCurrency"], "EUR");
}
