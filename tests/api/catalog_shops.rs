//! Shops and makers: who may open, change, see and suspend them.

use serde_json::json;

use crate::{
    helpers::TestApp,
    helpers::catalog::{CREATE_SHOP, field},
};

fn shop_input(slug: &str) -> serde_json::Value {
    json!({ "input": {
        "slug": slug, "name": "Altai Felt", "country": "MN", "region": "Bayan-Ölgii",
        "settlementCurrency": "MNT", "defaultLanguage": "mn",
        "story": [{ "language": "mn", "text": "Эсгий" }, { "language": "en", "text": "Felt" }]
    }})
}

#[tokio::test]
async fn artisans_open_one_shop_each() {
    let app = TestApp::spawn().await;
    let buyer = app.register("buyer@example.mn", "BUYER").await;
    assert_eq!(
        app.gql(Some(&buyer.access), CREATE_SHOP, shop_input("altai"))
            .await
            .code(),
        "FORBIDDEN"
    );
    assert_eq!(
        app.gql(None, CREATE_SHOP, shop_input("altai")).await.code(),
        "UNAUTHENTICATED"
    );

    let artisan = app.register("altai@example.mn", "ARTISAN").await;
    let r = app
        .gql(Some(&artisan.access), CREATE_SHOP, shop_input("Altai"))
        .await;
    let shop = &r.expect_data()["createShop"]["shop"];
    assert_eq!(shop["slug"], "altai");
    assert_eq!(shop["status"], "ACTIVE");
    assert_eq!(
        shop["storyLanguage"], "mn",
        "the shop's own language by default"
    );

    let again = app
        .gql(Some(&artisan.access), CREATE_SHOP, shop_input("altai-two"))
        .await;
    assert_eq!(again.code(), "CONFLICT");
    let other = app.register("other@example.mn", "ARTISAN").await;
    let taken = app
        .gql(Some(&other.access), CREATE_SHOP, shop_input("altai"))
        .await;
    assert_eq!(taken.code(), "CONFLICT");

    for (field, value) in [
        ("slug", json!("no spaces")),
        ("country", json!("XX")),
        ("settlementCurrency", json!("ABC")),
        ("defaultLanguage", json!("!!")),
        ("name", json!("")),
    ] {
        let mut input = shop_input("fine-slug");
        input["input"][field] = value;
        let r = app.gql(Some(&other.access), CREATE_SHOP, input).await;
        assert_eq!(
            (r.code(), r.field()),
            ("BAD_USER_INPUT", field),
            "{}",
            r.body
        );
    }
}

#[tokio::test]
async fn shops_read_in_the_asked_language_and_filter_by_country() {
    let app = TestApp::spawn().await;
    app.shop("khovd", "MN").await;
    app.shop("berlin-felt", "DE").await;
    let q = "query($l: String, $c: String) { shops(language: $l, country: $c) { totalCount edges { node { slug story storyLanguage } } } }";
    let r = app.gql(None, q, json!({ "l": "en" })).await;
    assert_eq!(r.expect_data()["shops"]["totalCount"], 2);
    assert_eq!(
        r.expect_data()["shops"]["edges"][0]["node"]["story"],
        "Our story"
    );
    let r = app.gql(None, q, json!({ "c": "de" })).await;
    assert_eq!(field(&r.expect_data()["shops"], "slug"), ["berlin-felt"]);

    let one = app
        .http
        .post(app.url("/graphql"))
        .header("accept-language", "en-GB,en;q=0.9")
        .json(&json!({ "query": "{ shop(slug: \"khovd\") { story storyLanguage } }" }))
        .send()
        .await
        .expect("post");
    let one = crate::helpers::reply(one).await;
    assert_eq!(one.expect_data()["shop"]["storyLanguage"], "en");
    assert_eq!(
        app.gql(None, "{ shop(slug: \"nope\") { id } }", json!({}))
            .await
            .code(),
        "NOT_FOUND"
    );
}

const UPDATE: &str =
    "mutation($input: UpdateShopInput!) { updateShop(input: $input) { shop { name region } } }";
const SUSPEND: &str = "mutation($id: ID!, $s: Boolean!) { setShopSuspended(input: { shopId: $id, suspended: $s }) { shop { status } } }";

#[tokio::test]
async fn only_owners_and_admins_change_a_shop_and_only_admins_suspend() {
    let app = TestApp::spawn().await;
    let shop = app.shop("gobi", "MN").await;
    let intruder = app.shop("intruder", "MN").await;
    let admin = app.admin().await;
    let change = json!({ "input": { "shopId": shop.id, "name": "Gobi Cashmere" } });
    assert_eq!(
        app.gql(Some(&intruder.owner.access), UPDATE, change.clone())
            .await
            .code(),
        "FORBIDDEN"
    );
    let r = app.gql(Some(&shop.owner.access), UPDATE, change).await;
    assert_eq!(
        r.expect_data()["updateShop"]["shop"]["name"],
        "Gobi Cashmere"
    );
    let r = app
        .gql(
            Some(&admin.access),
            UPDATE,
            json!({ "input": { "shopId": shop.id, "region": "Ömnögovi" } }),
        )
        .await;
    assert_eq!(r.expect_data()["updateShop"]["shop"]["region"], "Ömnögovi");

    app.published(&shop, "scarf", json!({})).await;
    let suspend = json!({ "id": shop.id, "s": true });
    assert_eq!(
        app.gql(Some(&shop.owner.access), SUSPEND, suspend.clone())
            .await
            .code(),
        "FORBIDDEN"
    );
    let r = app.gql(Some(&admin.access), SUSPEND, suspend).await;
    assert_eq!(
        r.expect_data()["setShopSuspended"]["shop"]["status"],
        "SUSPENDED"
    );
    let told = app.mails_to("gobi@example.mn", "түр зогсоолоо", 1).await;
    assert!(told[0].text.contains("Gobi Cashmere"), "{}", told[0].text);

    // Hidden from the public, with its products; still visible to its owner.
    let q = "{ shop(slug: \"gobi\") { slug } }";
    assert_eq!(app.gql(None, q, json!({})).await.code(), "NOT_FOUND");
    app.gql(Some(&shop.owner.access), q, json!({}))
        .await
        .expect_data();
    let list = app
        .gql(
            None,
            "{ products { totalCount } shops { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(list.expect_data()["products"]["totalCount"], 0);
    assert_eq!(list.expect_data()["shops"]["totalCount"], 1);
}

const CREATE_MAKER: &str = "mutation($input: CreateMakerInput!) { createMaker(input: $input) { maker { id name craft yearsPractising biography } } }";

#[tokio::test]
async fn makers_belong_to_their_shop_and_are_credited_on_products() {
    let app = TestApp::spawn().await;
    let shop = app.shop("tsetserleg", "MN").await;
    let other = app.shop("other", "MN").await;
    let maker_input = |shop_id: &str| {
        json!({ "input": {
            "shopId": shop_id, "name": "Батбаяр", "region": "Arkhangai", "craft": "wood carving",
            "yearsPractising": 25, "biography": [{ "language": "en", "text": "Carves since 2000." }]
        }})
    };
    assert_eq!(
        app.gql(
            Some(&other.owner.access),
            CREATE_MAKER,
            maker_input(&shop.id)
        )
        .await
        .code(),
        "FORBIDDEN"
    );
    let r = app
        .gql(
            Some(&shop.owner.access),
            CREATE_MAKER,
            maker_input(&shop.id),
        )
        .await;
    let maker_id = r.expect_data()["createMaker"]["maker"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let theirs = app
        .gql(
            Some(&other.owner.access),
            CREATE_MAKER,
            maker_input(&other.id),
        )
        .await;
    let their_maker = theirs.expect_data()["createMaker"]["maker"]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    let bad_years = app
        .gql(Some(&shop.owner.access), CREATE_MAKER, {
            let mut i = maker_input(&shop.id);
            i["input"]["yearsPractising"] = json!(500);
            i
        })
        .await;
    assert_eq!(
        (bad_years.code(), bad_years.field()),
        ("BAD_USER_INPUT", "yearsPractising")
    );

    let id = app
        .published(
            &shop,
            "chess-set",
            json!({ "makers": [{ "makerId": maker_id, "role": "carver" }] }),
        )
        .await;
    let r = app
        .gql(None, "query($id: ID!) { product(id: $id, language: \"en\") { makers { role maker { name craft biography } } } }", json!({ "id": id }))
        .await;
    let makers = &r.expect_data()["product"]["makers"];
    assert_eq!(makers[0]["role"], "carver");
    assert_eq!(makers[0]["maker"]["name"], "Батбаяр");
    assert_eq!(makers[0]["maker"]["biography"], "Carves since 2000.");

    // Another shop's maker cannot be credited.
    let r = app
        .gql(
            Some(&shop.owner.access),
            crate::helpers::catalog::CREATE_PRODUCT,
            json!({ "input": { "shopId": shop.id, "slug": "x", "price": "10", "variants": [{ "sku": "X", "stock": 1 }], "makers": [{ "makerId": their_maker, "role": "thief" }] } }),
        )
        .await;
    assert_eq!((r.code(), r.field()), ("BAD_USER_INPUT", "makers"));

    // Renaming a maker keeps search in step.
    let rename = "mutation($id: ID!) { updateMaker(input: { makerId: $id, name: \"Түмэн\" }) { maker { name } } }";
    assert_eq!(
        app.gql(Some(&other.owner.access), rename, json!({ "id": maker_id }))
            .await
            .code(),
        "FORBIDDEN"
    );
    app.gql(Some(&shop.owner.access), rename, json!({ "id": maker_id }))
        .await
        .expect_data();
    let found = app
        .gql(
            None,
            "{ products(filter: { search: \"tumen\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(found.expect_data()["products"]["totalCount"], 1);
}
