//! Product feeds for the channels foreign buyers shop from: Google Merchant Center (RSS 2.0
//! in the `g:` namespace) and Meta's catalogue (CSV), one per target country and language.
//!
//! A feed is written as it is read: `feed_batch` products per database round trip, each
//! batch rendered and sent before the next is read, so a feed of any size holds one batch in
//! memory. Its version (for `ETag` and `Last-Modified`) comes from a few aggregate queries,
//! so an unchanged feed is answered `304` without being rendered.

use std::fmt::Write as _;

use bytes::Bytes;
use chrono::{DateTime, Timelike as _, Utc};
use futures_util::Stream;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, Func},
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::listings::{self, Audience, Listing};
use crate::{
    catalog::listing::{in_stock_condition, public_products},
    config::Settings,
    entities::{exchange_rates, product_variants, products, sales, shipping_zones, shops},
    error::AppResult,
    i18n::{CountryCode, LanguageTag},
    money::{Currency, Money},
};

/// The channels a feed is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Google,
    Meta,
}

impl Channel {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Google => "application/rss+xml; charset=utf-8",
            Self::Meta => "text/csv; charset=utf-8",
        }
    }

    /// The file extension in the feed's address.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Google => "xml",
            Self::Meta => "csv",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Google => "google",
            Self::Meta => "meta",
        }
    }
}

/// A target country with its currency, and the language the feed is written in.
#[derive(Debug, Clone)]
pub struct Market {
    pub country: String,
    pub currency: Currency,
    pub language: String,
}

impl Market {
    /// The market an address names, or `None` when the country or language is not one we
    /// make feeds for.
    pub fn find(settings: &Settings, country: &str, language: &str) -> Option<Self> {
        let country = CountryCode::parse(country)?.as_str().to_owned();
        let currency = Currency::parse(settings.distribution.markets.get(&country)?)?;
        let language = offered_language(settings, language)?;
        Some(Self {
            country,
            currency,
            language,
        })
    }

    fn audience(&self) -> Audience {
        Audience {
            country: Some(self.country.clone()),
            currency: self.currency,
            language: self.language.clone(),
        }
    }
}

/// The configured spelling of `input` when it is a language we offer.
pub fn offered_language(settings: &Settings, input: &str) -> Option<String> {
    let tag = LanguageTag::parse(input)?;
    settings
        .distribution
        .languages
        .iter()
        .find(|l| l.eq_ignore_ascii_case(tag.as_str()))
        .cloned()
}

/// What a feed's answer is validated by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub etag: String,
    pub last_modified: DateTime<Utc>,
}

/// The feed's version: changes whenever a product, variant stock, shop, rate, sale (or a
/// sale beginning or ending by itself) or shipping zone does. Five small queries.
pub async fn version(
    db: &impl ConnectionTrait,
    channel: Channel,
    market: &Market,
) -> AppResult<Version> {
    let now = Utc::now();
    let product = products::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::count(Expr::col(products::Column::Id))),
            "n",
        )
        .column_as(
            Expr::from(Func::max(Expr::col(products::Column::UpdatedAt))),
            "at",
        )
        .into_tuple::<(i64, Option<DateTime<Utc>>)>()
        .one(db)
        .await?
        .unwrap_or_default();
    let stock = product_variants::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::count(Expr::col(product_variants::Column::Id))),
            "n",
        )
        .column_as(
            Expr::cust("CAST(COALESCE(SUM(stock), 0) AS BIGINT)"),
            "stock",
        )
        .into_tuple::<(i64, i64)>()
        .one(db)
        .await?
        .unwrap_or_default();
    let shop = shops::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::max(Expr::col(shops::Column::UpdatedAt))),
            "at",
        )
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten();
    let rate = exchange_rates::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::max(Expr::col(exchange_rates::Column::UpdatedAt))),
            "at",
        )
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten();
    let zones = shipping_zones::Entity::find()
        .select_only()
        .column_as(
            Expr::from(Func::count(Expr::col(shipping_zones::Column::Id))),
            "n",
        )
        .column_as(
            Expr::cust(
                "CAST(COALESCE(SUM(first_item_minor + additional_item_minor), 0) AS BIGINT)",
            ),
            "cost",
        )
        .into_tuple::<(i64, i64)>()
        .one(db)
        .await?
        .unwrap_or_default();
    // A sale changes prices when it is created and again, by itself, when it begins and ends.
    let sale_moments: Vec<(DateTime<Utc>, DateTime<Utc>, DateTime<Utc>)> = sales::Entity::find()
        .select_only()
        .column(sales::Column::CreatedAt)
        .column(sales::Column::StartsAt)
        .column(sales::Column::EndsAt)
        .filter(sales::Column::EndsAt.gt(now - chrono::Duration::days(400)))
        .into_tuple()
        .all(db)
        .await?;
    let sale = sale_moments
        .iter()
        .flat_map(|(c, s, e)| [*c, *s, *e])
        .filter(|at| *at <= now)
        .max();
    let last_modified = [product.1, shop, rate, sale]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let mut hash = Sha256::new();
    hash.update(format!(
        "{}|{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
        channel.name(),
        market.country,
        market.language,
        market.currency.code(),
        product,
        stock,
        shop,
        rate,
        zones,
        sale,
        sale_moments.len(),
    ));
    let digest = hash.finalize();
    let etag = format!(
        "W/\"{}\"",
        digest[..12].iter().fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
    );
    Ok(Version {
        etag,
        // HTTP dates have whole seconds: a resource changed within the second is newer.
        last_modified: last_modified
            .with_nanosecond(0)
            .map_or(last_modified, |t| t + chrono::Duration::seconds(1)),
    })
}

/// What the public may find in a feed: active, in-stock products of open shops, by id.
async fn next_batch(
    db: &impl ConnectionTrait,
    after: Option<Uuid>,
    size: u64,
) -> AppResult<Vec<products::Model>> {
    let mut select = public_products().filter(in_stock_condition());
    if let Some(after) = after {
        select = select.filter(products::Column::Id.gt(after));
    }
    Ok(select
        .order_by_asc(products::Column::Id)
        .limit(size.max(1))
        .all(db)
        .await?)
}

enum Step {
    Start,
    After(Option<Uuid>),
    Done,
}

/// The feed, rendered batch by batch as the stream is read.
pub fn stream(
    db: DatabaseConnection,
    settings: std::sync::Arc<Settings>,
    channel: Channel,
    market: Market,
) -> impl Stream<Item = AppResult<Bytes>> + Send + 'static {
    let web = settings
        .public
        .web_base_url
        .trim_end_matches('/')
        .to_owned();
    let audience = market.audience();
    let state = (Step::Start, None::<std::sync::Arc<listings::Context>>);
    futures_util::stream::try_unfold(state, move |(step, ctx)| {
        let db = db.clone();
        let settings = settings.clone();
        let market = market.clone();
        let audience = audience.clone();
        let web = web.clone();
        async move {
            match step {
                Step::Start => {
                    let ctx = std::sync::Arc::new(listings::Context::load(&db, &settings).await?);
                    let head = head(channel, &market, &web);
                    Ok(Some((Bytes::from(head), (Step::After(None), Some(ctx)))))
                }
                Step::After(after) => {
                    let batch = next_batch(&db, after, settings.distribution.feed_batch).await?;
                    let Some(last) = batch.last().map(|p| p.id) else {
                        return Ok(Some((Bytes::from(tail(channel)), (Step::Done, ctx))));
                    };
                    let Some(shared) = ctx.clone() else {
                        return Ok(None);
                    };
                    let found = listings::listings(&db, &shared, batch, &audience).await?;
                    let mut out = String::with_capacity(found.len() * 2048);
                    for listing in &found {
                        match channel {
                            Channel::Google => google_items(&mut out, listing, &audience, &web),
                            Channel::Meta => meta_rows(&mut out, listing, &audience, &web),
                        }
                    }
                    Ok(Some((Bytes::from(out), (Step::After(Some(last)), ctx))))
                }
                Step::Done => Ok(None),
            }
        }
    })
}

fn head(channel: Channel, market: &Market, web: &str) -> String {
    match channel {
        Channel::Google => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <rss version=\"2.0\" xmlns:g=\"http://base.google.com/ns/1.0\">\n\
             <channel>\n\
             <title>Darkhan: handmade in Mongolia ({} {})</title>\n\
             <link>{}</link>\n\
             <description>Handmade and cultural products from Mongolian artisans</description>\n",
            market.country,
            market.language,
            xml(web)
        ),
        Channel::Meta => {
            let mut out = META_COLUMNS.join(",");
            out.push('\n');
            out
        }
    }
}

fn tail(channel: Channel) -> String {
    match channel {
        Channel::Google => "</channel>\n</rss>\n".to_owned(),
        Channel::Meta => String::new(),
    }
}

/// Merchant Center's length limits, in characters.
const GOOGLE_TITLE: usize = 150;
const GOOGLE_DESCRIPTION: usize = 5000;
const GOOGLE_BRAND: usize = 70;
const GOOGLE_MATERIAL: usize = 200;
const GOOGLE_PRODUCT_TYPE: usize = 750;
const GOOGLE_EXTRA_IMAGES: usize = 10;
/// Meta's.
const META_TITLE: usize = 200;
const META_DESCRIPTION: usize = 9999;
const META_BRAND: usize = 100;
const META_EXTRA_IMAGES: usize = 20;

/// One `<item>` per variant, grouped by the product. Channels refuse items without a photo,
/// so a product without one is left out.
fn google_items(out: &mut String, listing: &Listing, audience: &Audience, web: &str) {
    let Some((image, extra)) = listing.photos.split_first() else {
        return;
    };
    let link = listing.link(web, audience);
    let grouped = listing.variants.len() > 1;
    let common = common_facts(listing);
    for v in &listing.variants {
        let mut tags: Vec<(&str, String)> = vec![
            ("g:id", v.id.to_string()),
            (
                "g:title",
                clip(&variant_title(&listing.title, v), GOOGLE_TITLE),
            ),
            (
                "g:description",
                clip(&listing.description, GOOGLE_DESCRIPTION),
            ),
            ("g:link", link.clone()),
            ("g:image_link", image.clone()),
        ];
        for photo in extra.iter().take(GOOGLE_EXTRA_IMAGES) {
            tags.push(("g:additional_image_link", photo.clone()));
        }
        tags.push(("g:availability", google_availability(v.stock).into()));
        tags.push(("g:price", price_text(v.price)));
        if let Some((sale, from, to)) = &v.sale {
            tags.push(("g:sale_price", price_text(*sale)));
            tags.push(("g:sale_price_effective_date", effective(*from, *to)));
        }
        tags.push(("g:brand", clip(&listing.shop.name, GOOGLE_BRAND)));
        tags.push(("g:condition", "new".into()));
        tags.push(("g:identifier_exists", "no".into()));
        if grouped {
            tags.push(("g:item_group_id", listing.product.id.to_string()));
        }
        if let Some(category) = google_category(&listing.category_slugs) {
            tags.push(("g:google_product_category", category.into()));
        }
        if !listing.category_path.is_empty() {
            tags.push((
                "g:product_type",
                clip(&listing.category_path.join(" > "), GOOGLE_PRODUCT_TYPE),
            ));
        }
        if !listing.materials.is_empty() {
            tags.push((
                "g:material",
                clip(&listing.materials.join("/"), GOOGLE_MATERIAL),
            ));
        }
        for (name, value) in &v.options {
            match name.to_lowercase().as_str() {
                "size" => tags.push(("g:size", value.clone())),
                "color" | "colour" => tags.push(("g:color", value.clone())),
                _ => {}
            }
        }
        if let Some(grams) = listing.product.weight_grams {
            tags.push(("g:shipping_weight", format!("{grams} g")));
        }
        tags.push((
            "g:max_handling_time",
            listing.product.processing_days.max(0).to_string(),
        ));
        if listing.product.handmade {
            tags.push(("g:custom_label_0", "handmade".into()));
        }
        out.push_str("<item>\n");
        for (tag, value) in tags {
            let _ = writeln!(out, "<{tag}>{}</{tag}>", xml(&value));
        }
        if let Some(s) = &listing.shipping {
            let _ = writeln!(
                out,
                "<g:shipping><g:country>{}</g:country><g:service>Standard</g:service>\
                 <g:price>{}</g:price><g:min_transit_time>{}</g:min_transit_time>\
                 <g:max_transit_time>{}</g:max_transit_time></g:shipping>",
                s.country,
                price_text(s.cost),
                s.min_days,
                s.max_days
            );
        }
        for (name, value) in &common {
            let _ = writeln!(
                out,
                "<g:product_detail><g:section_name>Craft</g:section_name>\
                 <g:attribute_name>{}</g:attribute_name><g:attribute_value>{}</g:attribute_value>\
                 </g:product_detail>",
                xml(name),
                xml(value)
            );
        }
        out.push_str("</item>\n");
    }
}

/// Meta's columns, in the order each row writes them.
const META_COLUMNS: &[&str] = &[
    "id",
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
    "brand",
    "additional_image_link",
    "item_group_id",
    "sale_price",
    "sale_price_effective_date",
    "google_product_category",
    "product_type",
    "material",
    "size",
    "color",
    "shipping",
    "shipping_weight",
    "quantity_to_sell_on_facebook",
    "origin_country",
    "custom_label_0",
];

fn meta_rows(out: &mut String, listing: &Listing, audience: &Audience, web: &str) {
    let Some((image, extra)) = listing.photos.split_first() else {
        return;
    };
    let link = listing.link(web, audience);
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::with_capacity(1024 * listing.variants.len()));
    for v in &listing.variants {
        let option = |names: &[&str]| {
            v.options
                .iter()
                .find(|(n, _)| names.contains(&n.to_lowercase().as_str()))
                .map(|(_, value)| value.clone())
                .unwrap_or_default()
        };
        let (sale, effective_date) = v
            .sale
            .as_ref()
            .map(|(m, from, to)| (price_text(*m), effective(*from, *to)))
            .unwrap_or_default();
        let row: [String; 23] = [
            v.id.to_string(),
            clip(&variant_title(&listing.title, v), META_TITLE),
            clip(&listing.description, META_DESCRIPTION),
            if v.stock > 0 {
                "in stock"
            } else {
                "out of stock"
            }
            .into(),
            "new".into(),
            price_text(v.price),
            link.clone(),
            image.clone(),
            clip(&listing.shop.name, META_BRAND),
            extra
                .iter()
                .take(META_EXTRA_IMAGES)
                .cloned()
                .collect::<Vec<_>>()
                .join(","),
            if listing.variants.len() > 1 {
                listing.product.id.to_string()
            } else {
                String::new()
            },
            sale,
            effective_date,
            google_category(&listing.category_slugs)
                .unwrap_or_default()
                .into(),
            listing.category_path.join(" > "),
            listing.materials.join("/"),
            option(&["size"]),
            option(&["color", "colour"]),
            listing
                .shipping
                .as_ref()
                .map(|s| format!("{}::Standard:{}", s.country, price_text(s.cost)))
                .unwrap_or_default(),
            listing
                .product
                .weight_grams
                .map(|g| format!("{g} g"))
                .unwrap_or_default(),
            v.stock.max(0).to_string(),
            listing.shop.country.clone(),
            if listing.product.handmade {
                "handmade".into()
            } else {
                String::new()
            },
        ];
        // Writing to memory fails only when out of memory.
        let _ = writer.write_record(row.iter().map(|c| printable(c)));
    }
    if let Ok(bytes) = writer.into_inner() {
        out.push_str(&String::from_utf8_lossy(&bytes));
    }
}

/// Handmade and origin, which no standard attribute carries.
fn common_facts(listing: &Listing) -> Vec<(&'static str, String)> {
    let mut facts = Vec::new();
    if listing.product.handmade {
        facts.push(("Handmade", "Yes".to_owned()));
    }
    let region = listing
        .product
        .origin_region
        .clone()
        .unwrap_or_else(|| listing.shop.region.clone());
    let origin = if region.is_empty() {
        listing.shop.country.clone()
    } else {
        format!("{region}, {}", listing.shop.country)
    };
    facts.push(("Origin", origin));
    facts
}

fn variant_title(title: &str, v: &listings::VariantOffer) -> String {
    if v.options.is_empty() {
        return title.to_owned();
    }
    let values: Vec<&str> = v.options.iter().map(|(_, value)| value.as_str()).collect();
    format!("{title} - {}", values.join(" / "))
}

fn google_availability(stock: i32) -> &'static str {
    if stock > 0 {
        "in_stock"
    } else {
        "out_of_stock"
    }
}

/// Both channels read prices as `"12.50 USD"`.
pub fn price_text(m: Money) -> String {
    format!("{} {}", m.amount(), m.currency.code())
}

/// An ISO 8601 interval, as `sale_price_effective_date` is written.
fn effective(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    format!(
        "{}/{}",
        from.format("%Y-%m-%dT%H:%MZ"),
        to.format("%Y-%m-%dT%H:%MZ")
    )
}

/// Google's product taxonomy for our categories, most specific first; a category not listed
/// takes its parent's.
const GOOGLE_CATEGORIES: &[(&str, &str)] = &[
    ("felt-rugs", "Home & Garden > Decor > Rugs"),
    ("felt-slippers", "Apparel & Accessories > Shoes"),
    ("felt-toys", "Toys & Games > Toys"),
    (
        "felt",
        "Arts & Entertainment > Hobbies & Creative Arts > Arts & Crafts",
    ),
    (
        "cashmere-scarves",
        "Apparel & Accessories > Clothing Accessories > Scarves & Shawls",
    ),
    ("knitwear", "Apparel & Accessories > Clothing"),
    ("cashmere-wool", "Apparel & Accessories > Clothing"),
    ("mongol-boots", "Apparel & Accessories > Shoes"),
    (
        "leather",
        "Apparel & Accessories > Handbags, Wallets & Cases",
    ),
    ("silver-metalwork", "Apparel & Accessories > Jewelry"),
    ("jewellery", "Apparel & Accessories > Jewelry"),
    ("wood-carving", "Home & Garden > Decor"),
    ("mongol-zurag", "Home & Garden > Decor > Artwork"),
    ("calligraphy", "Home & Garden > Decor > Artwork"),
    ("deel", "Apparel & Accessories > Clothing"),
    ("textiles-embroidery", "Home & Garden > Linens & Bedding"),
    ("ceramics", "Home & Garden > Kitchen & Dining > Tableware"),
    (
        "morin-khuur",
        "Arts & Entertainment > Hobbies & Creative Arts > Musical Instruments > String Instruments",
    ),
    (
        "musical-instruments",
        "Arts & Entertainment > Hobbies & Creative Arts > Musical Instruments",
    ),
    (
        "dolls-toys",
        "Toys & Games > Toys > Dolls, Playsets & Toy Figures",
    ),
    ("ger-furnishings", "Home & Garden > Decor"),
    ("bone-horn", "Home & Garden > Decor"),
];

/// The Google category of the deepest of `slugs` (top first) that has one.
pub fn google_category(slugs: &[String]) -> Option<&'static str> {
    slugs.iter().rev().find_map(|slug| {
        GOOGLE_CATEGORIES
            .iter()
            .find(|(ours, _)| ours == slug)
            .map(|(_, theirs)| *theirs)
    })
}

/// At most `max` characters, cut at a character boundary.
fn clip(text: &str, max: usize) -> String {
    printable(text).chars().take(max).collect()
}

/// Without the control characters XML 1.0 forbids and CSV readers trip on (tabs and line
/// breaks stay).
fn printable(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .collect()
}

fn xml(text: &str) -> String {
    quick_xml::escape::escape(printable(text).as_str()).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_clipped_by_character_and_stripped_of_control_characters() {
        assert_eq!(clip("Гэр\u{0}бэлэг", 4), "Гэрб");
        assert_eq!(xml("a<b & \"c\"\u{1b}"), "a&lt;b &amp; &quot;c&quot;");
    }

    #[test]
    fn prices_read_as_channels_want_them() {
        let usd = Currency::parse("USD").map(|c| Money::new(1250, c));
        let jpy = Currency::parse("JPY").map(|c| Money::new(1500, c));
        assert_eq!(usd.map(price_text).as_deref(), Some("12.50 USD"));
        assert_eq!(jpy.map(price_text).as_deref(), Some("1500 JPY"));
    }

    #[test]
    fn categories_map_to_the_deepest_known_google_category() {
        let path = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            google_category(&path(&["felt", "felt-rugs"])),
            Some("Home & Garden > Decor > Rugs")
        );
        assert_eq!(
            google_category(&path(&["felt", "unknown"])),
            Some("Arts & Entertainment > Hobbies & Creative Arts > Arts & Crafts")
        );
        assert_eq!(google_category(&path(&["unknown"])), None);
    }
}
