//! Building catalogue data through the API, as an artisan's front end would.

use serde_json::{Value, json};

use crate::helpers::{Session, TestApp};

pub const CREATE_SHOP: &str = "mutation($input: CreateShopInput!) { createShop(input: $input) { shop { id slug name story storyLanguage status } } }";
pub const CREATE_PRODUCT: &str = "mutation($input: CreateProductInput!) { createProduct(input: $input) { product { id slug status variants { id sku } } } }";
pub const PUBLISH: &str =
    "mutation($id: ID!) { publishProduct(input: { productId: $id }) { product { id status } } }";
pub const SET_RATE: &str = "mutation($b: String!, $q: String!, $r: String!) { setExchangeRate(input: { base: $b, quote: $q, rate: $r }) { exchangeRate { pair rate } } }";

/// An artisan with an open shop.
pub struct ShopFixture {
    pub owner: Session,
    pub id: String,
}

impl TestApp {
    pub async fn shop(&self, slug: &str, country: &str) -> ShopFixture {
        let owner = self
            .register(&format!("{slug}@example.mn"), "ARTISAN")
            .await;
        let r = self
            .gql(
                Some(&owner.access),
                CREATE_SHOP,
                json!({ "input": {
                    "slug": slug, "name": format!("Shop {slug}"), "country": country,
                    "region": "Arkhangai", "settlementCurrency": "MNT", "defaultLanguage": "mn",
                    "story": [{ "language": "mn", "text": "Манай түүх" }, { "language": "en", "text": "Our story" }]
                }}),
            )
            .await;
        let shop = &r.expect_data()["createShop"]["shop"];
        ShopFixture {
            owner,
            id: shop["id"].as_str().expect("id").to_owned(),
        }
    }

    pub async fn set_rate(&self, admin: &Session, base: &str, quote: &str, rate: &str) {
        self.gql(
            Some(&admin.access),
            SET_RATE,
            json!({ "b": base, "q": quote, "r": rate }),
        )
        .await
        .expect_data();
    }

    /// Creates a product from `input` (merged over sensible defaults) and returns its id.
    pub async fn product(&self, shop: &ShopFixture, slug: &str, extra: Value) -> String {
        let mut input = json!({
            "shopId": shop.id, "slug": slug, "price": "125000",
            "translations": [
                { "language": "mn", "title": format!("Бүтээл {slug}"), "description": "Гар урлал" },
                { "language": "en", "title": format!("Work {slug}"), "description": "Handmade" }
            ],
            "variants": [{ "sku": format!("{slug}-1").to_uppercase(), "stock": 3 }]
        });
        if let (Some(base), Some(extra)) = (input.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                base.insert(k.clone(), v.clone());
            }
        }
        let r = self
            .gql(
                Some(&shop.owner.access),
                CREATE_PRODUCT,
                json!({ "input": input }),
            )
            .await;
        r.expect_data()["createProduct"]["product"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    pub async fn published(&self, shop: &ShopFixture, slug: &str, extra: Value) -> String {
        let id = self.product(shop, slug, extra).await;
        self.gql(Some(&shop.owner.access), PUBLISH, json!({ "id": id }))
            .await
            .expect_data();
        id
    }
}

/// The `node`s of a connection.
pub fn nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|e| e["node"].clone()).collect())
        .unwrap_or_default()
}

/// The given field of each node.
pub fn field(connection: &Value, name: &str) -> Vec<String> {
    nodes(connection)
        .iter()
        .map(|n| n[name].as_str().unwrap_or_default().to_owned())
        .collect()
}
