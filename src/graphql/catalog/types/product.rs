//! Products, variants, images and credits.

use std::sync::Arc;

use super::*;
use crate::{
    catalog::{cards::Card, sales},
    entities::product_translations,
};

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
    async fn card(&self, ctx: &Context<'_>) -> Result<Arc<Card>> {
        Ok(loaders(ctx)?.card(self.0.id).await?)
    }

    /// The translation read in the view's language.
    async fn text<T>(
        &self,
        ctx: &Context<'_>,
        part: impl FnOnce(&product_translations::Model) -> T,
    ) -> Result<Option<T>> {
        let card = self.card(ctx).await?;
        let available: Vec<&str> = card
            .translations
            .iter()
            .map(|t| t.language.as_str())
            .collect();
        let chosen =
            crate::i18n::pick_language(&available, &self.1.languages, &card.shop.default_language);
        Ok(chosen.and_then(|lang| {
            card.translations
                .iter()
                .find(|t| t.language == lang)
                .map(part)
        }))
    }

    fn base_price(&self) -> Result<MoneyValue> {
        let currency = Currency::parse(&self.0.currency)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("product currency unreadable")))?;
        Ok(MoneyValue::new(self.0.price_minor, currency))
    }

    /// The live sale offer that lowers the base price (one for every variant), if any.
    async fn sale_offer(&self, ctx: &Context<'_>) -> Result<Option<(i64, sales::Offer)>> {
        let offers = loaders(ctx)?.offers(self.0.id).await?;
        Ok(sales::base_offer(&self.0, &offers).map(|(price, offer)| (price, offer.clone())))
    }
}

/// The sale a price is lowered by.
#[derive(SimpleObject)]
pub struct SaleTerms {
    /// The sale's title, e.g. "Naadam sale".
    pub title: String,
    /// The percentage the sale takes off, when it is one.
    pub percent_off: Option<i32>,
    /// When the sale ends by itself (UTC).
    pub ends_at: DateTime<Utc>,
}

impl From<sales::Offer> for SaleTerms {
    fn from(o: sales::Offer) -> Self {
        Self {
            title: o.title,
            percent_off: o.percent_off,
            ends_at: o.ends_at,
        }
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
        Ok(Shop((*self.card(ctx).await?.shop).clone(), self.1.clone()))
    }
    /// Title in the reader's language (see `language`).
    async fn title(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.text(ctx, |t| t.title.clone()).await
    }
    /// Description in the reader's language (see `language`).
    async fn description(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.text(ctx, |t| t.description.clone()).await
    }
    /// The language `title` and `description` are in: the one asked for when written, else
    /// the shop's, else English.
    async fn language(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        self.text(ctx, |t| t.language.clone()).await
    }
    /// Every translation, for editing.
    async fn translations(&self, ctx: &Context<'_>) -> Result<Vec<ProductTranslation>> {
        Ok(self
            .card(ctx)
            .await?
            .translations
            .iter()
            .map(|t| ProductTranslation {
                language: t.language.clone(),
                title: t.title.clone(),
                description: t.description.clone(),
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
    /// What the base variant costs now, in the requested currency (converted at today's
    /// rate) or in the shop's: the sale price while a sale covers every variant.
    async fn price(&self, ctx: &Context<'_>) -> Result<Money> {
        let mut now = self.base_price()?;
        if let Some((sale, _)) = self.sale_offer(ctx).await? {
            now.minor = sale;
        }
        Ok(display(ctx, &self.1, now).await?)
    }
    /// Base price before any sale, in the requested currency: strike it through when it
    /// differs from `price`.
    async fn regular_price(&self, ctx: &Context<'_>) -> Result<Money> {
        Ok(display(ctx, &self.1, self.base_price()?).await?)
    }
    /// Base price as the shop set it (before any sale), in the shop's currency.
    async fn original_price(&self) -> Result<Money> {
        Ok(self.base_price()?.into())
    }
    /// The sale lowering `price` now, if any; it ends by itself at `endsAt`.
    async fn sale(&self, ctx: &Context<'_>) -> Result<Option<SaleTerms>> {
        Ok(self.sale_offer(ctx).await?.map(|(_, o)| o.into()))
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
    /// The shipping profile it ships with; null means the shop's default.
    async fn shipping_profile_id(&self) -> Option<ID> {
        self.0.shipping_profile_id.map(|p| ID(p.to_string()))
    }
    /// Shipping weight in grams.
    async fn weight_grams(&self) -> Option<i32> {
        self.0.weight_grams
    }
    /// Buyable versions, each with SKU, options, price and stock.
    async fn variants(&self, ctx: &Context<'_>) -> Result<Vec<Variant>> {
        Ok(self
            .card(ctx)
            .await?
            .variants
            .iter()
            .map(|v| {
                Variant(
                    v.clone(),
                    self.0.currency.clone(),
                    self.0.price_minor,
                    self.1.clone(),
                )
            })
            .collect())
    }
    /// Whether any variant has stock.
    async fn in_stock(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(self.card(ctx).await?.variants.iter().any(|v| v.stock > 0))
    }
    /// How buyers rated it, from its visible reviews.
    async fn rating(&self, ctx: &Context<'_>) -> Result<Rating> {
        let loaders = crate::kit::data::<crate::marketing::MarketingLoaders>(ctx)?;
        Ok(Rating(
            crate::marketing::loaders::rating(&loaders.product_ratings, self.0.id).await?,
        ))
    }
    /// How many buyers and guests saved it.
    async fn favourite_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let loaders = crate::kit::data::<crate::marketing::MarketingLoaders>(ctx)?;
        Ok(
            crate::marketing::loaders::favourite_count(&loaders.product_favourites, self.0.id)
                .await?,
        )
    }
    /// Its visible reviews, newest first.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<Review>> {
        reviews_page(ctx, Some(self.0.id), None, (first, after, last, before)).await
    }
    /// Photos in display order.
    async fn images(&self, ctx: &Context<'_>) -> Result<Vec<Image>> {
        let card = self.card(ctx).await?;
        let mut out = Vec::with_capacity(card.images.len());
        for row in &card.images {
            let alt = Texts::from_json(&row.alt)
                .pick(&self.1.languages, &card.shop.default_language)
                .map(|(_, t)| t.to_owned());
            let source = match row.image_id {
                Some(id) => match photo(ctx, id).await? {
                    Some(image) => ImageSource::Uploaded(image),
                    None => continue,
                },
                None => ImageSource::External(row.url.clone()),
            };
            out.push(Image {
                id: row.id,
                source,
                alt,
                position: row.position,
            });
        }
        Ok(out)
    }
    /// Who made it, and how.
    async fn makers(&self, ctx: &Context<'_>) -> Result<Vec<ProductMaker>> {
        let card = self.card(ctx).await?;
        Ok(card
            .makers
            .iter()
            .map(|(link, maker)| ProductMaker {
                maker: Maker(
                    (**maker).clone(),
                    card.shop.default_language.clone(),
                    self.1.clone(),
                ),
                role: link.role.clone(),
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

    /// The variant's sale price now and the offer setting it, if a live sale lowers it.
    async fn sale_offer(&self, ctx: &Context<'_>) -> Result<Option<(i64, sales::Offer)>> {
        let offers = loaders(ctx)?.offers(self.0.product_id).await?;
        let list = self.own_price()?.minor;
        Ok(sales::price_now(list, self.0.id, &offers).map(|(p, o)| (p, o.clone())))
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
    /// What it costs now in the requested currency: the sale price during a sale. Carts and
    /// checkout charge exactly this.
    async fn price(&self, ctx: &Context<'_>) -> Result<Money> {
        let mut now = self.own_price()?;
        if let Some((sale, _)) = self.sale_offer(ctx).await? {
            now.minor = sale;
        }
        Ok(display(ctx, &self.3, now).await?)
    }
    /// Price before any sale, in the requested currency.
    async fn regular_price(&self, ctx: &Context<'_>) -> Result<Money> {
        Ok(display(ctx, &self.3, self.own_price()?).await?)
    }
    /// Price as the shop set it (before any sale), in the shop's currency.
    async fn original_price(&self) -> Result<Money> {
        Ok(self.own_price()?.into())
    }
    /// The sale lowering `price` now, if any.
    async fn sale(&self, ctx: &Context<'_>) -> Result<Option<SaleTerms>> {
        Ok(self.sale_offer(ctx).await?.map(|(_, o)| o.into()))
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
