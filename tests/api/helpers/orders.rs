//! Order fixtures: a shop that ships to Europe and Asia with one product in stock, and a
//! buyer with an address.

use serde_json::json;

use super::{Session, TestApp, catalog::ShopFixture};

pub const ZONES: &str = "mutation($i: SaveShippingProfileInput!) { saveShippingProfile(input: $i) { profile { id name isDefault zones { name countries firstItem { amount currencyCode } } } } }";
pub const ADD_ADDRESS: &str =
    "mutation($i: AddAddressInput!) { addAddress(input: $i) { address { id country } } }";

/// A shop shipping to Europe and the rest of the world, with one published product.
pub async fn stocked_shop(
    app: &TestApp,
    slug: &str,
    price: &str,
    stock: i32,
) -> (ShopFixture, String) {
    let shop = app.shop(slug, "MN").await;
    app.gql(
        Some(&shop.owner.access),
        ZONES,
        json!({ "i": { "shopId": shop.id, "name": "Parcels", "zones": [
            { "name": "Europe", "countries": ["DE", "FR"], "firstItem": "40000", "additionalItem": "10000", "minDays": 7, "maxDays": 14 },
            { "name": "Asia", "countries": ["JP", "KR", "CN"], "firstItem": "30000", "additionalItem": "5000", "minDays": 5, "maxDays": 10 }
        ] } }),
    )
    .await
    .expect_data();
    let sku = format!("{}-A", slug.to_uppercase());
    let product = app
        .published(&shop, "item", json!({ "price": price, "hsCode": "570500", "weightGrams": 2000, "variants": [{ "sku": sku, "stock": stock }] }))
        .await;
    let variant = first_variant(app, &product).await;
    (shop, variant)
}

/// The id of a product's first variant.
pub async fn first_variant(app: &TestApp, product: &str) -> String {
    let r = app
        .gql(
            None,
            "query($id: ID!) { product(id: $id) { variants { id } } }",
            json!({ "id": product }),
        )
        .await;
    r.expect_data()["product"]["variants"][0]["id"]
        .as_str()
        .expect("variant")
        .to_owned()
}

/// A new buyer in Germany orders `quantity` of `variant` by bank transfer, in EUR (the rate
/// must be set): the stock is taken at once.
pub async fn ordered_by_transfer(app: &TestApp, email: &str, variant: &str, quantity: i32) {
    let (buyer, address) = buyer_in(app, email, "DE").await;
    app.gql(
        Some(&buyer.access),
        "mutation($v: ID!, $q: Int!) { addToCart(input: { variantId: $v, quantity: $q }) { cart { currency } } }",
        json!({ "v": variant, "q": quantity }),
    )
    .await
    .expect_data();
    app.gql(
        Some(&buyer.access),
        "mutation($a: ID!, $k: String!) { placeOrder(input: { addressId: $a, currency: \"EUR\", paymentMethod: BANK_TRANSFER, idempotencyKey: $k }) { checkoutId } }",
        json!({ "a": address, "k": email }),
    )
    .await
    .expect_data();
}

pub async fn buyer_in(app: &TestApp, email: &str, country: &str) -> (Session, String) {
    let buyer = app.register(email, "BUYER").await;
    let r = app
        .gql(
            Some(&buyer.access),
            ADD_ADDRESS,
            json!({ "i": { "name": "Anna Schmidt", "line1": "Torstraße 1", "city": "Berlin", "postalCode": "10119", "country": country, "phone": "+49 30 1234" } }),
        )
        .await;
    let address = r.expect_data()["addAddress"]["address"]["id"]
        .as_str()
        .expect("address")
        .to_owned();
    (buyer, address)
}
