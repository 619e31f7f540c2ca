//! Products: drafts, publishing, archiving, validation, ownership, language and currency.

use serde_json::json;

use crate::{
    helpers::TestApp,
    helpers::catalog::{CREATE_PRODUCT, PUBLISH},
};

const PRODUCT: &str = "query($id: ID!, $l: String, $c: String) { product(id: $id, language: $l, currency: $c) { id status title description language price { amount currencyCode } originalPrice { amount currencyCode } variants { sku price { amount currencyCode } stock inStock options { name value } } } }";
const ARCHIVE: &str =
    "mutation($id: ID!) { archiveProduct(input: { productId: $id }) { product { status } } }";
const UPDATE: &str = "mutation($input: UpdateProductInput!) { updateProduct(input: $input) { product { id slug hsCode weightGrams materials variants { id sku stock } } } }";

#[tokio::test]
async fn drafts_are_private_until_published() {
    let app = TestApp::spawn().await;
    let shop = app.shop("felt", "MN").await;
    let id = app
        .product(
            &shop,
            "rug",
            json!({ "translations": [{ "language": "en", "title": "Rug only in English" }] }),
        )
        .await;
    assert_eq!(
        app.gql(None, PRODUCT, json!({ "id": id })).await.code(),
        "NOT_FOUND"
    );
    let own = app
        .gql(Some(&shop.owner.access), PRODUCT, json!({ "id": id }))
        .await;
    assert_eq!(own.expect_data()["product"]["status"], "DRAFT");

    // A title in the shop's language (mn) is needed first.
    let r = app
        .gql(Some(&shop.owner.access), PUBLISH, json!({ "id": id }))
        .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "translations"));
    app.gql(
        Some(&shop.owner.access),
        UPDATE,
        json!({ "input": { "productId": id, "translations": [{ "language": "mn", "title": "Ширдэг" }, { "language": "en", "title": "Shirdeg rug" }] } }),
    )
    .await
    .expect_data();
    let r = app
        .gql(Some(&shop.owner.access), PUBLISH, json!({ "id": id }))
        .await;
    assert_eq!(
        r.expect_data()["publishProduct"]["product"]["status"],
        "ACTIVE"
    );
    assert_eq!(
        app.gql(Some(&shop.owner.access), PUBLISH, json!({ "id": id }))
            .await
            .code(),
        "CONFLICT"
    );
    let public = app.gql(None, PRODUCT, json!({ "id": id, "l": "en" })).await;
    assert_eq!(public.expect_data()["product"]["title"], "Shirdeg rug");

    let by_slug = app
        .gql(
            None,
            "{ product(shopSlug: \"felt\", slug: \"rug\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(by_slug.expect_data()["product"]["id"], id);

    let r = app
        .gql(Some(&shop.owner.access), ARCHIVE, json!({ "id": id }))
        .await;
    assert_eq!(
        r.expect_data()["archiveProduct"]["product"]["status"],
        "ARCHIVED"
    );
    assert_eq!(
        app.gql(Some(&shop.owner.access), ARCHIVE, json!({ "id": id }))
            .await
            .code(),
        "CONFLICT"
    );
    assert_eq!(
        app.gql(None, PRODUCT, json!({ "id": id })).await.code(),
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn product_input_is_validated_with_fields() {
    let app = TestApp::spawn().await;
    let shop = app.shop("silver", "MN").await;
    let base = json!({ "shopId": shop.id, "slug": "ring", "price": "99000", "variants": [{ "sku": "R-1", "stock": 1 }] });
    let cases = [
        ("hsCode", json!("12345")),
        ("price", json!("12.345")),
        ("price", json!("0")),
        ("price", json!("-5")),
        ("variants", json!([])),
        (
            "variants",
            json!([{ "sku": "A", "stock": 1 }, { "sku": "a", "stock": 1 }]),
        ),
        ("variants", json!([{ "sku": "A", "stock": -1 }])),
        ("slug", json!("Not A Slug")),
        ("weightGrams", json!(0)),
        ("processingDays", json!(400)),
        ("images", json!([{ "url": "ftp://x" }])),
        ("translations", json!([{ "language": "xx-", "title": "x" }])),
        ("categoryId", json!("01930000-0000-7000-8000-000000000999")),
    ];
    for (field, value) in cases {
        let mut input = base.clone();
        input[field] = value.clone();
        let r = app
            .gql(
                Some(&shop.owner.access),
                CREATE_PRODUCT,
                json!({ "input": input }),
            )
            .await;
        assert_eq!(
            (r.code(), r.field()),
            ("BAD_USER_INPUT", field),
            "{field}={value}: {}",
            r.body
        );
    }
    // Nothing was half-written: the slug is still free.
    app.product(&shop, "ring", json!({ "hsCode": "7113.11" }))
        .await;
    let dup_slug = app
        .gql(
            Some(&shop.owner.access),
            CREATE_PRODUCT,
            json!({ "input": base }),
        )
        .await;
    assert_eq!(dup_slug.code(), "CONFLICT");
    let dup_sku = app
        .gql(Some(&shop.owner.access), CREATE_PRODUCT, json!({ "input": { "shopId": shop.id, "slug": "ring-2", "price": "1", "variants": [{ "sku": "RING-1", "stock": 1 }] } }))
        .await;
    assert_eq!(
        dup_sku.code(),
        "CONFLICT",
        "SKUs are unique within a shop: {}",
        dup_sku.body
    );
    // Another shop may use the same SKU.
    let other = app.shop("other", "MN").await;
    app.product(&other, "ring", json!({})).await;
}

#[tokio::test]
async fn updates_replace_lists_and_keep_variant_ids_by_sku() {
    let app = TestApp::spawn().await;
    let shop = app.shop("update", "MN").await;
    let id = app
        .product(&shop, "boots", json!({ "hsCode": "640399", "weightGrams": 1200, "materials": ["leather"], "variants": [{ "sku": "B-40", "stock": 1 }, { "sku": "B-41", "stock": 2 }] }))
        .await;
    let before = app
        .gql(Some(&shop.owner.access), PRODUCT, json!({ "id": id }))
        .await;
    let b41 = before.expect_data()["product"]["variants"][1]["sku"].clone();
    assert_eq!(b41, "B-41");
    let r = app
        .gql(
            Some(&shop.owner.access),
            UPDATE,
            json!({ "input": { "productId": id, "hsCode": null, "materials": ["Leather", "felt"], "variants": [{ "sku": "B-41", "stock": 5 }, { "sku": "B-42", "stock": 1 }] } }),
        )
        .await;
    let p = &r.expect_data()["updateProduct"]["product"];
    assert_eq!(p["hsCode"], serde_json::Value::Null);
    assert_eq!(p["weightGrams"], 1200, "omitted fields stay");
    assert_eq!(p["materials"], json!(["Leather", "felt"]));
    let skus: Vec<&str> = p["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| v["sku"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(skus, ["B-41", "B-42"]);
    assert_eq!(p["variants"][0]["stock"], 5);
}

#[tokio::test]
async fn nobody_changes_another_shops_products() {
    let app = TestApp::spawn().await;
    let shop = app.shop("mine", "MN").await;
    let thief = app.shop("thief", "MN").await;
    let buyer = app.register("buyer@example.mn", "BUYER").await;
    let admin = app.admin().await;
    let id = app.product(&shop, "bowl", json!({})).await;
    let update = json!({ "input": { "productId": id, "price": "1" } });
    let create = json!({ "input": { "shopId": shop.id, "slug": "fake", "price": "1", "variants": [{ "sku": "F", "stock": 1 }] } });
    for token in [&thief.owner.access, &buyer.access] {
        assert_eq!(
            app.gql(Some(token), UPDATE, update.clone()).await.code(),
            "FORBIDDEN"
        );
        assert_eq!(
            app.gql(Some(token), PUBLISH, json!({ "id": id }))
                .await
                .code(),
            "FORBIDDEN"
        );
        assert_eq!(
            app.gql(Some(token), ARCHIVE, json!({ "id": id }))
                .await
                .code(),
            "FORBIDDEN"
        );
        assert_eq!(
            app.gql(Some(token), CREATE_PRODUCT, create.clone())
                .await
                .code(),
            "FORBIDDEN"
        );
    }
    for q in [UPDATE, CREATE_PRODUCT] {
        let vars = if q == UPDATE {
            update.clone()
        } else {
            create.clone()
        };
        assert_eq!(app.gql(None, q, vars).await.code(), "UNAUTHENTICATED");
    }
    // Admins may step in.
    app.gql(Some(&admin.access), PUBLISH, json!({ "id": id }))
        .await
        .expect_data();
    // A draft of another shop is invisible to other artisans.
    let draft = app.product(&shop, "draft", json!({})).await;
    assert_eq!(
        app.gql(Some(&thief.owner.access), PRODUCT, json!({ "id": draft }))
            .await
            .code(),
        "NOT_FOUND"
    );
    let unpublished = "query($s: String!) { products(filter: { shopSlug: $s, includeUnpublished: true }) { totalCount } }";
    assert_eq!(
        app.gql(
            Some(&thief.owner.access),
            unpublished,
            json!({ "s": "mine" })
        )
        .await
        .code(),
        "FORBIDDEN"
    );
    let own = app
        .gql(
            Some(&shop.owner.access),
            unpublished,
            json!({ "s": "mine" }),
        )
        .await;
    assert_eq!(own.expect_data()["products"]["totalCount"], 2);
}

#[tokio::test]
async fn text_follows_argument_then_header_then_shop_language_then_english() {
    let app = TestApp::spawn().await;
    let shop = app.shop("lang", "MN").await;
    let id = app.published(&shop, "deel", json!({})).await;
    let q = |l: Option<&str>| json!({ "id": id, "l": l });
    let r = app.gql(None, PRODUCT, q(Some("en"))).await;
    assert_eq!(
        (
            r.expect_data()["product"]["title"].as_str(),
            r.expect_data()["product"]["language"].as_str()
        ),
        (Some("Work deel"), Some("en"))
    );
    let r = app.gql(None, PRODUCT, q(Some("de"))).await;
    assert_eq!(
        r.expect_data()["product"]["language"],
        "mn",
        "German falls back to the shop's language"
    );
    let r = app.gql(None, PRODUCT, q(None)).await;
    assert_eq!(r.expect_data()["product"]["language"], "mn");
    let header = app
        .http
        .post(app.url("/graphql"))
        .header("accept-language", "en-US,en;q=0.8")
        .json(&json!({ "query": PRODUCT, "variables": { "id": id } }))
        .send()
        .await
        .expect("post");
    let header = crate::helpers::reply(header).await;
    assert_eq!(header.expect_data()["product"]["language"], "en");
    let bad = app.gql(None, PRODUCT, q(Some("!!"))).await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT", "language"));
}

#[tokio::test]
async fn prices_convert_with_iso_exponents_and_never_guess() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let shop = app.shop("money", "MN").await;
    let id = app
        .published(&shop, "coat", json!({ "price": "125000", "variants": [{ "sku": "C-1", "stock": 1 }, { "sku": "C-2", "stock": 0, "price": "130000.50" }] }))
        .await;
    let no_rate = app
        .gql(None, PRODUCT, json!({ "id": id, "c": "USD" }))
        .await;
    assert_eq!(
        (no_rate.code(), no_rate.field()),
        ("BAD_USER_INPUT", "currency")
    );

    let r = app
        .gql(
            Some(&shop.owner.access),
            crate::helpers::catalog::SET_RATE,
            json!({ "b": "USD", "q": "MNT", "r": "3450" }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let bad = app
        .gql(
            Some(&admin.access),
            crate::helpers::catalog::SET_RATE,
            json!({ "b": "USD", "q": "MNT", "r": "-1" }),
        )
        .await;
    assert_eq!((bad.code(), bad.field()), ("BAD_USER_INPUT", "rate"));
    app.set_rate(&admin, "USD", "MNT", "3450").await;
    app.set_rate(&admin, "JPY", "MNT", "23.1").await;

    let r = app
        .gql(None, PRODUCT, json!({ "id": id, "c": "usd" }))
        .await;
    let p = &r.expect_data()["product"];
    // 125000 / 3450 = 36.2318... -> 36.23
    assert_eq!(
        p["price"],
        json!({ "amount": "36.23", "currencyCode": "USD" })
    );
    assert_eq!(
        p["originalPrice"],
        json!({ "amount": "125000.00", "currencyCode": "MNT" })
    );
    // 130000.50 / 3450 = 37.6813... -> 37.68
    assert_eq!(p["variants"][1]["price"]["amount"], "37.68");
    assert_eq!(p["variants"][1]["inStock"], false);
    // JPY has no minor units: 125000 / 23.1 = 5411.25... -> 5411
    let r = app
        .gql(None, PRODUCT, json!({ "id": id, "c": "JPY" }))
        .await;
    assert_eq!(
        r.expect_data()["product"]["price"],
        json!({ "amount": "5411", "currencyCode": "JPY" })
    );
    // EUR is reachable only through MNT once it has a rate.
    let r = app
        .gql(None, PRODUCT, json!({ "id": id, "c": "EUR" }))
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    let rates = app
        .gql(None, "{ exchangeRates { pair rate } }", json!({}))
        .await;
    assert_eq!(
        rates.expect_data()["exchangeRates"],
        json!([{ "pair": "JPY/MNT", "rate": "23.1" }, { "pair": "USD/MNT", "rate": "3450" }])
    );
}
