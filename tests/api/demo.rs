//! The demo catalogue seeds, and the benchmarks' queries answer on it.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn seed_demo_builds_a_browsable_catalogue() {
    let app = TestApp::spawn().await;
    let seeded = darkhan::demo::seed(&app.state.db).await.expect("seed");
    assert_eq!((seeded.shops, seeded.products), (50, 2000));
    assert!(seeded.variants >= 4000 && seeded.variants <= 8000);
    // Seeding twice would mix demo and real data; it refuses.
    assert!(darkhan::demo::seed(&app.state.db).await.is_err());

    let page = app
        .gql(None, "{ products(first: 20, language: \"en\", currency: \"USD\") { totalCount edges { node { title price { currencyCode } shop { name } makers { maker { name } } variants { sku } } } } }", json!({}))
        .await;
    let products = &page.expect_data()["products"];
    assert_eq!(products["totalCount"], 2000);
    assert_eq!(products["edges"].as_array().map(Vec::len), Some(20));
    assert_eq!(products["edges"][0]["node"]["price"]["currencyCode"], "USD");

    let search = app
        .gql(
            None,
            "{ products(first: 20, filter: { search: \"эсгий\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert!(
        search.expect_data()["products"]["totalCount"]
            .as_i64()
            .unwrap_or(0)
            > 0
    );
    let latin = app
        .gql(
            None,
            "{ products(first: 20, filter: { search: \"esgii\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        latin.expect_data()["products"]["totalCount"],
        search.expect_data()["products"]["totalCount"]
    );

    let featured = app
        .gql(
            None,
            "{ collections(featured: true) { edges { node { products { totalCount } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        featured.expect_data()["collections"]["edges"][0]["node"]["products"]["totalCount"],
        12
    );
    // The product the benchmarks (scripts/bench, examples/distribution_bench.rs) read.
    let benched = app
        .gql(
            None,
            "{ product(shopSlug: \"khentii-1\", slug: \"morin-khuur-37\") { variants { sku } } }",
            json!({}),
        )
        .await;
    assert!(!benched.expect_data()["product"]["variants"][0]["sku"].is_null());
    let login = app
        .login("artisan1@demo.darkhan.mn", darkhan::demo::DEMO_PASSWORD)
        .await;
    assert!(login.is_ok());
}
