//! Products as shopping channels and shared pages describe them: text in one language,
//! prices in one currency (sales included), photos, the category path, shipping to one
//! country. Assembled a batch at a time with a fixed number of queries, whatever its size.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::{
    catalog::{sales, texts::Texts},
    config::Settings,
    entities::{
        categories, product_images, product_translations, product_variants, products, shops,
    },
    error::AppResult,
    i18n::pick_language,
    media,
    money::{Currency, Money, Rates},
    orders::shipping,
};

/// Who a listing is written for: a country, the currency shown there, and a language.
#[derive(Debug, Clone)]
pub struct Audience {
    pub country: Option<String>,
    pub currency: Currency,
    pub language: String,
}

/// One variant's offer.
#[derive(Debug, Clone)]
pub struct VariantOffer {
    pub id: Uuid,
    pub sku: String,
    /// The list price in the audience's currency.
    pub price: Money,
    /// The sale price, with when the sale started and ends, while one lowers it.
    pub sale: Option<(Money, DateTime<Utc>, DateTime<Utc>)>,
    pub stock: i32,
    pub options: Vec<(String, String)>,
}

/// Shipping one unit to the audience's country.
#[derive(Debug, Clone)]
pub struct ShippingOffer {
    pub country: String,
    pub cost: Money,
    pub min_days: i32,
    pub max_days: i32,
}

/// A product as a channel shows it.
#[derive(Debug, Clone)]
pub struct Listing {
    pub product: products::Model,
    pub shop: shops::Model,
    /// The language the text is really in (the audience's, or the fallback).
    pub language: String,
    /// Every language the product is written in.
    pub languages: Vec<String>,
    pub title: String,
    pub description: String,
    /// Photo addresses, the main one first.
    pub photos: Vec<String>,
    /// Category names from the top, in the audience's language.
    pub category_path: Vec<String>,
    /// The slug of the top-level category, for channel taxonomies.
    pub category_slugs: Vec<String>,
    pub variants: Vec<VariantOffer>,
    pub shipping: Option<ShippingOffer>,
    pub materials: Vec<String>,
}

impl Listing {
    /// Where the product is bought on the web front end, in the audience's language and
    /// currency (a channel's landing page must show the price the channel was given).
    pub fn link(&self, web: &str, audience: &Audience) -> String {
        let mut url = format!(
            "{web}/{}/{}?lang={}&currency={}",
            self.shop.slug,
            self.product.slug,
            audience.language,
            audience.currency.code()
        );
        if let Some(country) = &audience.country {
            url.push_str("&country=");
            url.push_str(country);
        }
        url
    }

    pub fn in_stock(&self) -> bool {
        self.variants.iter().any(|v| v.stock > 0)
    }

    /// The base variant's price now: the lowest of the variants' (sale) prices.
    pub fn lowest_price(&self) -> Option<Money> {
        self.variants
            .iter()
            .map(|v| v.sale.as_ref().map_or(v.price, |s| s.0))
            .min_by_key(|m| m.minor)
    }
}

/// What a whole feed or page shares: rates, categories and where links point.
pub struct Context {
    pub rates: Rates,
    pub categories: Vec<categories::Model>,
    pub urls: media::Urls,
    pub now: DateTime<Utc>,
}

impl Context {
    pub async fn load(db: &impl ConnectionTrait, settings: &Settings) -> AppResult<Self> {
        Ok(Self {
            rates: Rates::load(db).await?,
            categories: crate::catalog::taxonomy::all_categories(db).await?,
            urls: media::Urls::new(&settings.media, &settings.public),
            now: Utc::now(),
        })
    }
}

/// Width of the photos channels are given: large enough for Merchant Center's zoom.
const PHOTO_WIDTH: u32 = 1200;

/// Listings for `batch`, in its order, for `audience`. Products that cannot be priced in the
/// audience's currency, and (when the audience has a country) those whose shop does not ship
/// there, are left out. Eight queries for any batch.
pub async fn listings(
    db: &impl ConnectionTrait,
    ctx: &Context,
    batch: Vec<products::Model>,
    audience: &Audience,
) -> AppResult<Vec<Listing>> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = batch.iter().map(|p| p.id).collect();
    let mut shop_ids: Vec<Uuid> = batch.iter().map(|p| p.shop_id).collect();
    shop_ids.sort();
    shop_ids.dedup();
    let shops: HashMap<Uuid, shops::Model> = shops::Entity::find()
        .filter(shops::Column::Id.is_in(shop_ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut variants = group(
        product_variants::Entity::find()
            .filter(product_variants::Column::ProductId.is_in(ids.clone()))
            .order_by_asc(product_variants::Column::Position)
            .all(db)
            .await?,
        |v| v.product_id,
    );
    let mut translations = group(
        product_translations::Entity::find()
            .filter(product_translations::Column::ProductId.is_in(ids.clone()))
            .all(db)
            .await?,
        |t| t.product_id,
    );
    let photos = product_images::Entity::find()
        .filter(product_images::Column::ProductId.is_in(ids.clone()))
        .order_by_asc(product_images::Column::Position)
        .all(db)
        .await?;
    let addresses = media::photo_addresses(db, &ctx.urls, &photos, PHOTO_WIDTH).await?;
    let mut photos = group(photos, |p| p.product_id);
    let offers = sales::live_offers(db, &ids, ctx.now).await?;
    let profiles = match audience.country {
        Some(_) => shipping::profiles_of_shops(db, &shop_ids).await?,
        None => HashMap::new(),
    };

    let mut out = Vec::with_capacity(batch.len());
    for product in batch {
        let Some(shop) = shops.get(&product.shop_id) else {
            continue;
        };
        let Some(from) = Currency::parse(&product.currency) else {
            continue;
        };
        let convert = |minor: i64| {
            ctx.rates
                .convert(Money::new(minor, from), audience.currency)
        };
        let shipping = match &audience.country {
            None => None,
            Some(country) => {
                let zones = profiles.get(&shop.id).map(Vec::as_slice).unwrap_or(&[]);
                let Some(quote) =
                    shipping::quote_shop(zones, &[(product.shipping_profile_id, 1)], country)
                else {
                    continue;
                };
                let Some(cost) = convert(quote.cost_minor) else {
                    continue;
                };
                Some(ShippingOffer {
                    country: country.clone(),
                    cost,
                    min_days: quote.min_days,
                    max_days: quote.max_days,
                })
            }
        };
        let live = offers.get(&product.id).map(Vec::as_slice).unwrap_or(&[]);
        let mut priced = Vec::new();
        for v in variants.remove(&product.id).unwrap_or_default() {
            let list = v.price_override_minor.unwrap_or(product.price_minor);
            let Some(price) = convert(list) else {
                continue;
            };
            let sale = match sales::price_now(list, v.id, live) {
                Some((minor, offer)) => convert(minor).map(|m| (m, offer.starts_at, offer.ends_at)),
                None => None,
            };
            priced.push(VariantOffer {
                id: v.id,
                sku: v.sku,
                price,
                sale,
                stock: v.stock,
                options: options(&v.options),
            });
        }
        if priced.is_empty() {
            continue;
        }
        let texts = translations.remove(&product.id).unwrap_or_default();
        let languages: Vec<String> = texts.iter().map(|t| t.language.clone()).collect();
        let available: Vec<&str> = languages.iter().map(String::as_str).collect();
        let chosen = pick_language(
            &available,
            std::slice::from_ref(&audience.language),
            &shop.default_language,
        )
        .map(str::to_owned);
        let Some(text) = chosen.and_then(|l| texts.into_iter().find(|t| t.language == l)) else {
            continue;
        };
        let (category_path, category_slugs) = category_path(ctx, product.category_id, audience);
        let photos = photos
            .remove(&product.id)
            .unwrap_or_default()
            .iter()
            .filter_map(|p| addresses.get(&p.id).cloned())
            .collect();
        out.push(Listing {
            materials: serde_json::from_str(&product.materials).unwrap_or_default(),
            shop: shop.clone(),
            language: text.language,
            languages,
            title: text.title,
            description: text.description,
            photos,
            category_path,
            category_slugs,
            variants: priced,
            shipping,
            product,
        });
    }
    Ok(out)
}

/// Names and slugs from the top category down to the product's own.
fn category_path(
    ctx: &Context,
    category: Option<Uuid>,
    audience: &Audience,
) -> (Vec<String>, Vec<String>) {
    let mut names = Vec::new();
    let mut slugs = Vec::new();
    let mut next = category;
    // The tree is shallow; the bound only guards against a cycle in bad data.
    for _ in 0..8 {
        let Some(c) = next.and_then(|id| ctx.categories.iter().find(|c| c.id == id)) else {
            break;
        };
        let texts = Texts::from_json(&c.names);
        names.push(
            texts
                .pick(std::slice::from_ref(&audience.language), "en")
                .map_or_else(|| c.slug.clone(), |(_, name)| name.to_owned()),
        );
        slugs.push(c.slug.clone());
        next = c.parent_id;
    }
    names.reverse();
    slugs.reverse();
    (names, slugs)
}

fn options(json: &str) -> Vec<(String, String)> {
    #[derive(serde::Deserialize)]
    struct Pair {
        name: String,
        value: String,
    }
    serde_json::from_str::<Vec<Pair>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|p| (p.name, p.value))
        .collect()
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut out: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        out.entry(key(&row)).or_default().push(row);
    }
    out
}
