//! `darkhan seed-demo`: a realistic, deterministic catalogue (50 shops, 2,000 products) so a
//! new user sees a living marketplace and the benchmark has data.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set,
};
use uuid::Uuid;

use crate::{
    accounts::password,
    entities::{
        collection_products, collections, exchange_rates, makers, product_images, product_makers,
        product_materials, product_translations, product_variants,
        products::{self, ProductStatus},
        shipping_profiles, shipping_zones,
        shops::{self, ShopStatus},
        users::{self, Role},
    },
    error::{AppError, AppResult},
};

/// The password of every demo artisan (`artisan1@demo.darkhan.mn` …).
pub const DEMO_PASSWORD: &str = "darkhan-demo-password";

/// What was created.
pub struct Seeded {
    pub shops: usize,
    pub products: usize,
    pub variants: usize,
}

/// A small deterministic generator, so every seeded database is the same.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// (category slug, Mongolian name, English name, materials, HS code, weight in grams)
type Kind = (
    &'static str,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    i32,
);

const KINDS: &[Kind] = &[
    (
        "felt-rugs",
        "ширдэг",
        "shirdeg rug",
        &["sheep wool", "felt"],
        "570500",
        4000,
    ),
    (
        "felt-slippers",
        "эсгий гутал",
        "felt slippers",
        &["sheep wool", "felt"],
        "640590",
        600,
    ),
    (
        "felt-toys",
        "эсгий тоглоом",
        "felt toy",
        &["felt"],
        "950300",
        150,
    ),
    (
        "cashmere-scarves",
        "ноолууран ороолт",
        "cashmere scarf",
        &["cashmere"],
        "621420",
        200,
    ),
    (
        "knitwear",
        "ноосон цамц",
        "wool sweater",
        &["yak wool", "camel wool"],
        "611012",
        500,
    ),
    (
        "mongol-boots",
        "монгол гутал",
        "mongol boots",
        &["leather"],
        "640391",
        1800,
    ),
    (
        "silver-metalwork",
        "мөнгөн аяга",
        "silver bowl",
        &["silver", "wood"],
        "711411",
        350,
    ),
    (
        "wood-carving",
        "модон шатар",
        "carved chess set",
        &["larch wood"],
        "442090",
        1200,
    ),
    (
        "mongol-zurag",
        "монгол зураг",
        "mongol zurag painting",
        &["mineral pigments", "cotton canvas"],
        "970110",
        800,
    ),
    (
        "calligraphy",
        "монгол бичиг",
        "mongol script calligraphy",
        &["ink", "paper"],
        "970190",
        300,
    ),
    ("deel", "дээл", "deel", &["silk", "cotton"], "621149", 1500),
    (
        "ceramics",
        "шаазан аяга",
        "ceramic bowl",
        &["clay"],
        "691200",
        700,
    ),
    (
        "morin-khuur",
        "морин хуур",
        "morin khuur",
        &["wood", "horsehair"],
        "920290",
        3500,
    ),
    (
        "jewellery",
        "мөнгөн бөгж",
        "silver ring",
        &["silver", "coral"],
        "711311",
        20,
    ),
    (
        "dolls-toys",
        "хүүхэлдэй",
        "doll in deel",
        &["cotton", "felt"],
        "950300",
        250,
    ),
    (
        "ger-furnishings",
        "гэрийн тавилга",
        "ger furniture",
        &["pine wood", "paint"],
        "940360",
        15000,
    ),
    (
        "bone-horn",
        "ясан сийлбэр",
        "bone carving",
        &["bone"],
        "960190",
        180,
    ),
];

const STYLES: &[(&str, &str)] = &[
    ("улаан", "red"),
    ("хөх", "blue"),
    ("ногоон", "green"),
    ("цагаан", "white"),
    ("хар", "black"),
    ("шар", "golden"),
    ("уламжлалт", "traditional"),
    ("орчин үеийн", "modern"),
    ("хээтэй", "patterned"),
    ("гар хийцийн", "handcrafted"),
];

const REGIONS: &[&str] = &[
    "Arkhangai",
    "Bayan-Ölgii",
    "Khovd",
    "Töv",
    "Övörkhangai",
    "Khentii",
    "Dornod",
    "Govi-Altai",
    "Uvs",
    "Zavkhan",
    "Bayankhongor",
    "Khövsgöl",
    "Selenge",
    "Ulaanbaatar",
];

const NAMES: &[&str] = &[
    "Батбаяр",
    "Сарангэрэл",
    "Тэмүүлэн",
    "Оюунчимэг",
    "Ганбаатар",
    "Нарантуяа",
    "Мөнхбат",
    "Цэцэгмаа",
    "Болд",
    "Энхжаргал",
    "Дорж",
    "Солонго",
    "Төмөр",
    "Алтанцэцэг",
];

const SIZES: &[&str] = &["S", "M", "L", "XL"];
const COLOURS: &[&str] = &["natural", "red", "blue", "black"];

/// Fills an empty catalogue. Refuses when shops already exist, so it never mixes with real data.
pub async fn seed(db: &DatabaseConnection) -> AppResult<Seeded> {
    if shops::Entity::find().count(db).await? > 0 {
        return Err(AppError::Conflict(
            "the database already has shops; seed-demo needs an empty catalogue".into(),
        ));
    }
    let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
    let categories: Vec<(String, Uuid)> = crate::catalog::taxonomy::all_categories(db)
        .await?
        .into_iter()
        .map(|c| (c.slug, c.id))
        .collect();
    let mut rng = Lcg(2026);
    let txn = crate::db::begin_write(db).await?;
    let base_time = Utc::now() - Duration::days(30);
    let (mut product_count, mut variant_count) = (0, 0);
    let mut featured = Vec::new();

    for (base, quote, rate) in [
        ("USD", "MNT", "3450"),
        ("EUR", "MNT", "3720"),
        ("GBP", "MNT", "4350"),
        ("JPY", "MNT", "23.1"),
        ("KRW", "MNT", "2.48"),
        ("CNY", "MNT", "478"),
    ] {
        exchange_rates::ActiveModel {
            base: Set(base.into()),
            quote: Set(quote.into()),
            rate: Set(rate.into()),
            updated_at: Set(Utc::now()),
        }
        .insert(&txn)
        .await?;
    }

    for s in 0..50 {
        let region = *rng.pick(REGIONS);
        let (_, _, craft_en, _, _, _) = KINDS[s % KINDS.len()];
        let owner = Uuid::now_v7();
        let now = base_time + Duration::minutes(s as i64);
        users::ActiveModel {
            id: Set(owner),
            email: Set(format!("artisan{}@demo.darkhan.mn", s + 1)),
            password_hash: Set(hash.clone()),
            display_name: Set(NAMES[s % NAMES.len()].to_owned()),
            role: Set(Role::Artisan),
            country: Set("MN".into()),
            preferred_language: Set("mn".into()),
            preferred_currency: Set("MNT".into()),
            email_verified_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&txn)
        .await?;
        let shop_id = Uuid::now_v7();
        let slug = format!(
            "{}-{}",
            region
                .to_lowercase()
                .replace(['ö', 'ü'], "o")
                .replace(' ', "-"),
            s + 1
        );
        shops::ActiveModel {
            id: Set(shop_id),
            owner_id: Set(owner),
            slug: Set(slug),
            name: Set(format!("{region} {craft_en} workshop")),
            country: Set("MN".into()),
            region: Set(region.into()),
            settlement_currency: Set("MNT".into()),
            default_language: Set("mn".into()),
            story: Set(serde_json::json!({
                "mn": format!("{region} аймгийн гар урчуудын гэр бүлийн урлан."),
                "en": format!("A family workshop of {region} craftspeople, making {craft_en}s by hand."),
            }).to_string()),
            status: Set(ShopStatus::Active),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        // Every demo shop ships everywhere, cheaper within Asia.
        let profile = Uuid::now_v7();
        shipping_profiles::ActiveModel {
            id: Set(profile),
            shop_id: Set(shop_id),
            name: Set("Parcels".into()),
            is_default: Set(true),
            created_at: Set(now),
        }
        .insert(&txn)
        .await?;
        for (position, (name, countries, first, extra, min, max)) in [
            (
                "Asia",
                "[\"MN\",\"CN\",\"JP\",\"KR\"]",
                1_500_000,
                500_000,
                3,
                10,
            ),
            ("Rest of the world", "[]", 4_500_000, 1_000_000, 7, 21),
        ]
        .into_iter()
        .enumerate()
        {
            shipping_zones::ActiveModel {
                id: Set(Uuid::now_v7()),
                shop_id: Set(shop_id),
                profile_id: Set(profile),
                name: Set(name.into()),
                countries: Set(countries.into()),
                first_item_minor: Set(first),
                additional_item_minor: Set(extra),
                min_days: Set(min),
                max_days: Set(max),
                position: Set(position as i32),
            }
            .insert(&txn)
            .await?;
        }
        let mut maker_ids = Vec::new();
        for m in 0..2 {
            let id = Uuid::now_v7();
            let name = NAMES[(s * 2 + m) % NAMES.len()];
            // Most makers consent to be counted by gender, age and cooperative membership;
            // without consent nothing is recorded.
            let consented = rng.below(4) > 0;
            let gender = if rng.below(3) > 0 { "FEMALE" } else { "MALE" };
            let born = 1950 + rng.below(52) as i32;
            let cooperative = rng.below(3) == 0;
            makers::ActiveModel {
                id: Set(id),
                shop_id: Set(shop_id),
                name: Set(name.into()),
                region: Set(region.into()),
                craft: Set(craft_en.into()),
                years_practising: Set(Some(5 + rng.below(40) as i32)),
                biography: Set(serde_json::json!({
                    "mn": format!("{name} олон жил урласан."),
                    "en": format!("{name} has practised the craft for many years in {region}."),
                })
                .to_string()),
                portrait_image_id: Set(None),
                created_at: Set(now),
                statistics_consent_at: Set(consented.then_some(now)),
                gender: Set(consented.then(|| gender.into())),
                birth_year: Set(consented.then_some(born)),
                cooperative_member: Set(consented.then_some(cooperative)),
            }
            .insert(&txn)
            .await?;
            maker_ids.push(id);
        }

        let mut rows = Vec::new();
        let mut translations = Vec::new();
        let mut materials = Vec::new();
        let mut variants = Vec::new();
        let mut images = Vec::new();
        let mut credits = Vec::new();
        let mut ids = Vec::new();
        for p in 0..40 {
            let (category, kind_mn, kind_en, mats, hs, weight) = *rng.pick(KINDS);
            let (style_mn, style_en) = *rng.pick(STYLES);
            let id = Uuid::now_v7();
            let price = (20 + rng.below(600) as i64) * 100_000; // 20,000 to 620,000 MNT
            let made_to_order = rng.below(5) == 0;
            let title_mn = format!("{} {}", capitalise(style_mn), kind_mn);
            let title_en = format!("{} {}", capitalise(style_en), kind_en);
            let description_en = format!("A {style_en} {kind_en} made by hand in {region}.");
            let description_mn = format!("{region} аймагт гараар хийсэн {style_mn} {kind_mn}.");
            let created = now + Duration::seconds((p * 60 + s) as i64);
            rows.push(products::ActiveModel {
                id: Set(id),
                shop_id: Set(shop_id),
                slug: Set(format!("{}-{}", kind_en.replace(' ', "-"), p + 1)),
                status: Set(ProductStatus::Active),
                category_id: Set(categories.iter().find(|c| c.0 == category).map(|c| c.1)),
                price_minor: Set(price),
                currency: Set("MNT".into()),
                sort_price: Set(price),
                handmade: Set(true),
                made_to_order: Set(made_to_order),
                processing_days: Set(if made_to_order { 14 } else { 3 }),
                origin_region: Set(Some(region.into())),
                hs_code: Set(Some(hs.into())),
                weight_grams: Set(Some(weight)),
                materials: Set(serde_json::to_string(mats).unwrap_or_default()),
                techniques: Set("[\"handmade\"]".into()),
                created_at: Set(created),
                updated_at: Set(created),
                published_at: Set(Some(created)),
                shipping_profile_id: Set(None),
                rating_count: Set(0),
                rating_sum: Set(0),
                rating_score: Set(0),
            });
            for (language, title, description) in [
                ("mn", &title_mn, &description_mn),
                ("en", &title_en, &description_en),
            ] {
                translations.push(product_translations::ActiveModel {
                    product_id: Set(id),
                    language: Set(language.into()),
                    title: Set(title.clone()),
                    description: Set(description.clone()),
                });
            }
            for m in mats.iter() {
                materials.push(product_materials::ActiveModel {
                    product_id: Set(id),
                    material: Set(m.to_lowercase()),
                });
            }
            let n_variants = 2 + rng.below(3);
            for v in 0..n_variants {
                variants.push(product_variants::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    product_id: Set(id),
                    shop_id: Set(shop_id),
                    sku: Set(format!("S{}-P{}-{}", s + 1, p + 1, v + 1)),
                    options: Set(serde_json::json!([
                        { "name": "size", "value": SIZES[v % SIZES.len()] },
                        { "name": "colour", "value": COLOURS[(v + p) % COLOURS.len()] },
                    ])
                    .to_string()),
                    price_override_minor: Set((v == 3).then_some(price + 1_000_000)),
                    stock: Set(rng.below(12) as i32),
                    position: Set(v as i32),
                    created_at: Set(created),
                });
            }
            variant_count += n_variants;
            for i in 0..2 {
                images.push(product_images::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    product_id: Set(id),
                    url: Set(format!("https://images.darkhan.mn/demo/{}/{}-{}.jpg", category, p + 1, i + 1)),
                    image_id: Set(None),
                    alt: Set(serde_json::json!({ "en": format!("{title_en}, view {}", i + 1), "mn": title_mn.clone() }).to_string()),
                    position: Set(i),
                });
            }
            let maker = maker_ids[p % maker_ids.len()];
            credits.push(product_makers::ActiveModel {
                product_id: Set(id),
                maker_id: Set(maker),
                role: Set("maker".into()),
                position: Set(0),
            });
            ids.push(id);
            if p == 0 && s < 12 {
                featured.push(id);
            }
        }
        product_count += rows.len();
        products::Entity::insert_many(rows).exec(&txn).await?;
        product_translations::Entity::insert_many(translations)
            .exec(&txn)
            .await?;
        product_materials::Entity::insert_many(materials)
            .exec(&txn)
            .await?;
        for chunk in variants.chunks(100) {
            product_variants::Entity::insert_many(chunk.to_vec())
                .exec(&txn)
                .await?;
        }
        product_images::Entity::insert_many(images)
            .exec(&txn)
            .await?;
        product_makers::Entity::insert_many(credits)
            .exec(&txn)
            .await?;
        // The same document builder as every product change, so search finds seeded
        // products by everything it finds real ones by.
        crate::catalog::products::reindex_products(&txn, &ids).await?;
    }

    let collection = Uuid::now_v7();
    collections::ActiveModel {
        id: Set(collection),
        shop_id: Set(None),
        slug: Set("naadam-gifts".into()),
        names: Set(serde_json::json!({ "mn": "Наадмын бэлэг", "en": "Naadam gifts" }).to_string()),
        descriptions: Set(
            serde_json::json!({ "en": "Twelve makers, twelve gifts for the summer festival." })
                .to_string(),
        ),
        featured: Set(true),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await?;
    for (position, product) in featured.into_iter().enumerate() {
        collection_products::ActiveModel {
            collection_id: Set(collection),
            product_id: Set(product),
            position: Set(position as i32),
        }
        .insert(&txn)
        .await?;
    }
    txn.commit().await?;
    // Fresh planner statistics: without them PostgreSQL plans the search join as if the
    // tables were empty (22 ms instead of 0.7 ms per query, measured).
    db.execute_unprepared("ANALYZE").await?;
    if db.get_database_backend() == sea_orm::DbBackend::Sqlite {
        // Sampled statistics (STAT4) make SQLite plan again, at every run, each statement
        // whose parameters meet a sampled index: 14 % of a product page's CPU, measured. The
        // per-index averages (STAT1) are kept; "ANALYZE sqlite_schema" reloads them.
        db.execute_unprepared("DELETE FROM sqlite_stat4").await?;
        db.execute_unprepared("ANALYZE sqlite_schema").await?;
    }
    Ok(Seeded {
        shops: 50,
        products: product_count,
        variants: variant_count,
    })
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What [`history`] wrote.
pub struct History {
    pub buyers: usize,
    pub orders: usize,
    pub lines: usize,
}

/// Destinations and how many of the buyers live there (Mongolia first: half the trade is
/// domestic, then the diaspora and collectors abroad).
const BUYER_COUNTRIES: &[(&str, u32)] = &[
    ("MN", 30),
    ("US", 10),
    ("DE", 8),
    ("JP", 7),
    ("KR", 7),
    ("GB", 5),
    ("FR", 4),
    ("CN", 4),
    ("CA", 3),
    ("AU", 3),
    ("IT", 2),
    ("ES", 2),
    ("NL", 2),
    ("SE", 2),
    ("CH", 2),
    ("AT", 1),
    ("BE", 1),
    ("DK", 1),
    ("NO", 1),
    ("PL", 1),
    ("CZ", 1),
    ("IE", 1),
    ("NZ", 1),
    ("SG", 1),
    ("HK", 1),
    ("TW", 1),
    ("RU", 1),
    ("KZ", 1),
    ("TR", 1),
    ("IL", 1),
];

/// How busy a month is for buyers in `country`: Tsagaan Sar (February) and Naadam (July)
/// at home, Naadam's visitors and Christmas abroad.
fn season(month: u32, country: &str) -> f64 {
    match (country == "MN", month) {
        (true, 2) => 2.2,
        (true, 7) => 2.5,
        (true, 12) => 1.3,
        (false, 7) => 1.6,
        (false, 11) => 1.7,
        (false, 12) => 2.4,
        (_, 1) => 0.7,
        _ => 1.0,
    }
}

/// Adds a year of paid orders to a seeded demo catalogue: about `per_day` a day on average,
/// with Mongolia's and the world's seasons, from buyers in 30 countries, some refunded in
/// part and some cancelled in full, shipped and delivered as time allows; then rebuilds the
/// market statistics from them. History orders are for the statistics and the shops' order
/// lists; they carry no payments or ledger entries.
pub async fn history(db: &DatabaseConnection, per_day: usize) -> AppResult<History> {
    use crate::entities::{
        checkouts, order_events, order_lines,
        orders::{self, OrderStatus},
    };
    let shops: Vec<shops::Model> = shops::Entity::find().all(db).await?;
    if shops.is_empty() {
        return Err(AppError::Conflict("seed the demo catalogue first".into()));
    }
    let products: Vec<products::Model> = products::Entity::find().all(db).await?;
    let variants: Vec<product_variants::Model> = product_variants::Entity::find().all(db).await?;
    let mut first_variant: std::collections::HashMap<Uuid, &product_variants::Model> =
        std::collections::HashMap::new();
    for v in &variants {
        first_variant.entry(v.product_id).or_insert(v);
    }
    let mut by_shop: std::collections::HashMap<Uuid, Vec<&products::Model>> =
        std::collections::HashMap::new();
    for p in &products {
        if first_variant.contains_key(&p.id) {
            by_shop.entry(p.shop_id).or_default().push(p);
        }
    }
    let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
    let mut rng = Lcg(1921);
    let txn = crate::db::begin_write(db).await?;
    let now = Utc::now();
    let start = now - Duration::days(365);
    let mut buyers: Vec<(Uuid, &str)> = Vec::new();
    let mut n = 0;
    for (country, weight) in BUYER_COUNTRIES {
        for _ in 0..weight * 12 {
            n += 1;
            let id = Uuid::now_v7();
            users::ActiveModel {
                id: Set(id),
                email: Set(format!("buyer{n}@demo.darkhan.mn")),
                password_hash: Set(hash.clone()),
                display_name: Set(format!("Buyer {n}")),
                role: Set(Role::Buyer),
                country: Set((*country).into()),
                preferred_language: Set(if *country == "MN" { "mn" } else { "en" }.into()),
                preferred_currency: Set(if *country == "MN" { "MNT" } else { "USD" }.into()),
                email_verified_at: Set(Some(start)),
                created_at: Set(start),
                updated_at: Set(start),
            }
            .insert(&txn)
            .await?;
            buyers.push((id, country));
        }
    }
    let (mut checkout_rows, mut order_rows, mut line_rows, mut event_rows) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut order_count, mut line_count) = (0, 0);
    for day in 0..365 {
        let date = start + Duration::days(day);
        let month = chrono::Datelike::month(&date);
        // Each buyer country's share of the day's orders, scaled by its season.
        let today = (per_day as f64 * (0.6 + rng.below(80) as f64 / 100.0)) as usize;
        for _ in 0..today {
            let (buyer, country) = buyers[rng.below(buyers.len())];
            if rng.below(100) as f64 >= 100.0 * season(month, country) / 2.5 {
                continue;
            }
            let shop = &shops[rng.below(shops.len())];
            let Some(items) = by_shop.get(&shop.id) else {
                continue;
            };
            let paid_at = date + Duration::minutes(rng.below(24 * 60) as i64);
            let (checkout_id, order_id) = (Uuid::now_v7(), Uuid::now_v7());
            let mut subtotal = 0;
            for position in 0..1 + rng.below(3) {
                let p = items[rng.below(items.len())];
                let v = first_variant[&p.id];
                let quantity = 1 + (rng.below(10) == 0) as i32;
                let unit = v.price_override_minor.unwrap_or(p.price_minor);
                subtotal += unit * i64::from(quantity);
                line_count += 1;
                line_rows.push(order_lines::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    order_id: Set(order_id),
                    product_id: Set(p.id),
                    variant_id: Set(v.id),
                    title: Set(v.sku.clone()),
                    title_en: Set(v.sku.clone()),
                    sku: Set(v.sku.clone()),
                    unit_price_minor: Set(unit),
                    shop_unit_price_minor: Set(unit),
                    quantity: Set(quantity),
                    hs_code: Set(p.hs_code.clone()),
                    origin_country: Set("MN".into()),
                    weight_grams: Set(p.weight_grams),
                    position: Set(position as i32),
                    discount_minor: Set(0),
                    shop_discount_minor: Set(0),
                });
            }
            let shipping = if country == "MN" { 800_000 } else { 4_000_000 };
            let total = subtotal + shipping;
            let roll = rng.below(100);
            let refunded = match roll {
                0..=3 => total,
                4..=10 => total / 5,
                _ => 0,
            };
            let age = (now - paid_at).num_days();
            let shipped_after = 1 + rng.below(6) as i64;
            let delivered_after = shipped_after + 5 + rng.below(20) as i64;
            let status = if refunded == total {
                OrderStatus::Cancelled
            } else if age > delivered_after {
                OrderStatus::Delivered
            } else if age > shipped_after {
                OrderStatus::Shipped
            } else {
                OrderStatus::Paid
            };
            if matches!(status, OrderStatus::Shipped | OrderStatus::Delivered) {
                event_rows.push(order_events::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    order_id: Set(order_id),
                    from_status: Set(Some(OrderStatus::Paid)),
                    to_status: Set(OrderStatus::Shipped),
                    actor_id: Set(None),
                    note: Set(None),
                    created_at: Set(paid_at + Duration::days(shipped_after)),
                });
            }
            let method = if rng.below(4) == 0 {
                "BANK_TRANSFER"
            } else {
                "CARD"
            };
            let address = serde_json::json!({ "name": "Demo buyer", "line1": "1 Demo Street",
                "city": "Demo", "postalCode": "00000", "country": country, "phone": "+000" })
            .to_string();
            checkout_rows.push(checkouts::ActiveModel {
                id: Set(checkout_id),
                buyer_id: Set(buyer),
                idempotency_key: Set(format!("demo-history-{checkout_id}")),
                currency: Set("MNT".into()),
                total_minor: Set(total),
                payment_method: Set(method.into()),
                shipping_address: Set(address.clone()),
                request_digest: Set(None),
                payment_reference: Set(None),
                reminded_at: Set(None),
                created_at: Set(paid_at),
            });
            order_count += 1;
            order_rows.push(orders::ActiveModel {
                id: Set(order_id),
                checkout_id: Set(checkout_id),
                shop_id: Set(shop.id),
                buyer_id: Set(buyer),
                number: Set(format!("DK-H{order_count:07}")),
                status: Set(status),
                currency: Set("MNT".into()),
                subtotal_minor: Set(subtotal),
                shipping_minor: Set(shipping),
                total_minor: Set(total),
                shop_currency: Set("MNT".into()),
                shop_subtotal_minor: Set(subtotal),
                shop_shipping_minor: Set(shipping),
                shop_total_minor: Set(total),
                exchange_rate: Set("1/1".into()),
                shipping_address: Set(address),
                carrier: Set(None),
                tracking_number: Set(None),
                created_at: Set(paid_at),
                updated_at: Set(paid_at),
                expires_at: Set(paid_at + Duration::minutes(30)),
                paid_at: Set(Some(paid_at)),
                commission_bps: Set(shop.commission_bps.unwrap_or(1000)),
                refunded_minor: Set(refunded),
                delivered_at: Set((status == OrderStatus::Delivered)
                    .then(|| paid_at + Duration::days(delivered_after))),
                discount_minor: Set(0),
                shop_discount_minor: Set(0),
                promotion_id: Set(None),
                discount_funded_by: Set(None),
                utm_source: Set(None),
                utm_medium: Set(None),
                utm_campaign: Set(None),
                referrer: Set(None),
                rate_to_mnt: Set(Some("1/1".into())),
                // A year of a slowly strengthening tögrög: the rate locked moves with the day.
                rate_to_usd: Set(Some(format!("1/{}", 3550 - day / 4))),
            });
        }
        if checkout_rows.len() >= 500 || day == 364 {
            flush_history(
                &txn,
                &mut checkout_rows,
                &mut order_rows,
                &mut line_rows,
                &mut event_rows,
            )
            .await?;
        }
    }
    txn.commit().await?;
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // The catalogue's ANALYZE saw no orders: with those statistics PostgreSQL reads every
        // order line for each batch of orders the statistics rebuild asks about (160 ms
        // instead of 6 ms a batch, measured on a million lines).
        db.execute_unprepared("ANALYZE").await?;
    }
    Ok(History {
        buyers: buyers.len(),
        orders: order_count,
        lines: line_count,
    })
}

async fn flush_history(
    txn: &sea_orm::DatabaseTransaction,
    checkouts: &mut Vec<crate::entities::checkouts::ActiveModel>,
    orders: &mut Vec<crate::entities::orders::ActiveModel>,
    lines: &mut Vec<crate::entities::order_lines::ActiveModel>,
    events: &mut Vec<crate::entities::order_events::ActiveModel>,
) -> AppResult<()> {
    use crate::entities::{checkouts as c, order_events as e, order_lines as l, orders as o};
    for chunk in std::mem::take(checkouts).chunks(500) {
        c::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in std::mem::take(orders).chunks(300) {
        o::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in std::mem::take(lines).chunks(500) {
        l::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    for chunk in std::mem::take(events).chunks(500) {
        e::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}
