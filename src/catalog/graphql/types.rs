//! Catalogue object types. Each wraps an entity with the `View` it is read in.

use async_graphql::{
    ComplexObject, Context, Enum, ID, Object, Result, SimpleObject,
    connection::{Connection, Edge},
};
use chrono::{DateTime, Utc};

use super::{Money, View, display, loaders, wants_total};
use crate::{
    catalog::{
        listing::{self, PageRequest, ProductFilter, ProductPage, ProductSort},
        loaders::Loaders,
        products::OptionValue,
        texts::Texts,
    },
    entities::{
        categories, collections, exchange_rates, makers, product_images, product_variants,
        products::{self, ProductStatus as DbProductStatus},
        shops::{self, ShopStatus as DbShopStatus},
    },
    error::AppError,
    graphql::pagination::{self, TotalCount},
    money::{Currency, Money as MoneyValue},
};

/// Whether a shop is open.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ShopStatus {
    /// Open: its active products are public.
    Active,
    /// Suspended by an admin: hidden from buyers.
    Suspended,
}

/// Where a product is in its life.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum ProductStatus {
    /// Being prepared; only the shop sees it.
    Draft,
    /// Published: buyers see it.
    Active,
    /// Withdrawn; only the shop sees it.
    Archived,
}

/// How to order products.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum ProductSortKey {
    /// Best text matches first (with `search`; otherwise newest).
    Relevance,
    /// Most recently listed first.
    #[default]
    Newest,
    /// Cheapest first.
    PriceAsc,
    /// Most expensive first.
    PriceDesc,
}

impl From<ProductSortKey> for ProductSort {
    fn from(k: ProductSortKey) -> Self {
        match k {
            ProductSortKey::Relevance => Self::Relevance,
            ProductSortKey::Newest => Self::Newest,
            ProductSortKey::PriceAsc => Self::PriceAsc,
            ProductSortKey::PriceDesc => Self::PriceDesc,
        }
    }
}

/// A page of products with cursors, page info and the total count.
pub type ProductConnection = Connection<String, Product, TotalCount>;

/// Turns a listing page into a connection in the given view.
pub fn product_connection(page: ProductPage, view: &View) -> ProductConnection {
    let mut connection = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        TotalCount {
            total_count: page.total_count,
        },
    );
    connection.edges = page
        .items
        .into_iter()
        .map(|(model, cursor)| Edge::new(cursor, Product(model, view.clone())))
        .collect();
    connection
}

/// An artisan's shop.
pub struct Shop(pub shops::Model, pub View);

/// An artisan's shop: who they are, where they work, what they sell.
#[Object]
impl Shop {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Address of the shop, unique: `darkhan.mn/{slug}`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Shop name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// ISO 3166-1 alpha-2 country code of the workshop.
    async fn country(&self) -> &str {
        &self.0.country
    }
    /// Region (aimag) of the workshop, e.g. Arkhangai.
    async fn region(&self) -> &str {
        &self.0.region
    }
    /// ISO 4217 currency the shop prices in and is paid in.
    async fn settlement_currency(&self) -> &str {
        &self.0.settlement_currency
    }
    /// Language the shop writes in first; the fallback for its texts.
    async fn default_language(&self) -> &str {
        &self.0.default_language
    }
    /// Open or suspended.
    async fn status(&self) -> ShopStatus {
        match self.0.status {
            DbShopStatus::Active => ShopStatus::Active,
            DbShopStatus::Suspended => ShopStatus::Suspended,
        }
    }
    /// The shop's story in the reader's language, if written.
    async fn story(&self) -> Option<String> {
        Texts::from_json(&self.0.story)
            .pick(&self.1.languages, &self.0.default_language)
            .map(|(_, text)| text.to_owned())
    }
    /// Language of `story`.
    async fn story_language(&self) -> Option<String> {
        Texts::from_json(&self.0.story)
            .pick(&self.1.languages, &self.0.default_language)
            .map(|(lang, _)| lang.to_owned())
    }
    /// The people who make the shop's work.
    async fn makers(&self, ctx: &Context<'_>) -> Result<Vec<Maker>> {
        let loaders = loaders(ctx)?;
        let makers = Loaders::many(&loaders.shop_makers, self.0.id).await?;
        Ok(makers
            .into_iter()
            .map(|m| Maker(m, self.0.default_language.clone(), self.1.clone()))
            .collect())
    }
    /// The shop's published products.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Order of the products (default NEWEST).")] sort: Option<ProductSortKey>,
        #[graphql(desc = "Return the first n products after `after` (at most 100).")] first: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n products before `before` (at most 100).")] last: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<ProductConnection> {
        let state = ctx.data::<crate::app::AppState>()?;
        let filter = ProductFilter {
            shop_id: Some(self.0.id),
            ..Default::default()
        };
        let page = listing::list(
            &state.db,
            &filter,
            sort.unwrap_or_default().into(),
            PageRequest {
                first,
                after,
                last,
                before,
                want_total: wants_total(ctx),
            },
        )
        .await?;
        Ok(product_connection(page, &self.1))
    }
    /// When the shop opened (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// A person who makes a shop's work.
pub struct Maker(pub makers::Model, pub String, pub View);

/// A person who makes a shop's work: what buyers of handmade goods want to know.
#[Object]
impl Maker {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The maker's name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Where the maker lives and works.
    async fn region(&self) -> &str {
        &self.0.region
    }
    /// The maker's craft, e.g. felt-making or silversmithing.
    async fn craft(&self) -> &str {
        &self.0.craft
    }
    /// Years the maker has practised the craft.
    async fn years_practising(&self) -> Option<i32> {
        self.0.years_practising
    }
    /// Short biography in the reader's language, if written.
    async fn biography(&self) -> Option<String> {
        Texts::from_json(&self.0.biography)
            .pick(&self.2.languages, &self.1)
            .map(|(_, text)| text.to_owned())
    }
    /// Language of `biography`.
    async fn biography_language(&self) -> Option<String> {
        Texts::from_json(&self.0.biography)
            .pick(&self.2.languages, &self.1)
            .map(|(lang, _)| lang.to_owned())
    }
}

/// A maker's part in a product.
#[derive(SimpleObject)]
pub struct ProductMaker {
    /// Who.
    pub maker: Maker,
    /// What they did, e.g. carver or felt-maker.
    pub role: String,
}

/// A product's title and description in one language.
#[derive(SimpleObject)]
pub struct ProductTranslation {
    /// BCP 47 language tag.
    pub language: String,
    /// Title in that language.
    pub title: String,
    /// Description in that language.
    pub description: String,
}

/// One option of a variant.
#[derive(SimpleObject)]
pub struct VariantOption {
    /// Option name, e.g. size or colour.
    pub name: String,
    /// Option value, e.g. L or red.
    pub value: String,
}

/// A product listed by a shop.
pub struct Product(pub products::Model, pub View);

impl Product {
    async fn shop_model(&self, ctx: &Context<'_>) -> Result<shops::Model> {
        Ok(Loaders::one(&loaders(ctx)?.shops, self.0.shop_id)
            .await?
            .ok_or_else(|| AppError::NotFound("shop missing".into()))?)
    }

    async fn text(&self, ctx: &Context<'_>) -> Result<Option<(String, String, String)>> {
        let shop = self.shop_model(ctx).await?;
        let translations = Loaders::many(&loaders(ctx)?.translations, self.0.id).await?;
        let available: Vec<&str> = translations.iter().map(|t| t.language.as_str()).collect();
        let chosen =
            crate::i18n::pick_language(&available, &self.1.languages, &shop.default_language);
        Ok(chosen.and_then(|lang| {
            translations
                .iter()
                .find(|t| t.language == lang)
                .map(|t| (t.language.clone(), t.title.clone(), t.description.clone()))
        }))
    }

    fn base_price(&self) -> Result<MoneyValue> {
        let currency = Currency::parse(&self.0.currency)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("product currency unreadable")))?;
        Ok(MoneyValue::new(self.0.price_minor, currency))
    }
}

/// A product listed by a shop, read in the requested language and currency.
#[Object]
impl Product {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Address within the shop: `darkhan.mn/{shop}/{slug}`.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Draft, active or archived.
    async fn status(&self) -> ProductStatus {
        match self.0.status {
            DbProductStatus::Draft => ProductStatus::Draft,
            DbProductStatus::Active => ProductStatus::Active,
            DbProductStatus::Archived => ProductStatus::Archived,
        }
    }
    /// The shop selling it.
    async fn shop(&self, ctx: &Context<'_>) -> Result<Shop> {
        Ok(Shop(self.shop_model(ctx).await?, self.1.clone()))
    }
    /// Title in the reader's language (see `language`).
    async fn title(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.text(ctx).await?.map(|t| t.1))
    }
    /// Description in the reader's language (see `language`).
    async fn description(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.text(ctx).await?.map(|t| t.2))
    }
    /// The language `title` and `description` are in: the one asked for when written, else
    /// the shop's, else English.
    async fn language(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        Ok(self.text(ctx).await?.map(|t| t.0))
    }
    /// Every translation, for editing.
    async fn translations(&self, ctx: &Context<'_>) -> Result<Vec<ProductTranslation>> {
        let rows = Loaders::many(&loaders(ctx)?.translations, self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(|t| ProductTranslation {
                language: t.language,
                title: t.title,
                description: t.description,
            })
            .collect())
    }
    /// The category it is listed under.
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let Some(id) = self.0.category_id else {
            return Ok(None);
        };
        let all = loaders(ctx)?.categories().await?;
        Ok(all
            .iter()
            .find(|c| c.id == id)
            .map(|c| Category(c.clone(), self.1.clone())))
    }
    /// Base price in the requested currency (converted at today's rate), or in the shop's.
    async fn price(&self, ctx: &Context<'_>) -> Result<Money> {
        Ok(display(ctx, &self.1, self.base_price()?).await?)
    }
    /// Base price as the shop set it, in the shop's currency.
    async fn original_price(&self) -> Result<Money> {
        Ok(self.base_price()?.into())
    }
    /// Made by hand.
    async fn handmade(&self) -> bool {
        self.0.handmade
    }
    /// Made after the order is placed.
    async fn made_to_order(&self) -> bool {
        self.0.made_to_order
    }
    /// Days to make or prepare before shipping.
    async fn processing_days(&self) -> i32 {
        self.0.processing_days
    }
    /// Materials, e.g. sheep wool, silver.
    async fn materials(&self) -> Vec<String> {
        serde_json::from_str(&self.0.materials).unwrap_or_default()
    }
    /// Techniques, e.g. wet felting, filigree.
    async fn techniques(&self) -> Vec<String> {
        serde_json::from_str(&self.0.techniques).unwrap_or_default()
    }
    /// Region the craft comes from.
    async fn origin_region(&self) -> Option<&str> {
        self.0.origin_region.as_deref()
    }
    /// Harmonized System code for customs, 6 to 10 digits.
    async fn hs_code(&self) -> Option<&str> {
        self.0.hs_code.as_deref()
    }
    /// Shipping weight in grams.
    async fn weight_grams(&self) -> Option<i32> {
        self.0.weight_grams
    }
    /// Buyable versions, each with SKU, options, price and stock.
    async fn variants(&self, ctx: &Context<'_>) -> Result<Vec<Variant>> {
        let rows = Loaders::many(&loaders(ctx)?.variants, self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(|v| {
                Variant(
                    v,
                    self.0.currency.clone(),
                    self.0.price_minor,
                    self.1.clone(),
                )
            })
            .collect())
    }
    /// Whether any variant has stock.
    async fn in_stock(&self, ctx: &Context<'_>) -> Result<bool> {
        let rows = Loaders::many(&loaders(ctx)?.variants, self.0.id).await?;
        Ok(rows.iter().any(|v| v.stock > 0))
    }
    /// Photos in display order.
    async fn images(&self, ctx: &Context<'_>) -> Result<Vec<Image>> {
        let shop = self.shop_model(ctx).await?;
        let rows = Loaders::many(&loaders(ctx)?.images, self.0.id).await?;
        Ok(rows
            .into_iter()
            .map(|i| Image(i, shop.default_language.clone(), self.1.clone()))
            .collect())
    }
    /// Who made it, and how.
    async fn makers(&self, ctx: &Context<'_>) -> Result<Vec<ProductMaker>> {
        let loaders = loaders(ctx)?;
        let links = Loaders::many(&loaders.product_makers, self.0.id).await?;
        let ids: Vec<uuid::Uuid> = links.iter().map(|l| l.maker_id).collect();
        let makers = loaders
            .makers
            .load_many(ids)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("loading makers: {e}")))?;
        let shop = self.shop_model(ctx).await?;
        Ok(links
            .into_iter()
            .filter_map(|link| {
                let maker = makers.get(&link.maker_id)?.first()?.clone();
                Some(ProductMaker {
                    maker: Maker(maker, shop.default_language.clone(), self.1.clone()),
                    role: link.role,
                })
            })
            .collect())
    }
    /// When it was listed (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was first published (UTC).
    async fn published_at(&self) -> Option<DateTime<Utc>> {
        self.0.published_at
    }
}

/// A buyable version of a product.
pub struct Variant(pub product_variants::Model, pub String, pub i64, pub View);

impl Variant {
    fn own_price(&self) -> Result<MoneyValue> {
        let currency = Currency::parse(&self.1)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("currency unreadable")))?;
        Ok(MoneyValue::new(
            self.0.price_override_minor.unwrap_or(self.2),
            currency,
        ))
    }
}

/// A buyable version of a product, with its own SKU, options and stock.
#[Object]
impl Variant {
    /// Stable identifier; carts and orders refer to it.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Stock-keeping unit, unique within the shop.
    async fn sku(&self) -> &str {
        &self.0.sku
    }
    /// Option values such as size and colour.
    async fn options(&self) -> Vec<VariantOption> {
        serde_json::from_str::<Vec<OptionValue>>(&self.0.options)
            .unwrap_or_default()
            .into_iter()
            .map(|o| VariantOption {
                name: o.name,
                value: o.value,
            })
            .collect()
    }
    /// Price in the requested currency.
    async fn price(&self, ctx: &Context<'_>) -> Result<Money> {
        Ok(display(ctx, &self.3, self.own_price()?).await?)
    }
    /// Price as the shop set it.
    async fn original_price(&self) -> Result<Money> {
        Ok(self.own_price()?.into())
    }
    /// Units available now.
    async fn stock(&self) -> i32 {
        self.0.stock
    }
    /// Whether at least one unit is available.
    async fn in_stock(&self) -> bool {
        self.0.stock > 0
    }
}

/// A product photo.
pub struct Image(pub product_images::Model, pub String, pub View);

/// A product photo with alt text in the reader's language.
#[Object]
impl Image {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Where the photo is.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// Description of the photo for screen readers, in the reader's language.
    async fn alt(&self) -> Option<String> {
        Texts::from_json(&self.0.alt)
            .pick(&self.2.languages, &self.1)
            .map(|(_, t)| t.to_owned())
    }
    /// Display order, from 0.
    async fn position(&self) -> i32 {
        self.0.position
    }
}

/// A category of craft.
#[derive(Clone)]
pub struct Category(pub categories::Model, pub View);

/// A category of craft in the curated tree, e.g. Felt > Felt rugs and shirdeg.
#[Object]
impl Category {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Address, unique.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Name in the reader's language.
    async fn name(&self) -> Option<String> {
        Texts::from_json(&self.0.names)
            .pick(&self.1.languages, "en")
            .map(|(_, t)| t.to_owned())
    }
    /// Language of `name`.
    async fn language(&self) -> Option<String> {
        Texts::from_json(&self.0.names)
            .pick(&self.1.languages, "en")
            .map(|(l, _)| l.to_owned())
    }
    /// The category above, if any.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let Some(parent) = self.0.parent_id else {
            return Ok(None);
        };
        let all = loaders(ctx)?.categories().await?;
        Ok(all
            .iter()
            .find(|c| c.id == parent)
            .map(|c| Category(c.clone(), self.1.clone())))
    }
    /// The categories directly below.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let all = loaders(ctx)?.categories().await?;
        Ok(all
            .iter()
            .filter(|c| c.parent_id == Some(self.0.id))
            .map(|c| Category(c.clone(), self.1.clone()))
            .collect())
    }
}

/// A curated list of products.
pub struct Collection(pub collections::Model, pub View);

/// A curated list of products, by the platform (featured on the home page) or by a shop.
#[Object]
impl Collection {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Address, unique.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    /// Name in the reader's language.
    async fn name(&self) -> Option<String> {
        Texts::from_json(&self.0.names)
            .pick(&self.1.languages, "en")
            .map(|(_, t)| t.to_owned())
    }
    /// Description in the reader's language.
    async fn description(&self) -> Option<String> {
        Texts::from_json(&self.0.descriptions)
            .pick(&self.1.languages, "en")
            .map(|(_, t)| t.to_owned())
    }
    /// Shown on the home page.
    async fn featured(&self) -> bool {
        self.0.featured
    }
    /// The shop that curates it; none for the platform's own collections.
    async fn shop(&self, ctx: &Context<'_>) -> Result<Option<Shop>> {
        let Some(shop) = self.0.shop_id else {
            return Ok(None);
        };
        Ok(Loaders::one(&loaders(ctx)?.shops, shop)
            .await?
            .map(|s| Shop(s, self.1.clone())))
    }
    /// The published products in it.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Order of the products (default NEWEST).")] sort: Option<ProductSortKey>,
        #[graphql(desc = "Return the first n products after `after` (at most 100).")] first: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n products before `before` (at most 100).")] last: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<ProductConnection> {
        let state = ctx.data::<crate::app::AppState>()?;
        let filter = ProductFilter {
            collection_id: Some(self.0.id),
            ..Default::default()
        };
        let page = listing::list(
            &state.db,
            &filter,
            sort.unwrap_or_default().into(),
            PageRequest {
                first,
                after,
                last,
                before,
                want_total: wants_total(ctx),
            },
        )
        .await?;
        Ok(product_connection(page, &self.1))
    }
}

/// An exchange rate set by the marketplace.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct ExchangeRate {
    /// The currency one unit of which is priced.
    pub base: String,
    /// The currency the price is in.
    pub quote: String,
    /// How many `quote` one `base` buys, as an exact decimal string.
    pub rate: String,
    /// When it was last set (UTC).
    pub updated_at: DateTime<Utc>,
}

#[ComplexObject]
impl ExchangeRate {
    /// The pair as `BASE/QUOTE`.
    async fn pair(&self) -> String {
        format!("{}/{}", self.base, self.quote)
    }
}

impl From<exchange_rates::Model> for ExchangeRate {
    fn from(r: exchange_rates::Model) -> Self {
        Self {
            base: r.base,
            quote: r.quote,
            rate: r.rate,
            updated_at: r.updated_at,
        }
    }
}
