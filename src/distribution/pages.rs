//! Pages for search engines and link previews: a small server-rendered HTML page for every
//! public product and shop (title, description, canonical URL and language alternates, Open
//! Graph and Twitter card tags, schema.org JSON-LD) that links on to the web front end; the
//! sitemaps that list them and `robots.txt`.
//!
//! Only what the public may see is rendered: drafts, archived products and suspended shops
//! are not found, whoever asks.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use minijinja::{Environment, context};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::listings::{self, Audience, Listing};
use crate::{
    auth::Caller,
    catalog::{
        listing::public_products,
        products::product_by_slug,
        shops::{open_shops, shop_by_slug},
        texts::Texts,
    },
    config::Settings,
    entities::{product_translations, products, shops},
    error::{AppError, AppResult},
    i18n::{LanguageTag, pick_language},
    money::{self, Currency},
};

const SOURCES: [(&str, &str); 3] = [
    ("base.html", include_str!("templates/base.html")),
    ("product.html", include_str!("templates/product.html")),
    ("shop.html", include_str!("templates/shop.html")),
];

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in SOURCES {
        // Compiled in and rendered by the tests: a broken template fails them.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "a page template does not parse");
        }
    }
    env
});

/// Most products a shop page links to (the newest).
const SHOP_PAGE_PRODUCTS: u64 = 60;
/// Addresses per sitemap file (the protocol allows 50,000).
pub const SITEMAP_SIZE: u64 = 10_000;
/// The longest summary in a description tag.
const SUMMARY: usize = 160;

/// A rendered page and when what it shows last changed.
#[derive(Debug)]
pub struct Page {
    pub html: String,
    pub last_modified: DateTime<Utc>,
}

/// What a page asks for: `?lang=` and `?currency=`, and the reader's `Accept-Language`.
#[derive(Debug, Default, Clone)]
pub struct PageRequest {
    pub language: Option<String>,
    pub currency: Option<String>,
    pub accept_language: Vec<String>,
}

impl PageRequest {
    /// Languages to try, best first: the link's, then the reader's.
    fn languages(&self) -> Vec<String> {
        self.language
            .as_deref()
            .and_then(LanguageTag::parse)
            .map(|t| t.as_str().to_owned())
            .into_iter()
            .chain(self.accept_language.iter().cloned())
            .collect()
    }
}

/// What every page's head holds.
#[derive(Debug, Serialize)]
struct Head {
    language: String,
    title: String,
    heading: String,
    summary: String,
    canonical: String,
    alternates: Vec<Alternate>,
    og_type: &'static str,
    image: Option<String>,
    extra_meta: Vec<(&'static str, String)>,
}

#[derive(Debug, Serialize)]
struct Alternate {
    language: String,
    url: String,
}

/// Words on the pages; languages without their own read English.
fn words(language: &str) -> Value {
    match language.split('-').next().unwrap_or(language) {
        "mn" => json!({ "by": "Бүтээсэн:", "buy": "Darkhan дээр худалдаж авах",
            "visit": "Дэлгүүрээр зочлох", "in_stock": "Бэлэн байгаа", "sold_out": "Дууссан" }),
        _ => json!({ "by": "By", "buy": "Buy on Darkhan", "visit": "Visit the shop",
            "in_stock": "In stock", "sold_out": "Sold out" }),
    }
}

fn base(settings: &Settings) -> (&str, &str) {
    (
        settings.public.api_base_url.trim_end_matches('/'),
        settings.public.web_base_url.trim_end_matches('/'),
    )
}

/// A product's page address in one language.
pub fn product_url(api: &str, shop: &str, slug: &str, language: &str) -> String {
    format!("{api}/p/{shop}/{slug}?lang={language}")
}

/// A shop's page address in one language.
pub fn shop_url(api: &str, shop: &str, language: &str) -> String {
    format!("{api}/s/{shop}?lang={language}")
}

/// The page of a public product, in the language and currency asked for (falling back to
/// the product's languages and to the configured page currency, then the shop's own).
pub async fn product_page(
    db: &impl ConnectionTrait,
    settings: &Settings,
    shop_slug: &str,
    slug: &str,
    request: &PageRequest,
) -> AppResult<Page> {
    let product = product_by_slug(db, Caller::Anonymous, shop_slug, slug).await?;
    let ctx = listings::Context::load(db, settings).await?;
    let wanted = request
        .currency
        .as_deref()
        .and_then(Currency::parse)
        .or_else(|| Currency::parse(&settings.distribution.page_currency));
    let own = Currency::parse(&product.currency);
    let languages = request.languages();
    let language = languages.first().cloned().unwrap_or_else(|| "en".into());
    let mut listing = None;
    // A currency without a rate to the product's falls back to the shop's own.
    for currency in [wanted, own].into_iter().flatten() {
        let audience = Audience {
            country: None,
            currency,
            language: language.clone(),
        };
        if let Some(found) = listings::listings(db, &ctx, vec![product.clone()], &audience)
            .await?
            .pop()
        {
            listing = Some((found, audience));
            break;
        }
    }
    let Some((listing, audience)) = listing else {
        return Err(AppError::NotFound("no such product".into()));
    };
    let (api, web) = base(settings);
    let shop = &listing.shop;
    let url = |l: &str| product_url(api, &shop.slug, &product.slug, l);
    let canonical = url(&listing.language);
    let alternates = alternates(settings, &listing.languages, &url);
    let lowest = listing.lowest_price();
    let regular = listing
        .variants
        .iter()
        .map(|v| v.price)
        .min_by_key(|m| m.minor);
    let words = words(&listing.language);
    let availability = if listing.in_stock() {
        &words["in_stock"]
    } else {
        &words["sold_out"]
    };
    let mut extra_meta = Vec::new();
    if let Some(price) = lowest {
        extra_meta.push(("product:price:amount", price.amount()));
        extra_meta.push(("product:price:currency", price.currency.code().to_owned()));
    }
    extra_meta.push((
        "product:availability",
        if listing.in_stock() {
            "in stock"
        } else {
            "out of stock"
        }
        .to_owned(),
    ));
    extra_meta.push(("product:brand", shop.name.clone()));
    extra_meta.push(("product:condition", "new".to_owned()));
    let head = Head {
        language: listing.language.clone(),
        title: format!("{} | {} | Darkhan", listing.title, shop.name),
        heading: listing.title.clone(),
        summary: summary(&listing.description),
        canonical: canonical.clone(),
        alternates,
        og_type: "product",
        image: listing.photos.first().cloned(),
        extra_meta,
    };
    let shown = |m: money::Money| money::display(m.minor, m.currency.code(), &listing.language);
    let html = ENV
        .get_template("product.html")
        .and_then(|t| {
            t.render(context! {
                page => minijinja::Value::from(minijinja::value::Serde(&head)),
                words => minijinja::Value::from(minijinja::value::Serde(&words)),
                json_ld => script_json(&product_json_ld(&listing, &canonical)),
                shop => shop.name.clone(),
                shop_url => shop_url(api, &shop.slug, &listing.language),
                price => lowest.map(shown),
                regular => regular.filter(|r| Some(r.minor) != lowest.map(|l| l.minor)).map(shown),
                availability => availability.as_str(),
                description => listing.description.clone(),
                buy_url => listing.link(web, &audience),
            })
        })
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a product page: {e}")))?;
    Ok(Page {
        html,
        last_modified: product.updated_at.max(shop.updated_at),
    })
}

/// schema.org `Product` with one `Offer` per variant, and the rating once there are reviews:
/// what Google reads for product rich results.
fn product_json_ld(listing: &Listing, url: &str) -> Value {
    let offers: Vec<Value> = listing
        .variants
        .iter()
        .map(|v| {
            let (price, valid_until) = match &v.sale {
                Some((sale, _, ends)) => (*sale, Some(ends.format("%Y-%m-%d").to_string())),
                None => (v.price, None),
            };
            let mut offer = json!({
                "@type": "Offer",
                "sku": v.sku,
                "url": url,
                "price": price.amount(),
                "priceCurrency": price.currency.code(),
                "availability": if v.stock > 0 { "https://schema.org/InStock" } else { "https://schema.org/OutOfStock" },
                "itemCondition": "https://schema.org/NewCondition",
                "seller": { "@type": "Organization", "name": listing.shop.name },
            });
            if let Some(until) = valid_until {
                offer["priceValidUntil"] = until.into();
            }
            offer
        })
        .collect();
    let mut ld = json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": listing.title,
        "description": listing.description,
        "url": url,
        "image": listing.photos,
        "brand": { "@type": "Brand", "name": listing.shop.name },
        "offers": offers,
    });
    if let Some(first) = listing.variants.first() {
        ld["sku"] = first.sku.clone().into();
    }
    if !listing.category_path.is_empty() {
        ld["category"] = listing.category_path.join(" > ").into();
    }
    if !listing.materials.is_empty() {
        ld["material"] = listing.materials.join(", ").into();
    }
    if listing.product.handmade {
        ld["additionalProperty"] =
            json!([{ "@type": "PropertyValue", "name": "Handmade", "value": "Yes" }]);
    }
    let product = &listing.product;
    if product.rating_count > 0 {
        ld["aggregateRating"] = json!({
            "@type": "AggregateRating",
            "ratingValue": format!("{:.1}", f64::from(product.rating_sum) / f64::from(product.rating_count)),
            "reviewCount": product.rating_count,
            "bestRating": 5,
            "worstRating": 1,
        });
    }
    ld
}

/// The page of a shop that is open: its story and its newest products.
pub async fn shop_page(
    db: &impl ConnectionTrait,
    settings: &Settings,
    shop_slug: &str,
    request: &PageRequest,
) -> AppResult<Page> {
    let shop = shop_by_slug(db, Caller::Anonymous, shop_slug).await?;
    let (api, web) = base(settings);
    let story = Texts::from_json(&shop.story);
    let languages = request.languages();
    let (language, story_text) = story.pick(&languages, &shop.default_language).map_or_else(
        || (shop.default_language.clone(), String::new()),
        |(l, t)| (l.to_owned(), t.to_owned()),
    );
    let products = public_products()
        .filter(products::Column::ShopId.eq(shop.id))
        .order_by_desc(products::Column::PublishedAt)
        .limit(SHOP_PAGE_PRODUCTS)
        .all(db)
        .await?;
    let ids: Vec<Uuid> = products.iter().map(|p| p.id).collect();
    let translations = product_translations::Entity::find()
        .filter(product_translations::Column::ProductId.is_in(ids))
        .all(db)
        .await?;
    let items: Vec<Value> = products
        .iter()
        .filter_map(|p| {
            let own: Vec<&product_translations::Model> =
                translations.iter().filter(|t| t.product_id == p.id).collect();
            let available: Vec<&str> = own.iter().map(|t| t.language.as_str()).collect();
            let chosen = pick_language(&available, std::slice::from_ref(&language), &shop.default_language)?;
            let t = own.iter().find(|t| t.language == chosen)?;
            Some(json!({ "title": t.title, "url": product_url(api, &shop.slug, &p.slug, &t.language) }))
        })
        .collect();
    let story_languages: Vec<String> = story.0.keys().cloned().collect();
    let url = |l: &str| shop_url(api, &shop.slug, l);
    let canonical = url(&language);
    let image = match shop.banner_image_id.or(shop.logo_image_id) {
        Some(_) => shop_image(db, settings, &shop).await?,
        None => None,
    };
    let head = Head {
        language: language.clone(),
        title: format!("{} | Darkhan", shop.name),
        heading: shop.name.clone(),
        summary: summary(&story_text),
        canonical: canonical.clone(),
        alternates: alternates(settings, &story_languages, &url),
        og_type: "website",
        image,
        extra_meta: Vec::new(),
    };
    let ld = json!({
        "@context": "https://schema.org",
        "@type": "Store",
        "name": shop.name,
        "url": canonical,
        "description": story_text,
        "address": { "@type": "PostalAddress", "addressRegion": shop.region, "addressCountry": shop.country },
    });
    let html = ENV
        .get_template("shop.html")
        .and_then(|t| {
            t.render(context! {
                page => minijinja::Value::from(minijinja::value::Serde(&head)),
                words => minijinja::Value::from(minijinja::value::Serde(words(&language))),
                json_ld => script_json(&ld),
                place => format!("{}, {}", shop.region, shop.country),
                story => story_text,
                products => minijinja::Value::from(minijinja::value::Serde(&items)),
                buy_url => format!("{web}/{}?lang={language}", shop.slug),
            })
        })
        .map_err(|e| AppError::Internal(anyhow::anyhow!("rendering a shop page: {e}")))?;
    let newest = products.iter().map(|p| p.updated_at).max();
    Ok(Page {
        html,
        last_modified: newest.map_or(shop.updated_at, |n| n.max(shop.updated_at)),
    })
}

async fn shop_image(
    db: &impl ConnectionTrait,
    settings: &Settings,
    shop: &shops::Model,
) -> AppResult<Option<String>> {
    let Some(id) = shop.banner_image_id.or(shop.logo_image_id) else {
        return Ok(None);
    };
    let photo = crate::entities::product_images::Model {
        id,
        product_id: Uuid::nil(),
        url: String::new(),
        image_id: Some(id),
        alt: String::new(),
        position: 0,
    };
    let urls = crate::media::Urls::new(&settings.media, &settings.public);
    Ok(crate::media::photo_addresses(db, &urls, &[photo], 1200)
        .await?
        .remove(&id))
}

/// Alternates for the offered languages among `languages`, and `x-default`.
fn alternates(
    settings: &Settings,
    languages: &[String],
    url: &dyn Fn(&str) -> String,
) -> Vec<Alternate> {
    let mut out: Vec<Alternate> = settings
        .distribution
        .languages
        .iter()
        .filter(|l| languages.iter().any(|have| have == *l))
        .map(|l| Alternate {
            language: l.clone(),
            url: url(l),
        })
        .collect();
    if let Some(first) = out.first() {
        let default = out
            .iter()
            .find(|a| a.language == "en")
            .unwrap_or(first)
            .url
            .clone();
        out.push(Alternate {
            language: "x-default".into(),
            url: default,
        });
    }
    out
}

/// The first sentence-ish of a text, for description tags.
fn summary(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= SUMMARY {
        return flat;
    }
    let mut cut: String = flat.chars().take(SUMMARY - 1).collect();
    if let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    cut.push('…');
    cut
}

/// JSON for a `<script>` element: `<`, `>` and `&` written as escapes so that no text can
/// close the element.
fn script_json(value: &Value) -> minijinja::Value {
    let text = value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    minijinja::Value::from_safe_string(text)
}

/// `robots.txt`: pages, feeds and sitemaps are for crawlers; the API and uploads are not.
pub fn robots(settings: &Settings) -> String {
    let (api, _) = base(settings);
    format!(
        "User-agent: *\nAllow: /p/\nAllow: /s/\nAllow: /feeds/\nAllow: /sitemap.xml\n\
         Allow: /sitemaps/\nDisallow: /graphql\nDisallow: /media/uploads/\n\
         Disallow: /notifications/\nDisallow: /webhooks/\n\nSitemap: {api}/sitemap.xml\n"
    )
}

#[derive(Debug, FromQueryResult)]
struct LanguageCount {
    language: String,
    n: i64,
}

/// The sitemap index: per offered language, as many files as its products need, and one
/// file of shop pages.
pub async fn sitemap_index(db: &impl ConnectionTrait, settings: &Settings) -> AppResult<String> {
    let (api, _) = base(settings);
    let counts: Vec<LanguageCount> = product_translations::Entity::find()
        .select_only()
        .column(product_translations::Column::Language)
        .column_as(product_translations::Column::ProductId.count(), "n")
        .filter(product_translations::Column::ProductId.in_subquery(public_ids()))
        .group_by(product_translations::Column::Language)
        .into_model()
        .all(db)
        .await?;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    out.push_str(&format!(
        "<sitemap><loc>{api}/sitemaps/shops.xml</loc></sitemap>\n"
    ));
    for language in &settings.distribution.languages {
        let n = counts
            .iter()
            .find(|c| &c.language == language)
            .map_or(0, |c| c.n.max(0) as u64);
        for page in 0..n.div_ceil(SITEMAP_SIZE) {
            out.push_str(&format!(
                "<sitemap><loc>{api}/sitemaps/{language}/{}.xml</loc></sitemap>\n",
                page + 1
            ));
        }
    }
    out.push_str("</sitemapindex>\n");
    Ok(out)
}

fn public_ids() -> sea_orm::sea_query::SelectStatement {
    use sea_orm::QueryTrait;
    public_products()
        .select_only()
        .column(products::Column::Id)
        .into_query()
}

/// One sitemap file of product pages written in `language` (1-based `page`), each with its
/// other languages as `hreflang` alternates; `None` past the last page.
pub async fn product_sitemap(
    db: &impl ConnectionTrait,
    settings: &Settings,
    language: &str,
    page: u64,
) -> AppResult<Option<String>> {
    if page == 0 {
        return Ok(None);
    }
    let (api, _) = base(settings);
    let ids: Vec<Uuid> = product_translations::Entity::find()
        .select_only()
        .column(product_translations::Column::ProductId)
        .filter(product_translations::Column::Language.eq(language))
        .filter(product_translations::Column::ProductId.in_subquery(public_ids()))
        .order_by_asc(product_translations::Column::ProductId)
        .offset((page - 1) * SITEMAP_SIZE)
        .limit(SITEMAP_SIZE)
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() && page > 1 {
        return Ok(None);
    }
    let products = products::Entity::find()
        .filter(products::Column::Id.is_in(ids.clone()))
        .order_by_asc(products::Column::Id)
        .all(db)
        .await?;
    let mut shop_ids: Vec<Uuid> = products.iter().map(|p| p.shop_id).collect();
    shop_ids.sort();
    shop_ids.dedup();
    let shops: std::collections::HashMap<Uuid, String> = shops::Entity::find()
        .filter(shops::Column::Id.is_in(shop_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s.slug))
        .collect();
    let written: Vec<(Uuid, String)> = product_translations::Entity::find()
        .select_only()
        .column(product_translations::Column::ProductId)
        .column(product_translations::Column::Language)
        .filter(product_translations::Column::ProductId.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" \
         xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    for p in &products {
        let Some(shop) = shops.get(&p.shop_id) else {
            continue;
        };
        let languages: Vec<String> = written
            .iter()
            .filter(|(id, _)| *id == p.id)
            .map(|(_, l)| l.clone())
            .collect();
        let url = |l: &str| product_url(api, shop, &p.slug, l);
        out.push_str(&format!(
            "<url><loc>{}</loc><lastmod>{}</lastmod>",
            xml_attr(&url(language)),
            p.updated_at.format("%Y-%m-%d")
        ));
        for alt in alternates(settings, &languages, &url) {
            out.push_str(&format!(
                "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                alt.language,
                xml_attr(&alt.url)
            ));
        }
        out.push_str("</url>\n");
    }
    out.push_str("</urlset>\n");
    Ok(Some(out))
}

/// The sitemap of open shops' pages, in each shop's default language.
pub async fn shop_sitemap(db: &impl ConnectionTrait, settings: &Settings) -> AppResult<String> {
    let (api, _) = base(settings);
    let shops = open_shops(None, None)
        .order_by_asc(shops::Column::Id)
        .limit(SITEMAP_SIZE)
        .all(db)
        .await?;
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for s in shops {
        out.push_str(&format!(
            "<url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
            xml_attr(&shop_url(api, &s.slug, &s.default_language)),
            s.updated_at.format("%Y-%m-%d")
        ));
    }
    out.push_str("</urlset>\n");
    Ok(out)
}

fn xml_attr(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_end_at_a_word() {
        assert_eq!(summary("Short  text\n here"), "Short text here");
        let long = "word ".repeat(60);
        let s = summary(&long);
        assert!(s.chars().count() <= SUMMARY && s.ends_with("word…"));
    }

    #[test]
    fn json_in_a_script_cannot_close_it() {
        let v = script_json(&json!({ "name": "</script><script>alert(1)</script> & more" }));
        let text = v.to_string();
        assert!(!text.contains('<') && !text.contains('&'));
        let back: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back["name"], "</script><script>alert(1)</script> & more");
    }
}
