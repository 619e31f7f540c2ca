//! Photos end to end: uploads by multipart and to one-time addresses, on local storage and on
//! a real S3-compatible server; what is published (upright, metadata-free renditions served
//! with immutable caching, ranges and 304); attaching, ownership, bad files and the sweep.

use figment::providers::Serialized;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp,
    media::{FilePart, LATITUDE, S3Server, UPLOAD, carries_metadata, phone_jpeg, png},
};

const PRODUCT_IMAGES: &str = "query($slug: String!) { product(shopSlug: \"atelier\", slug: $slug) { images { id photoId url(width: 300) jpeg: url(width: 2000, format: JPEG) srcset placeholder dominantColor width height alt position } } }";
const UPDATE_IMAGES: &str = "mutation($id: ID!, $images: [ImageInput!]!) { updateProduct(input: { productId: $id, images: $images }) { product { id } } }";
const SHOP_PHOTOS: &str =
    "query($shop: ID!) { shopPhotos(shopId: $shop) { totalCount nodes { id status purpose } } }";

fn photo(reply: &crate::helpers::Reply) -> Value {
    reply.expect_data()["uploadImage"]["photo"].clone()
}

#[tokio::test]
async fn a_phone_photo_is_published_upright_in_every_size_without_its_metadata() {
    let app = TestApp::spawn().await;
    let shop = app.shop("atelier", "MN").await;
    // 1200×800 as stored, 800×1200 as seen: the EXIF says to turn it.
    let original = phone_jpeg(1200, 800);
    assert!(
        carries_metadata(&original),
        "the fixture carries EXIF, GPS and XMP"
    );
    let r = app
        .upload_photo(
            &shop.owner.access,
            &shop.id,
            "PRODUCT",
            "IMG_0042.JPG",
            original,
        )
        .await;
    let photo = photo(&r);
    assert_eq!(photo["status"], "READY");
    assert_eq!(photo["sourceFormat"], "JPEG");
    let image = &photo["image"];
    assert_eq!(
        (image["width"].as_i64(), image["height"].as_i64()),
        (Some(800), Some(1200))
    );
    let color = image["dominantColor"].as_str().expect("colour");
    assert!(color.len() == 7 && color.starts_with('#'), "{color}");
    assert!(image["placeholder"].as_str().is_some_and(|p| !p.is_empty()));
    // The smallest rendition at least 300 px wide.
    let url = image["url"].as_str().expect("url");
    assert!(url.ends_with("/480.webp"), "{url}");
    let srcset = image["srcset"].as_str().expect("srcset");
    for width in ["160w", "480w", "800w"] {
        assert!(srcset.contains(width), "{srcset}");
    }
    assert!(!srcset.contains("1600w"), "never upscaled: {srcset}");

    // Every stored file is a fresh encoding: no EXIF, no XMP, no GPS anywhere.
    let files = app.stored_files();
    assert_eq!(files.len(), 6, "3 widths × WebP and JPEG: {files:?}");
    let lat = LATITUDE[0].to_be_bytes();
    for file in &files {
        let bytes = std::fs::read(file).expect("stored file");
        assert!(
            !carries_metadata(&bytes),
            "{} carries metadata",
            file.display()
        );
        assert!(
            !bytes
                .windows(8)
                .any(|w| w == [&lat[..], &1u32.to_be_bytes()[..]].concat())
        );
        let decoded = image::load_from_memory(&bytes).expect("decodes");
        assert!(
            decoded.height() > decoded.width(),
            "upright: {}",
            file.display()
        );
        // The red half of the picture is now on top.
        let top = decoded
            .to_rgb8()
            .get_pixel(decoded.width() / 2, decoded.height() / 8)
            .0;
        assert!(
            top[0] > 180 && top[2] < 90,
            "top is red in {}: {top:?}",
            file.display()
        );
    }

    // Served with immutable caching, a strong ETag and 304, ranges and its type.
    let res = app.media(url, &[]).await;
    assert_eq!(res.status(), 200);
    let headers = res.headers().clone();
    assert_eq!(headers["content-type"], "image/webp");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert_eq!(headers["accept-ranges"], "bytes");
    let etag = headers["etag"].to_str().expect("etag").to_owned();
    let body = res.bytes().await.expect("body");
    assert_eq!(
        app.media(url, &[("if-none-match", &etag)]).await.status(),
        304
    );
    let part = app.media(url, &[("range", "bytes=10-19")]).await;
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 10-19/{}", body.len()).as_str()
    );
    assert_eq!(part.bytes().await.expect("part"), body.slice(10..20));
    let beyond = format!("bytes={}-", body.len());
    assert_eq!(app.media(url, &[("range", &beyond)]).await.status(), 416);
    let jpeg = url.replace("480.webp", "160.jpg");
    let res = app.media(&jpeg, &[]).await;
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    // Raw uploads and made-up names are not served.
    assert_eq!(
        app.media(&url.replace("480.webp", "481.webp"), &[])
            .await
            .status(),
        404
    );
    assert_eq!(
        app.http
            .get(app.url("/media/uploads/x"))
            .send()
            .await
            .expect("get")
            .status(),
        405
    );
}

#[tokio::test]
async fn photos_are_attached_reordered_described_and_swept_when_unused() {
    let app =
        TestApp::spawn_with(|f| f.merge(Serialized::default("media.unattached_grace_hours", 0)))
            .await;
    let shop = app.shop("atelier", "MN").await;
    let token = shop.owner.access.clone();
    let product = app.published(&shop, "felt-rug", json!({})).await;
    let first = photo(
        &app.upload_photo(&token, &shop.id, "PRODUCT", "a.jpg", phone_jpeg(640, 480))
            .await,
    );
    let second = photo(
        &app.upload_photo(&token, &shop.id, "PRODUCT", "b.png", png(300, 200))
            .await,
    );
    let images = json!([
        { "photoId": second["id"], "alt": [{ "language": "en", "text": "The rug, rolled" }] },
        { "url": "https://images.example.com/rug.jpg", "alt": [] },
        { "photoId": first["id"], "alt": [{ "language": "en", "text": "The rug, laid out" }, { "language": "mn", "text": "Хивс" }] }
    ]);
    app.gql(
        Some(&token),
        UPDATE_IMAGES,
        json!({ "id": product, "images": images }),
    )
    .await
    .expect_data();
    let r = app
        .gql(None, PRODUCT_IMAGES, json!({ "slug": "felt-rug" }))
        .await;
    let shown = r.expect_data()["product"]["images"]
        .as_array()
        .expect("images")
        .clone();
    assert_eq!(shown.len(), 3);
    assert_eq!(shown[0]["photoId"], second["id"]);
    assert_eq!(shown[0]["alt"], "The rug, rolled");
    assert_eq!(
        (shown[0]["width"].as_i64(), shown[0]["height"].as_i64()),
        (Some(300), Some(200))
    );
    // A 300 px photo has one rendition, its own width, whatever width is asked for.
    assert!(
        shown[0]["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/300.webp"))
    );
    assert!(
        shown[0]["jpeg"]
            .as_str()
            .is_some_and(|u| u.ends_with("/300.jpg"))
    );
    // The external photo keeps working as a plain address.
    assert_eq!(shown[1]["url"], "https://images.example.com/rug.jpg");
    assert_eq!(shown[1]["photoId"], Value::Null);
    assert_eq!(shown[1]["placeholder"], Value::Null);
    // Portrait after turning: 480×640.
    assert_eq!(shown[2]["width"], 480);
    assert_eq!(shown[2]["position"], 2);

    // Removing the first photo leaves it unreferenced: the sweep deletes it and its files.
    let keep = json!([{ "photoId": second["id"], "alt": [] }]);
    app.gql(
        Some(&token),
        UPDATE_IMAGES,
        json!({ "id": product, "images": keep }),
    )
    .await
    .expect_data();
    let before = app.stored_files().len();
    let swept = darkhan::media::sweep(&app.state).await.expect("swept");
    assert_eq!(swept.unattached, 1, "only the detached photo goes");
    assert!(app.stored_files().len() < before);
    let r = app
        .gql(Some(&token), SHOP_PHOTOS, json!({ "shop": shop.id }))
        .await;
    assert_eq!(r.expect_data()["shopPhotos"]["totalCount"], 1);

    // Logo, banner and portrait take photos uploaded for them, and only those.
    let logo = photo(
        &app.upload_photo(&token, &shop.id, "SHOP_LOGO", "logo.png", png(200, 200))
            .await,
    );
    let r = app
        .gql(
            Some(&token),
            "mutation($input: UpdateShopInput!) { updateShop(input: $input) { shop { logo { url width alt } banner { url } } } }",
            json!({ "input": { "shopId": shop.id, "logoPhotoId": logo["id"] } }),
        )
        .await;
    let updated = &r.expect_data()["updateShop"]["shop"];
    assert_eq!(updated["logo"]["width"], 200);
    assert_eq!(updated["banner"], Value::Null);
    let r = app
        .gql(
            Some(&token),
            "mutation($input: UpdateShopInput!) { updateShop(input: $input) { shop { id } } }",
            json!({ "input": { "shopId": shop.id, "bannerPhotoId": second["id"] } }),
        )
        .await;
    assert_eq!(
        r.code(),
        "BAD_USER_INPUT",
        "a product photo is no banner: {:?}",
        r.body
    );
    let portrait = photo(
        &app.upload_photo(
            &token,
            &shop.id,
            "MAKER_PORTRAIT",
            "me.jpg",
            phone_jpeg(400, 300),
        )
        .await,
    );
    let r = app
        .gql(
            Some(&token),
            "mutation($input: CreateMakerInput!) { createMaker(input: $input) { maker { portrait { width height alt } } } }",
            json!({ "input": { "shopId": shop.id, "name": "Bat", "region": "Khentii", "craft": "felt", "biography": [], "portraitPhotoId": portrait["id"] } }),
        )
        .await;
    let maker = &r.expect_data()["createMaker"]["maker"];
    assert_eq!(maker["portrait"]["width"], 300);
    assert_eq!(maker["portrait"]["alt"], "Bat");
    // Attached photos survive the sweep.
    assert_eq!(
        darkhan::media::sweep(&app.state)
            .await
            .expect("swept")
            .unattached,
        0
    );
}

#[tokio::test]
async fn only_the_shop_uploads_attaches_and_lists_its_photos() {
    let app = TestApp::spawn().await;
    let shop = app.shop("atelier", "MN").await;
    let other = app.shop("rival", "MN").await;
    let mine = photo(
        &app.upload_photo(
            &shop.owner.access,
            &shop.id,
            "PRODUCT",
            "a.jpg",
            phone_jpeg(320, 240),
        )
        .await,
    );
    // Uploading for another shop.
    let r = app
        .upload_photo(
            &other.owner.access,
            &shop.id,
            "PRODUCT",
            "x.jpg",
            phone_jpeg(320, 240),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = app
        .upload_photo("", &shop.id, "PRODUCT", "x.jpg", phone_jpeg(320, 240))
        .await;
    assert_eq!(r.code(), "UNAUTHENTICATED");
    // Attaching another shop's photo: refused, nothing changes.
    let theirs = app.published(&other, "bowl", json!({})).await;
    let r = app
        .gql(
            Some(&other.owner.access),
            UPDATE_IMAGES,
            json!({ "id": theirs, "images": [{ "photoId": mine["id"], "alt": [] }] }),
        )
        .await;
    assert_eq!(r.code(), "BAD_USER_INPUT");
    assert_eq!(r.field(), "images");
    let r = app
        .gql(
            None,
            "query { product(shopSlug: \"rival\", slug: \"bowl\") { images { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(r.expect_data()["product"]["images"], json!([]));
    // Listing and completing another shop's uploads.
    let r = app
        .gql(
            Some(&other.owner.access),
            SHOP_PHOTOS,
            json!({ "shop": shop.id }),
        )
        .await;
    assert_eq!(r.code(), "FORBIDDEN");
    let r = app
        .gql(
            Some(&other.owner.access),
            "mutation($id: ID!) { completeImageUpload(input: { photoId: $id }) { photo { id } } }",
            json!({ "id": mine["id"] }),
        )
        .await;
    assert_eq!(r.code(), "NOT_FOUND");
    let r = app
        .gql(
            Some(&shop.owner.access),
            SHOP_PHOTOS,
            json!({ "shop": shop.id }),
        )
        .await;
    assert_eq!(r.expect_data()["shopPhotos"]["totalCount"], 1);
}

/// Refused with its code and nothing stored.
async fn refused(app: &TestApp, token: &str, shop: &str, bytes: Vec<u8>, code: &str) {
    let r = app
        .upload_photo(token, shop, "PRODUCT", "photo.jpg", bytes)
        .await;
    assert_eq!(r.code(), code, "{:?}", r.body);
    assert!(
        !r.body["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .is_empty()
    );
}

#[tokio::test]
async fn bad_files_get_coded_errors_and_leave_nothing_behind() {
    let app =
        TestApp::spawn_with(|f| f.merge(Serialized::default("media.max_upload_bytes", 300_000)))
            .await;
    let shop = app.shop("atelier", "MN").await;
    let token = shop.owner.access.clone();
    refused(&app, &token, &shop.id, Vec::new(), "INVALID_IMAGE").await;
    let jpeg = phone_jpeg(400, 300);
    refused(
        &app,
        &token,
        &shop.id,
        jpeg[..jpeg.len() / 2].to_vec(),
        "INVALID_IMAGE",
    )
    .await;
    refused(
        &app,
        &token,
        &shop.id,
        b"PK\x03\x04\x14\0\0\0\x08\0zipped".to_vec(),
        "UNSUPPORTED_MEDIA",
    )
    .await;
    refused(
        &app,
        &token,
        &shop.id,
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj".to_vec(),
        "UNSUPPORTED_MEDIA",
    )
    .await;
    refused(&app, &token, &shop.id, png(1, 100_000), "INVALID_IMAGE").await;
    let mut bomb = phone_jpeg(64, 64);
    let sof = bomb
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("frame header");
    bomb[sof + 5..sof + 7].copy_from_slice(&30_000u16.to_be_bytes());
    bomb[sof + 7..sof + 9].copy_from_slice(&30_000u16.to_be_bytes());
    refused(&app, &token, &shop.id, bomb, "IMAGE_TOO_LARGE").await;
    refused(
        &app,
        &token,
        &shop.id,
        b"GIF89a\x10\0\x10\0\x80\0\0".to_vec(),
        "UNSUPPORTED_MEDIA",
    )
    .await;
    let mut animated = b"RIFF\x24\0\0\0WEBPVP8X\x0a\0\0\0\x02\0\0\0\x0f\0\0\x0f\0\0".to_vec();
    animated.extend_from_slice(b"ANIM\x06\0\0\0\0\0\0\0\0\0");
    refused(&app, &token, &shop.id, animated, "UNSUPPORTED_MEDIA").await;
    let heic = b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec();
    let r = app
        .upload_photo(&token, &shop.id, "PRODUCT", "IMG_1.HEIC", heic)
        .await;
    assert_eq!(r.code(), "UNSUPPORTED_MEDIA");
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("JPEG"))
    );
    // Over the limit: refused while it streams in, with 413.
    let r = app
        .upload_photo(
            &token,
            &shop.id,
            "PRODUCT",
            "huge.jpg",
            vec![0xFF; 2_000_000],
        )
        .await;
    assert_eq!((r.status, r.code()), (413, "PAYLOAD_TOO_LARGE"));

    let upload = |preflight: bool, map: Value, files: Vec<FilePart>| {
        app.multipart(
            Some(&token),
            json!({ "query": UPLOAD, "variables": { "input": { "shopId": shop.id, "purpose": "PRODUCT", "file": null } } }),
            map,
            files,
            preflight,
        )
    };
    let part = |name: &'static str| FilePart {
        name,
        filename: "a.jpg",
        content_type: "image/jpeg",
        bytes: phone_jpeg(64, 64),
    };
    let r = upload(
        false,
        json!({ "0": ["variables.input.file"] }),
        vec![part("0")],
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "PREFLIGHT_REQUIRED"));
    let r = upload(
        true,
        json!({ "0": ["variables.input.file"], "1": ["variables.input.file"] }),
        vec![part("0"), part("1")],
    )
    .await;
    assert_eq!((r.status, r.code()), (400, "BAD_REQUEST"));
    let r = upload(true, json!({ "0": ["variables.input.file"] }), vec![]).await;
    assert_eq!((r.status, r.code()), (400, "BAD_REQUEST"));
    assert!(
        r.body["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("missing"))
    );

    assert!(app.stored_files().is_empty(), "{:?}", app.stored_files());
    let r = app
        .gql(Some(&token), SHOP_PHOTOS, json!({ "shop": shop.id }))
        .await;
    assert_eq!(r.expect_data()["shopPhotos"]["totalCount"], 0);

    // A PNG named .jpg and declared image/jpeg is judged by its content: a PNG, accepted.
    let r = app
        .upload_photo(&token, &shop.id, "PRODUCT", "photo.jpg", png(64, 48))
        .await;
    assert_eq!(photo(&r)["sourceFormat"], "PNG");
}

const CREATE_UPLOAD: &str = "mutation($shop: ID!) { createImageUpload(input: { shopId: $shop, purpose: PRODUCT }) { photo { id status image { url } } uploadUrl uploadMethod expiresAt } }";
const COMPLETE_UPLOAD: &str = "mutation($id: ID!) { completeImageUpload(input: { photoId: $id }) { photo { id status image { url width height } } } }";

#[tokio::test]
async fn a_direct_upload_goes_to_a_one_time_address_then_is_processed() {
    let app = TestApp::spawn().await;
    let shop = app.shop("atelier", "MN").await;
    let token = shop.owner.access.clone();
    let r = app
        .gql(Some(&token), CREATE_UPLOAD, json!({ "shop": shop.id }))
        .await;
    let created = r.expect_data()["createImageUpload"].clone();
    assert_eq!(created["photo"]["status"], "PENDING");
    assert_eq!(created["photo"]["image"], Value::Null);
    assert_eq!(created["uploadMethod"], "PUT");
    let url = created["uploadUrl"].as_str().expect("url");
    let path = &url[url.find("/media/uploads/").expect("this server's address")..];
    let id = created["photo"]["id"].clone();
    // Completing before the bytes arrive says so.
    let r = app
        .gql(Some(&token), COMPLETE_UPLOAD, json!({ "id": id }))
        .await;
    assert_eq!(r.code(), "UPLOAD_INCOMPLETE");
    let put = app
        .http
        .put(app.url(path))
        .body(phone_jpeg(900, 600))
        .send()
        .await
        .expect("put");
    assert_eq!(put.status(), 204);
    // The address is used up.
    let again = app
        .http
        .put(app.url(path))
        .body(png(20, 20))
        .send()
        .await
        .expect("put");
    assert_eq!(again.status(), 404);
    let r = app
        .gql(Some(&token), COMPLETE_UPLOAD, json!({ "id": id }))
        .await;
    let done = &r.expect_data()["completeImageUpload"]["photo"];
    assert_eq!(done["status"], "READY");
    assert_eq!(
        (
            done["image"]["width"].as_i64(),
            done["image"]["height"].as_i64()
        ),
        (Some(600), Some(900))
    );
    let res = app
        .media(done["image"]["url"].as_str().expect("url"), &[])
        .await;
    assert_eq!(res.status(), 200);
    assert!(!carries_metadata(&res.bytes().await.expect("bytes")));

    // A file that is no photo is refused at the address, and the pending upload stays
    // usable for the right file.
    let r = app
        .gql(Some(&token), CREATE_UPLOAD, json!({ "shop": shop.id }))
        .await;
    let created = r.expect_data()["createImageUpload"].clone();
    let url = created["uploadUrl"].as_str().expect("url");
    let path = &url[url.find("/media/uploads/").expect("address")..];
    let res = app
        .http
        .put(app.url(path))
        .body(b"%PDF-1.4".to_vec())
        .send()
        .await
        .expect("put");
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNSUPPORTED_MEDIA");

    // Unfinished uploads are removed once they expire.
    let state = app.state.clone();
    darkhan::entities::images::Entity::update_many()
        .col_expr(
            darkhan::entities::images::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
        )
        .filter(
            darkhan::entities::images::Column::Status
                .eq(darkhan::entities::images::ImageStatus::Pending),
        )
        .exec(&state.db)
        .await
        .expect("aged");
    let swept = darkhan::media::sweep(&state).await.expect("swept");
    assert_eq!(swept.pending, 1);
    let r = app
        .gql(Some(&token), SHOP_PHOTOS, json!({ "shop": shop.id }))
        .await;
    assert_eq!(r.expect_data()["shopPhotos"]["totalCount"], 1);
}

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

#[tokio::test]
async fn with_s3_storage_renditions_live_in_the_bucket_and_uploads_go_straight_to_it() {
    let s3 = S3Server::start().await;
    let public = format!("{}/{}", s3.endpoint, s3.bucket);
    let endpoint = s3.endpoint.clone();
    let bucket = s3.bucket;
    let app = TestApp::spawn_with(move |f| {
        f.merge(Serialized::default("media.storage", "s3"))
            .merge(Serialized::default("media.public_base_url", public))
            .merge(Serialized::default("media.s3.endpoint", endpoint))
            .merge(Serialized::default("media.s3.bucket", bucket))
            .merge(Serialized::default("media.s3.access_key_id", "testing"))
            .merge(Serialized::default("media.s3.secret_access_key", "testing"))
    })
    .await;
    let shop = app.shop("atelier", "MN").await;
    let token = shop.owner.access.clone();
    let r = app
        .upload_photo(&token, &shop.id, "PRODUCT", "a.jpg", phone_jpeg(500, 400))
        .await;
    let photo = photo(&r);
    let url = photo["image"]["url"].as_str().expect("url");
    assert!(
        url.starts_with(&format!("{}/{}/i/", s3.endpoint, s3.bucket)),
        "{url}"
    );
    let id = photo["id"].as_str().expect("id");
    let stored = in_bucket(&app, &format!("i/{id}/160.webp"))
        .await
        .expect("in the bucket");
    assert!(!carries_metadata(&stored));
    // This server also serves what the bucket holds (e.g. when a CDN pulls from it).
    let res = app.media(&format!("/media/i/{id}/160.webp"), &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.bytes().await.expect("bytes").as_ref(),
        stored.as_slice()
    );
    assert!(app.stored_files().is_empty(), "nothing on local disk");

    // The direct path: a presigned PUT to the bucket itself.
    let r = app
        .gql(Some(&token), CREATE_UPLOAD, json!({ "shop": shop.id }))
        .await;
    let created = r.expect_data()["createImageUpload"].clone();
    let upload_url = created["uploadUrl"].as_str().expect("url");
    assert!(
        upload_url.starts_with(&s3.endpoint) && upload_url.contains("X-Amz-Signature"),
        "{upload_url}"
    );
    let put = reqwest::Client::new()
        .put(upload_url)
        .body(phone_jpeg(700, 500))
        .send()
        .await
        .expect("put");
    assert!(put.status().is_success(), "{}", put.status());
    let r = app
        .gql(
            Some(&token),
            COMPLETE_UPLOAD,
            json!({ "id": created["photo"]["id"] }),
        )
        .await;
    let done = &r.expect_data()["completeImageUpload"]["photo"];
    assert_eq!(done["image"]["width"], 500);
    let id = done["id"].as_str().expect("id");
    assert!(in_bucket(&app, &format!("i/{id}/500.jpg")).await.is_some());
    assert!(
        in_bucket(&app, &format!("uploads/{id}")).await.is_none(),
        "the raw upload is gone"
    );
}

/// An object read from the bucket with the server's credentials (moto, like S3, keeps objects
/// private unless a bucket policy says otherwise).
async fn in_bucket(app: &TestApp, key: &str) -> Option<Vec<u8>> {
    app.state
        .storage
        .get(key)
        .await
        .expect("bucket readable")
        .map(|o| o.bytes.to_vec())
}

#[tokio::test]
async fn a_full_processing_queue_asks_to_retry_later() {
    let app = TestApp::spawn_with(|f| {
        f.merge(Serialized::default("media.processing_workers", 1))
            .merge(Serialized::default("media.processing_queue", 0))
    })
    .await;
    let shop = app.shop("atelier", "MN").await;
    let big = phone_jpeg(3000, 2000);
    let uploads = (0..4).map(|_| {
        app.upload_photo(
            &shop.owner.access,
            &shop.id,
            "PRODUCT",
            "big.jpg",
            big.clone(),
        )
    });
    let replies = futures_util::future::join_all(uploads).await;
    let busy: Vec<_> = replies
        .iter()
        .filter(|r| r.code() == "TOO_MANY_REQUESTS")
        .collect();
    assert!(!busy.is_empty(), "one worker, no queue, four at once");
    assert!(
        busy[0].body["errors"][0]["extensions"]["retryAfter"]
            .as_u64()
            .is_some_and(|s| s >= 1)
    );
    assert!(
        replies.iter().any(|r| r.code().is_empty()),
        "the first one is processed"
    );
}

#[tokio::test]
async fn a_shop_over_its_quota_is_refused_and_keeps_nothing_of_the_refused_photo() {
    let app =
        TestApp::spawn_with(|f| f.merge(Serialized::default("media.shop_quota_bytes", 30_000)))
            .await;
    let shop = app.shop("atelier", "MN").await;
    let token = shop.owner.access.clone();
    let first = app
        .upload_photo(&token, &shop.id, "PRODUCT", "a.jpg", phone_jpeg(400, 300))
        .await;
    let used = photo(&first)["storedBytes"].as_i64().expect("bytes");
    assert!(used > 0 && used < 30_000, "{used}");
    let files = app.stored_files().len();
    let mut refused = None;
    for _ in 0..10 {
        let r = app
            .upload_photo(&token, &shop.id, "PRODUCT", "b.jpg", phone_jpeg(400, 300))
            .await;
        if !r.code().is_empty() {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("the quota runs out");
    assert_eq!(r.code(), "QUOTA_EXCEEDED");
    let r2 = app
        .gql(Some(&token), SHOP_PHOTOS, json!({ "shop": shop.id }))
        .await;
    let kept = r2.expect_data()["shopPhotos"]["totalCount"]
        .as_u64()
        .expect("count") as usize;
    assert_eq!(
        app.stored_files().len(),
        files * kept,
        "only the accepted photos' files stay"
    );
}
