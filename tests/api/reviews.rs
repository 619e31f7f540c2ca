//! Reviews from verified buyers: who may write them, one per delivered line, edits, the
//! shop's reply, reports and hiding, and ratings that always agree with the visible reviews,
//! also when many buyers review at once.

use serde_json::{Value, json};

use crate::helpers::payments::{World, world};

const WRITE: &str = "mutation($i: WriteReviewInput!) { writeReview(input: $i) { review { id rating body language author verifiedPurchase reply hidden } } }";
const RATING: &str = "query($s: String!) { product(shopSlug: $s, slug: \"item\") { rating { average count distribution { stars count } } reviews(first: 10) { totalCount nodes { id rating body reply } } shop { rating { average count } } } }";
const LINES: &str = "query($id: ID!) { order(id: $id) { lines { id } } }";

/// A delivered order of `quantity` units from a new shop `slug`: (owner token, line id).
async fn delivered(w: &World, slug: &str, key: &str) -> (String, String) {
    let (shop, variant) = w.shop(slug, "100.00", 10).await;
    w.add(&variant, 1).await;
    let placed = w.place("CARD", key).await;
    w.pay(&placed, &format!("evt_{key}")).await;
    let order = placed["orders"][0]["id"].clone();
    w.ship_and_deliver(&shop.owner, &order).await;
    let r = w
        .app
        .gql(Some(&w.buyer.access), LINES, json!({ "id": order }))
        .await;
    let line = r.expect_data()["order"]["lines"][0]["id"]
        .as_str()
        .expect("line")
        .to_owned();
    (shop.owner.access.clone(), line)
}

fn rating_of(v: &Value) -> (Value, i64) {
    (
        v["rating"]["average"].clone(),
        v["rating"]["count"].as_i64().unwrap_or(-1),
    )
}

#[tokio::test]
async fn a_buyer_reviews_what_was_delivered_once_and_the_shop_replies_once() {
    let w = world("reviewer@example.de").await;
    // Not delivered yet: refused.
    let (shop, variant) = w.shop("early", "50.00", 5).await;
    w.add(&variant, 1).await;
    let placed = w.place("CARD", "early-1").await;
    w.pay(&placed, "evt_early").await;
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            LINES,
            json!({ "id": placed["orders"][0]["id"] }),
        )
        .await;
    let early_line = r.expect_data()["order"]["lines"][0]["id"].clone();
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            WRITE,
            json!({ "i": { "orderLineId": early_line, "rating": 5 } }),
        )
        .await;
    assert_eq!(r.code(), "NOT_DELIVERED");
    drop(shop);

    let (owner, line) = delivered(&w, "felt", "felt-1").await;
    for (rating, body, code) in [
        (0, "x".to_owned(), "BAD_USER_INPUT"),
        (6, "x".to_owned(), "BAD_USER_INPUT"),
        (4, "a".repeat(100_000), "BAD_USER_INPUT"),
    ] {
        let r = w
            .app
            .gql(
                Some(&w.buyer.access),
                WRITE,
                json!({ "i": { "orderLineId": line, "rating": rating, "body": body } }),
            )
            .await;
        assert_eq!(r.code(), code, "{rating}");
    }
    // Someone else's order.
    let (stranger, _) = crate::helpers::orders::buyer_in(&w.app, "stranger@example.de", "DE").await;
    let r = w
        .app
        .gql(
            Some(&stranger.access),
            WRITE,
            json!({ "i": { "orderLineId": line, "rating": 1 } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");

    let r = w.app.gql(Some(&w.buyer.access), WRITE, json!({ "i": { "orderLineId": line, "rating": 4, "body": "Warm and well made", "language": "en" } })).await;
    let review = r.expect_data()["writeReview"]["review"].clone();
    assert_eq!(review["verifiedPurchase"], true);
    assert_eq!(review["language"], "en");
    assert!(review["author"].as_str().is_some_and(|a| !a.is_empty()));
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            WRITE,
            json!({ "i": { "orderLineId": line, "rating": 1 } }),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT", "a second review of the same line");

    // Edited within the window: the average follows.
    let r = w.app.gql(Some(&w.buyer.access), "mutation($i: UpdateReviewInput!) { updateReview(input: $i) { review { rating body } } }",
        json!({ "i": { "reviewId": review["id"], "rating": 5 } })).await;
    assert_eq!(r.expect_data()["updateReview"]["review"]["rating"], 5);
    let r = w.app.gql(None, RATING, json!({ "s": "felt" })).await;
    let product = &r.expect_data()["product"];
    assert_eq!(rating_of(product), (json!(5.0), 1));
    assert_eq!(
        product["rating"]["distribution"][4],
        json!({ "stars": 5, "count": 1 })
    );
    assert_eq!(rating_of(&product["shop"]), (json!(5.0), 1));

    // The shop's one reply; the buyer cannot reply.
    let reply =
        "mutation($i: ReplyToReviewInput!) { replyToReview(input: $i) { review { reply } } }";
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            reply,
            json!({ "i": { "reviewId": review["id"], "reply": "me" } }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w
        .app
        .gql(
            Some(&owner),
            reply,
            json!({ "i": { "reviewId": review["id"], "reply": "Thank you!" } }),
        )
        .await;
    assert_eq!(
        r.expect_data()["replyToReview"]["review"]["reply"],
        "Thank you!"
    );
    let r = w
        .app
        .gql(
            Some(&owner),
            reply,
            json!({ "i": { "reviewId": review["id"], "reply": "Again" } }),
        )
        .await;
    assert_eq!(r.code(), "CONFLICT");
}

#[tokio::test]
async fn hidden_reviews_leave_every_public_view_and_aggregate() {
    let w = world("hidden@example.de").await;
    let (_, line) = delivered(&w, "felt", "h-1").await;
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            WRITE,
            json!({ "i": { "orderLineId": line, "rating": 1, "body": "rude words" } }),
        )
        .await;
    let review = r.expect_data()["writeReview"]["review"]["id"].clone();
    // Anyone reports it, guests too; twice is once.
    let report = "mutation($id: ID!) { reportReview(input: { reviewId: $id, reason: \"insulting\" }) { reported } }";
    for token in [None, None, Some(w.buyer.access.as_str())] {
        let r = w.app.gql(token, report, json!({ "id": review })).await;
        assert_eq!(r.expect_data()["reportReview"]["reported"], true);
    }
    let listed = "query { reportedReviews { totalCount nodes { id reports { reason byUser } } } }";
    let r = w.app.gql(Some(&w.buyer.access), listed, json!({})).await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = w.app.gql(Some(&w.admin.access), listed, json!({})).await;
    let reported = &r.expect_data()["reportedReviews"];
    assert_eq!(reported["totalCount"], 1);
    assert_eq!(
        reported["nodes"][0]["reports"].as_array().map(Vec::len),
        Some(2)
    );

    let hide =
        "mutation($i: SetReviewHiddenInput!) { setReviewHidden(input: $i) { review { hidden } } }";
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            hide,
            json!({ "i": { "reviewId": review, "hidden": true } }),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT", "a reason is required");
    for _ in 0..2 {
        let r = w
            .app
            .gql(
                Some(&w.admin.access),
                hide,
                json!({ "i": { "reviewId": review, "hidden": true, "reason": "insults" } }),
            )
            .await;
        assert_eq!(r.expect_data()["setReviewHidden"]["review"]["hidden"], true);
    }
    let r = w.app.gql(None, RATING, json!({ "s": "felt" })).await;
    let product = &r.expect_data()["product"];
    assert_eq!(rating_of(product), (Value::Null, 0));
    assert_eq!(product["reviews"]["totalCount"], 0);
    assert_eq!(rating_of(&product["shop"]), (Value::Null, 0));
    // Filtering by rating no longer finds it; its author still sees it, with the reason.
    let r = w
        .app
        .gql(
            None,
            "{ products(filter: { minRating: 1 }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.expect_data()["products"]["totalCount"], 0);
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            "{ myReviews { nodes { hidden hiddenReason } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        r.expect_data()["myReviews"]["nodes"][0],
        json!({ "hidden": true, "hiddenReason": "insults" })
    );
    // Shown again: back in the totals, once.
    let r = w
        .app
        .gql(
            Some(&w.admin.access),
            hide,
            json!({ "i": { "reviewId": review, "hidden": false } }),
        )
        .await;
    assert_eq!(
        r.expect_data()["setReviewHidden"]["review"]["hidden"],
        false
    );
    let r = w.app.gql(None, RATING, json!({ "s": "felt" })).await;
    assert_eq!(rating_of(&r.expect_data()["product"]), (json!(1.0), 1));
}

#[tokio::test]
async fn concurrent_reviews_keep_the_rating_exact_and_products_sort_by_it() {
    let w = world("many@example.de").await;
    // One buyer, many delivered lines of the same product: eight orders of one shop.
    let (shop, variant) = w.shop("item-shop", "10.00", 50).await;
    let mut lines = Vec::new();
    for n in 0..8 {
        w.add(&variant, 1).await;
        let placed = w.place("CARD", &format!("many-{n}")).await;
        w.pay(&placed, &format!("evt_many_{n}")).await;
        let order = placed["orders"][0]["id"].clone();
        w.ship_and_deliver(&shop.owner, &order).await;
        let r = w
            .app
            .gql(Some(&w.buyer.access), LINES, json!({ "id": order }))
            .await;
        lines.push(r.expect_data()["order"]["lines"][0]["id"].clone());
    }
    let writes = lines.iter().enumerate().map(|(i, line)| {
        let stars = (i % 5) as i64 + 1;
        let app = &w.app;
        let token = w.buyer.access.clone();
        async move {
            app.gql(
                Some(&token),
                WRITE,
                json!({ "i": { "orderLineId": line, "rating": stars } }),
            )
            .await
        }
    });
    let replies = futures_util::future::join_all(writes).await;
    assert!(
        replies.iter().all(|r| r.code().is_empty()),
        "{:?}",
        replies.iter().map(|r| r.body.clone()).collect::<Vec<_>>()
    );
    // 1+2+3+4+5+1+2+3 = 21 over 8.
    let r = w.app.gql(None, "{ products(sort: RATING_DESC, filter: { minRating: 2.5 }) { totalCount nodes { slug rating { average count distribution { count } } } } }", json!({})).await;
    let found = &r.expect_data()["products"];
    assert_eq!(found["totalCount"], 1);
    assert_eq!(found["nodes"][0]["rating"]["average"], 2.63);
    assert_eq!(found["nodes"][0]["rating"]["count"], 8);
    let stored: Vec<(i32, i32, i32)> = {
        use sea_orm::{EntityTrait, QuerySelect};
        darkhan::entities::products::Entity::find()
            .select_only()
            .column(darkhan::entities::products::Column::RatingCount)
            .column(darkhan::entities::products::Column::RatingSum)
            .column(darkhan::entities::products::Column::RatingScore)
            .into_tuple()
            .all(&w.app.state.db)
            .await
            .expect("totals")
    };
    assert_eq!(
        stored,
        vec![(8, 21, 262)],
        "the sort key agrees with the reviews"
    );
    let r = w
        .app
        .gql(
            None,
            "{ products(filter: { minRating: 2.7 }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(r.expect_data()["products"]["totalCount"], 0);
}

const ADD_FAV: &str = "mutation($i: FavouriteInput!) { addFavourite(input: $i) { favourite { id product { slug } shop { slug } } cartToken } }";
const MY_FAVS: &str = "query($t: String) { myFavourites(cartToken: $t) { totalCount nodes { product { slug } shop { slug } } } }";

#[tokio::test]
async fn favourites_are_saved_once_counted_publicly_and_follow_a_guest_into_their_account() {
    let app = crate::helpers::TestApp::spawn().await;
    let shop = app.shop("felt", "MN").await;
    let product = app.published(&shop, "rug", json!({})).await;
    let draft = app.product(&shop, "draft", json!({})).await;
    let buyer = app.register("saver@example.de", "BUYER").await;

    // A buyer saves a product twice and the shop once: one favourite each.
    let first = app
        .gql(
            Some(&buyer.access),
            ADD_FAV,
            json!({ "i": { "productId": product } }),
        )
        .await;
    let again = app
        .gql(
            Some(&buyer.access),
            ADD_FAV,
            json!({ "i": { "productId": product } }),
        )
        .await;
    assert_eq!(
        first.expect_data()["addFavourite"]["favourite"]["id"],
        again.expect_data()["addFavourite"]["favourite"]["id"]
    );
    app.gql(
        Some(&buyer.access),
        ADD_FAV,
        json!({ "i": { "shopId": shop.id } }),
    )
    .await
    .expect_data();
    let r = app
        .gql(
            Some(&buyer.access),
            ADD_FAV,
            json!({ "i": { "productId": draft } }),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND", "drafts cannot be saved");
    let r = app
        .gql(
            Some(&buyer.access),
            ADD_FAV,
            json!({ "i": { "productId": product, "shopId": shop.id } }),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");

    // A guest saves the same product and another under a new cart token.
    let other = app.published(&shop, "bowl", json!({})).await;
    let r = app
        .gql(None, ADD_FAV, json!({ "i": { "productId": product } }))
        .await;
    let token = r.expect_data()["addFavourite"]["cartToken"]
        .as_str()
        .expect("token")
        .to_owned();
    app.gql(
        None,
        ADD_FAV,
        json!({ "i": { "productId": other, "cartToken": token } }),
    )
    .await
    .expect_data();
    let r = app.gql(None, MY_FAVS, json!({ "t": token })).await;
    assert_eq!(r.expect_data()["myFavourites"]["totalCount"], 2);
    let r = app.gql(None, MY_FAVS, json!({})).await;
    assert_eq!(r.code(), "UNAUTHENTICATED");

    let counts = "query { product(shopSlug: \"felt\", slug: \"rug\") { favouriteCount shop { favouriteCount } } }";
    let r = app.gql(None, counts, json!({})).await;
    assert_eq!(
        r.expect_data()["product"],
        json!({ "favouriteCount": 2, "shop": { "favouriteCount": 1 } })
    );

    // Signing in with the token: the guest's favourites join the account, without doubles.
    let login = "mutation($t: String) { login(input: { email: \"saver@example.de\", password: \"felt-and-silver-42\", cartToken: $t }) { accessToken } }";
    let r = app.gql(None, login, json!({ "t": token })).await;
    let access = r.expect_data()["login"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let r = app.gql(Some(&access), MY_FAVS, json!({})).await;
    let mine = &r.expect_data()["myFavourites"];
    assert_eq!(mine["totalCount"], 3, "rug, bowl and the shop: {mine}");
    let r = app.gql(None, counts, json!({})).await;
    assert_eq!(r.expect_data()["product"]["favouriteCount"], 1);

    // Forgetting.
    let remove = "mutation($i: FavouriteInput!) { removeFavourite(input: $i) { removed } }";
    let r = app
        .gql(
            Some(&access),
            remove,
            json!({ "i": { "productId": product } }),
        )
        .await;
    assert_eq!(r.expect_data()["removeFavourite"]["removed"], true);
    let r = app
        .gql(
            Some(&access),
            remove,
            json!({ "i": { "productId": product } }),
        )
        .await;
    assert_eq!(r.expect_data()["removeFavourite"]["removed"], false);
    let r = app.gql(Some(&access), MY_FAVS, json!({})).await;
    assert_eq!(r.expect_data()["myFavourites"]["totalCount"], 2);
}

#[tokio::test]
async fn a_buyer_adds_photos_of_what_arrived_to_their_review() {
    use crate::helpers::media::phone_jpeg;
    const PHOTO_REVIEW: &str = "mutation($i: WriteReviewInput!) { writeReview(input: $i) { review { id photos { url(width: 480) width height } } } }";
    let w = world("photo-reviewer@example.de").await;
    let (owner, line) = delivered(&w, "photoshop", "photo-1").await;
    let shop = w
        .app
        .gql(None, "{ shop(slug: \"photoshop\") { id } }", json!({}))
        .await
        .expect_data()["shop"]["id"]
        .as_str()
        .expect("shop")
        .to_owned();
    // Only a buyer who received an order from the shop may upload review photos for it.
    let (stranger, _) = crate::helpers::orders::buyer_in(&w.app, "stranger@example.de", "DE").await;
    let r = w
        .app
        .upload_photo(
            &stranger.access,
            &shop,
            "REVIEW",
            "felt.jpg",
            phone_jpeg(64, 48),
        )
        .await;
    assert_eq!(r.code(), "NOT_DELIVERED");
    let r = w
        .app
        .upload_photo(
            &w.buyer.access,
            &shop,
            "REVIEW",
            "felt.jpg",
            phone_jpeg(64, 48),
        )
        .await;
    let photo = r.expect_data()["uploadImage"]["photo"]["id"].clone();
    // Nobody else can attach it; the shop does not manage it as its own photo.
    let (other_owner, other_line) = delivered(&w, "othershop2", "photo-2").await;
    drop(other_owner);
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            PHOTO_REVIEW,
            json!({ "i": { "orderLineId": other_line, "rating": 4, "photoIds": [photo] } }),
        )
        .await;
    assert_eq!(
        (r.code(), r.field()),
        ("BAD_USER_INPUT", "photoIds"),
        "another shop's review"
    );
    let r = w
        .app
        .gql(
            Some(owner.as_str()),
            "query($s: ID!) { shopPhotos(shopId: $s, first: 10) { totalCount } }",
            json!({ "s": shop }),
        )
        .await;
    assert_eq!(r.expect_data()["shopPhotos"]["totalCount"], 0);
    let six = vec![photo.clone(); 6];
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            PHOTO_REVIEW,
            json!({ "i": { "orderLineId": line, "rating": 5, "photoIds": six } }),
        )
        .await;
    assert_eq!(r.field(), "photoIds");
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            PHOTO_REVIEW,
            json!({ "i": { "orderLineId": line, "rating": 5, "body": "Exactly as pictured", "photoIds": [photo] } }),
        )
        .await;
    let review = r.expect_data()["writeReview"]["review"].clone();
    // Upright: the phone's EXIF orientation turns 64×48 on its side.
    assert_eq!(
        (
            review["photos"][0]["width"].clone(),
            review["photos"][0]["height"].clone()
        ),
        (json!(48), json!(64))
    );
    // Readers see it with the review, and the rendition is served.
    let r = w
        .app
        .gql(
            None,
            "{ product(shopSlug: \"photoshop\", slug: \"item\") { reviews(first: 5) { nodes { photos { url } } } } }",
            json!({}),
        )
        .await;
    let url = r.expect_data()["product"]["reviews"]["nodes"][0]["photos"][0]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    assert_eq!(w.app.media(&url, &[]).await.status(), 200);
    // The author can take the photos off again.
    let r = w
        .app
        .gql(
            Some(&w.buyer.access),
            "mutation($i: UpdateReviewInput!) { updateReview(input: $i) { review { photos { url } } } }",
            json!({ "i": { "reviewId": review["id"], "photoIds": [] } }),
        )
        .await;
    assert_eq!(
        r.expect_data()["updateReview"]["review"]["photos"],
        json!([])
    );
}
