//! Browsing and searching: pagination, filters, sorts, search in two scripts, collections,
//! categories, and a fixed number of SQL statements per page.

use serde_json::{Value, json};

use crate::{
    helpers::TestApp,
    helpers::catalog::{field, nodes},
};

const LIST: &str = "query($f: ProductFilterInput, $s: ProductSortKey, $c: String, $first: Int, $after: String, $last: Int, $before: String) {
  products(filter: $f, sort: $s, currency: $c, first: $first, after: $after, last: $last, before: $before, language: \"en\") {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { slug title price { amount currencyCode } } } } }";

async fn list(app: &TestApp, vars: Value) -> Value {
    app.gql(None, LIST, vars).await.expect_data()["products"].clone()
}

#[tokio::test]
async fn pages_are_stable_and_capped() {
    let app = TestApp::spawn().await;
    let shop = app.shop("pages", "MN").await;
    for i in 0..5 {
        app.published(&shop, &format!("p{i}"), json!({})).await;
    }
    let first = list(&app, json!({ "first": 2 })).await;
    assert_eq!(first["totalCount"], 5);
    assert_eq!(field(&first, "slug"), ["p4", "p3"], "newest first");
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);

    // A product listed between requests does not shift the next page.
    app.published(&shop, "late", json!({})).await;
    let second = list(
        &app,
        json!({ "first": 2, "after": first["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(field(&second, "slug"), ["p2", "p1"]);
    let third = list(
        &app,
        json!({ "first": 2, "after": second["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(field(&third, "slug"), ["p0"]);
    assert_eq!(third["pageInfo"]["hasNextPage"], false);

    let back = list(
        &app,
        json!({ "last": 2, "before": third["pageInfo"]["startCursor"] }),
    )
    .await;
    assert_eq!(field(&back, "slug"), ["p2", "p1"]);
    assert_eq!(back["pageInfo"]["hasPreviousPage"], true);

    let capped = app.gql(None, LIST, json!({ "first": 101 })).await;
    assert_eq!((capped.code(), capped.field()), ("BAD_USER_INPUT", "first"));
    let foreign = app
        .gql(
            None,
            LIST,
            json!({ "s": "PRICE_ASC", "after": first["pageInfo"]["endCursor"] }),
        )
        .await;
    assert_eq!(
        (foreign.code(), foreign.field()),
        ("BAD_USER_INPUT", "after")
    );
}

#[tokio::test]
async fn filters_and_sorts() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "USD", "MNT", "3450").await;
    let mn = app.shop("ulaanbaatar", "MN").await;
    let de = app.shop("berlin", "DE").await;
    let felt = "01930000-0000-7000-8000-000000000001"; // seeded "felt"
    let rugs = "01930000-0000-7000-8000-000000000002"; // its child "felt-rugs"
    let maker = app
        .gql(Some(&mn.owner.access), "mutation($s: ID!) { createMaker(input: { shopId: $s, name: \"Saraa\", region: \"Töv\", craft: \"felt\" }) { maker { id } } }", json!({ "s": mn.id }))
        .await;
    let maker = maker.expect_data()["createMaker"]["maker"]["id"].clone();
    app.published(&mn, "cheap-rug", json!({ "price": "50000", "categoryId": rugs, "materials": ["Wool"], "makers": [{ "makerId": maker, "role": "felt-maker" }] })).await;
    app.published(&mn, "dear-slippers", json!({ "price": "300000", "categoryId": felt, "madeToOrder": true, "variants": [{ "sku": "S", "stock": 0 }] })).await;
    app.published(
        &de,
        "silver-ring",
        json!({ "price": "150000", "materials": ["silver"] }),
    )
    .await;

    let slugs = |v: &Value| {
        let mut s = field(v, "slug");
        s.sort();
        s
    };
    assert_eq!(
        slugs(&list(&app, json!({ "f": { "categoryId": felt } })).await),
        ["cheap-rug", "dear-slippers"],
        "with descendants"
    );
    assert_eq!(
        slugs(&list(&app, json!({ "f": { "categoryId": rugs } })).await),
        ["cheap-rug"]
    );
    assert_eq!(
        slugs(&list(&app, json!({ "f": { "shopSlug": "berlin" } })).await),
        ["silver-ring"]
    );
    assert_eq!(
        slugs(&list(&app, json!({ "f": { "country": "mn" } })).await),
        ["cheap-rug", "dear-slippers"]
    );
    assert_eq!(
        slugs(&list(&app, json!({ "f": { "makerId": maker } })).await),
        ["cheap-rug"]
    );
    assert_eq!(
        slugs(&list(&app, json!({ "f": { "materials": ["wool", "SILVER"] } })).await),
        ["cheap-rug", "silver-ring"]
    );
    assert_eq!(
        slugs(&list(&app, json!({ "f": { "inStock": false } })).await),
        ["dear-slippers"]
    );
    assert_eq!(
        slugs(&list(&app, json!({ "f": { "madeToOrder": true } })).await),
        ["dear-slippers"]
    );
    // 20 to 50 USD is 69,000 to 172,500 MNT.
    assert_eq!(
        slugs(
            &list(
                &app,
                json!({ "c": "USD", "f": { "minPrice": "20", "maxPrice": "50" } })
            )
            .await
        ),
        ["silver-ring"]
    );

    // Shops by what they sell.
    let shops = app
        .gql(
            None,
            "query($c: ID) { shops(categoryId: $c) { edges { node { slug } } } }",
            json!({ "c": felt }),
        )
        .await;
    assert_eq!(
        field(&shops.expect_data()["shops"], "slug"),
        ["ulaanbaatar"]
    );

    let asc = list(&app, json!({ "s": "PRICE_ASC", "c": "USD" })).await;
    assert_eq!(
        field(&asc, "slug"),
        ["cheap-rug", "silver-ring", "dear-slippers"]
    );
    assert_eq!(
        nodes(&asc)[0]["price"],
        json!({ "amount": "14.49", "currencyCode": "USD" })
    );
    let desc = list(&app, json!({ "s": "PRICE_DESC", "first": 2 })).await;
    assert_eq!(field(&desc, "slug"), ["dear-slippers", "silver-ring"]);
    let rest = list(
        &app,
        json!({ "s": "PRICE_DESC", "first": 2, "after": desc["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(field(&rest, "slug"), ["cheap-rug"]);
}

#[tokio::test]
async fn search_matches_cyrillic_and_latin_spellings() {
    let app = TestApp::spawn().await;
    let shop = app.shop("search", "MN").await;
    let t = |mn: &str, en: &str| json!({ "translations": [{ "language": "mn", "title": mn, "description": "" }, { "language": "en", "title": en, "description": "" }] });
    app.published(&shop, "deel", t("Хурган дээл", "Lambskin coat"))
        .await;
    app.published(&shop, "ger", t("Гэрийн тавилга", "Ger furniture"))
        .await;
    app.published(&shop, "khuur", t("Морин хуур", "Horsehead fiddle"))
        .await;
    let hits = |q: &'static str| {
        let app = &app;
        async move { field(&list(app, json!({ "f": { "search": q } })).await, "slug") }
    };
    assert_eq!(hits("дээл").await, ["deel"]);
    assert_eq!(hits("ДЭЭЛ").await, ["deel"], "case-insensitive in Cyrillic");
    assert_eq!(hits("deel").await, ["deel"], "Latin finds Cyrillic");
    assert_eq!(hits("гэр").await, ["ger"], "Cyrillic finds Latin");
    assert_eq!(hits("GER").await, ["ger"]);
    assert_eq!(hits("fiddle").await, ["khuur"]);
    assert_eq!(hits("mori").await, ["khuur"], "prefixes match");
    assert!(hits("nothing-like-this").await.is_empty());
    // Archived products drop out of search.
    assert_eq!(
        list(
            &app,
            json!({ "f": { "search": "\"; DROP TABLE products; --" } })
        )
        .await["totalCount"],
        0
    );

    // Relevance: the product naming the word twice ranks first.
    app.published(&shop, "felt-a", t("Эсгий", "Felt slippers"))
        .await;
    app.published(&shop, "felt-b", t("Эсгий эсгий", "Felt felt felt rug"))
        .await;
    let ranked = list(
        &app,
        json!({ "f": { "search": "felt" }, "s": "RELEVANCE", "first": 1 }),
    )
    .await;
    assert_eq!(field(&ranked, "slug"), ["felt-b"]);
    assert_eq!(ranked["totalCount"], 2);
    let next = list(&app, json!({ "f": { "search": "felt" }, "s": "RELEVANCE", "first": 1, "after": ranked["pageInfo"]["endCursor"] })).await;
    assert_eq!(field(&next, "slug"), ["felt-a"]);
    assert_eq!(next["pageInfo"]["hasNextPage"], false);
}

const PAGE: &str = "query($n: Int) { products(first: $n, language: \"en\", currency: \"USD\") { totalCount edges { node {
  id title description language price { amount currencyCode }
  shop { name slug story }
  category { name parent { name } }
  makers { role maker { name biography } }
  variants { sku price { amount } stock options { name value } }
  images { url alt }
  translations { language title } } } } }";

#[tokio::test]
async fn a_page_costs_the_same_few_queries_whatever_its_size() {
    let app = TestApp::spawn_counted().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "USD", "MNT", "3450").await;
    let mut shops = Vec::new();
    for s in 0..4 {
        shops.push(app.shop(&format!("shop{s}"), "MN").await);
    }
    for (s, shop) in shops.iter().enumerate() {
        let maker = app
            .gql(Some(&shop.owner.access), "mutation($s: ID!) { createMaker(input: { shopId: $s, name: \"M\", region: \"R\", craft: \"C\" }) { maker { id } } }", json!({ "s": shop.id }))
            .await;
        let maker = maker.expect_data()["createMaker"]["maker"]["id"].clone();
        for p in 0..6 {
            app.published(
                shop,
                &format!("s{s}p{p}"),
                json!({ "categoryId": "01930000-0000-7000-8000-000000000002", "makers": [{ "makerId": maker, "role": "maker" }],
                        "images": [{ "url": "https://img.example/1.jpg", "alt": [{ "language": "en", "text": "Front" }] }],
                        "variants": [{ "sku": format!("S{s}P{p}A"), "stock": 1, "options": [{ "name": "size", "value": "M" }] }, { "sku": format!("S{s}P{p}B"), "stock": 2 }] }),
            )
            .await;
        }
    }
    let mut counts = Vec::new();
    for n in [5, 20] {
        let (least, data) = app.least_statements(None, PAGE, json!({ "n": n })).await;
        assert_eq!(nodes(&data["products"]).len(), n as usize);
        assert_eq!(
            nodes(&data["products"])[0]["category"]["parent"]["name"],
            "Felt"
        );
        counts.push(least);
    }
    // Asked again, a page costs no SQL: the listing's order and count, every product's card
    // (shop, texts, variants, makers, photos, offers), the categories and the rates are kept
    // by the server until they change.
    assert_eq!(
        counts,
        [0, 0],
        "statements for 5 and 20 products asked again"
    );
    // A product published since is on the kept listing's first page at once.
    let total = |r: &Value| r["products"]["totalCount"].as_i64();
    let before = app.gql(None, PAGE, json!({ "n": 5 })).await;
    app.published(
        &shops[0],
        "newest",
        json!({ "variants": [{ "sku": "NEW", "stock": 1 }] }),
    )
    .await;
    let after = app.gql(None, PAGE, json!({ "n": 5 })).await;
    assert_eq!(
        total(after.expect_data()),
        total(before.expect_data()).map(|t| t + 1)
    );
    assert_eq!(
        nodes(&after.expect_data()["products"])[0]["title"],
        "Work newest"
    );
}

#[tokio::test]
async fn product_cards_are_kept_until_what_they_show_changes() {
    let app = TestApp::spawn_counted().await;
    let admin = app.admin().await;
    app.set_rate(&admin, "EUR", "MNT", "3700").await;
    let (_, rug) = crate::helpers::orders::stocked_shop(&app, "carded", "37000", 5).await;
    let (other_shop, _) = crate::helpers::orders::stocked_shop(&app, "kept", "37000", 5).await;
    let page = |shop: &str| {
        format!(
            "{{ product(shopSlug: \"{shop}\", slug: \"item\", language: \"en\", currency: \"EUR\") {{ title price {{ amount }} shop {{ name }} variants {{ sku stock }} }} }}"
        )
    };
    let (rug_q, other_q) = (page("carded"), page("kept"));
    let (cost, _) = app.least_statements(None, &other_q, json!({})).await;
    assert_eq!(cost, 0, "a product page read before costs no SQL");

    // A sale takes stock from the rug: its page shows it at once, the other keeps its card.
    crate::helpers::orders::ordered_by_transfer(&app, "carded@example.de", &rug, 2).await;
    let rug_now = app.gql(None, &rug_q, json!({})).await;
    assert_eq!(rug_now.expect_data()["product"]["variants"][0]["stock"], 3);
    let (cost, _) = app.least_statements(None, &other_q, json!({})).await;
    assert_eq!(cost, 0, "a stock change elsewhere leaves this card alone");

    // A change to the catalogue shows in the change's own answer and in every read after.
    let other_id = app
        .gql(None, &other_q.replace("title", "id title"), json!({}))
        .await
        .expect_data()["product"]["id"]
        .clone();
    let changed = app
        .gql(
            Some(&other_shop.owner.access),
            "mutation($id: ID!) { updateProduct(input: { productId: $id, price: \"74000\", translations: [{ language: \"mn\", title: \"Шинэ\", description: \"d\" }, { language: \"en\", title: \"Renamed\", description: \"d\" }] }) { product { title price { amount } variants { stock } } } }",
            json!({ "id": other_id }),
        )
        .await;
    let answer = &changed.expect_data()["updateProduct"]["product"];
    assert_eq!(
        answer["title"], "Шинэ",
        "in the shop's language: none was asked for"
    );
    assert_eq!(answer["price"]["amount"], "74000.00");
    let (_, read) = app.least_statements(None, &other_q, json!({})).await;
    assert_eq!(read["product"]["title"], "Renamed");
    assert_eq!(read["product"]["price"]["amount"], "20.00");
    assert_eq!(read["product"]["variants"][0]["stock"], 5);
}

#[tokio::test]
async fn collections_are_curated_by_admins_and_shops() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let shop = app.shop("coll", "MN").await;
    let other = app.shop("other-coll", "MN").await;
    let mine = app.published(&shop, "bowl", json!({})).await;
    let theirs = app.published(&other, "cup", json!({})).await;
    let create = "mutation($i: CreateCollectionInput!) { createCollection(input: $i) { collection { id slug featured name } } }";
    let update = "mutation($i: UpdateCollectionInput!) { updateCollection(input: $i) { collection { slug products { totalCount edges { node { slug } } } } } }";
    let platform = json!({ "i": { "slug": "naadam-gifts", "featured": true, "names": [{ "language": "en", "text": "Naadam gifts" }, { "language": "mn", "text": "Наадмын бэлэг" }] } });
    assert_eq!(
        app.gql(Some(&shop.owner.access), create, platform.clone())
            .await
            .code(),
        "FORBIDDEN"
    );
    let r = app.gql(Some(&admin.access), create, platform).await;
    let featured = r.expect_data()["createCollection"]["collection"]["id"].clone();
    let r = app
        .gql(
            Some(&admin.access),
            update,
            json!({ "i": { "collectionId": featured, "addProductIds": [mine, theirs] } }),
        )
        .await;
    assert_eq!(
        r.expect_data()["updateCollection"]["collection"]["products"]["totalCount"],
        2
    );

    let own = json!({ "i": { "shopId": shop.id, "slug": "coll-best", "names": [{ "language": "en", "text": "Best" }] } });
    assert_eq!(
        app.gql(Some(&other.owner.access), create, own.clone())
            .await
            .code(),
        "FORBIDDEN"
    );
    let r = app.gql(Some(&shop.owner.access), create, own).await;
    let own_id = r.expect_data()["createCollection"]["collection"]["id"].clone();
    let steal = app
        .gql(
            Some(&shop.owner.access),
            update,
            json!({ "i": { "collectionId": own_id, "addProductIds": [theirs] } }),
        )
        .await;
    assert_eq!(
        (steal.code(), steal.field()),
        ("BAD_USER_INPUT", "addProductIds")
    );
    let feature = app
        .gql(
            Some(&shop.owner.access),
            update,
            json!({ "i": { "collectionId": own_id, "featured": true } }),
        )
        .await;
    assert_eq!(feature.code(), "FORBIDDEN");
    app.gql(
        Some(&shop.owner.access),
        update,
        json!({ "i": { "collectionId": own_id, "addProductIds": [mine] } }),
    )
    .await
    .expect_data();

    let home = app.gql(None, "{ collections(featured: true, language: \"mn\") { totalCount edges { node { slug name } } } }", json!({})).await;
    assert_eq!(home.expect_data()["collections"]["totalCount"], 1);
    assert_eq!(
        home.expect_data()["collections"]["edges"][0]["node"]["name"],
        "Наадмын бэлэг"
    );
    let by_shop = app.gql(None, "{ collections(shopSlug: \"coll\") { edges { node { slug products { edges { node { slug } } } } } } }", json!({})).await;
    assert_eq!(
        by_shop.expect_data()["collections"]["edges"][0]["node"]["products"]["edges"][0]["node"]["slug"],
        "bowl"
    );
}

#[tokio::test]
async fn categories_form_a_seeded_tree_that_admins_curate() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let artisan = app.register("a@example.mn", "ARTISAN").await;
    let tree = app
        .gql(
            None,
            "{ categories(language: \"mn\") { slug name children { slug name } } }",
            json!({}),
        )
        .await;
    let roots = tree.expect_data()["categories"]
        .as_array()
        .expect("roots")
        .clone();
    assert!(roots.len() >= 12, "seeded crafts: {}", roots.len());
    let felt = roots.iter().find(|c| c["slug"] == "felt").expect("felt");
    assert_eq!(felt["name"], "Эсгий");
    assert!(
        felt["children"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["slug"] == "felt-rugs"))
    );

    let save = "mutation($i: CategoryInput!) { saveCategory(input: $i) { category { id slug name parent { slug } } } }";
    let input = json!({ "i": { "slug": "horse-gear", "names": [{ "language": "en", "text": "Horse gear" }, { "language": "mn", "text": "Морины хэрэгсэл" }], "parentId": "01930000-0000-7000-8000-000000000008" } });
    assert_eq!(
        app.gql(Some(&artisan.access), save, input.clone())
            .await
            .code(),
        "FORBIDDEN"
    );
    let r = app.gql(Some(&admin.access), save, input).await;
    assert_eq!(
        r.expect_data()["saveCategory"]["category"]["parent"]["slug"],
        "leather"
    );
    // The felt category cannot be put below its own child.
    let cycle = app
        .gql(Some(&admin.access), save, json!({ "i": { "categoryId": "01930000-0000-7000-8000-000000000001", "parentId": "01930000-0000-7000-8000-000000000002" } }))
        .await;
    assert_eq!(
        (cycle.code(), cycle.field()),
        ("BAD_USER_INPUT", "parentId")
    );
    let one = app
        .gql(
            None,
            "{ category(slug: \"horse-gear\") { name } }",
            json!({}),
        )
        .await;
    assert_eq!(one.expect_data()["category"]["name"], "Horse gear");
}
