//! Shops and makers.

use super::*;

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
    /// How buyers rated the shop, from the visible reviews of all its products.
    async fn rating(&self, ctx: &Context<'_>) -> Result<Rating> {
        let loaders = crate::kit::data::<crate::marketing::MarketingLoaders>(ctx)?;
        Ok(Rating(
            crate::marketing::loaders::rating(&loaders.shop_ratings, self.0.id).await?,
        ))
    }
    /// How many buyers and guests saved the shop.
    async fn favourite_count(&self, ctx: &Context<'_>) -> Result<i64> {
        let loaders = crate::kit::data::<crate::marketing::MarketingLoaders>(ctx)?;
        Ok(crate::marketing::loaders::favourite_count(&loaders.shop_favourites, self.0.id).await?)
    }
    /// Visible reviews of the shop's products, newest first.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<Review>> {
        reviews_page(ctx, None, Some(self.0.id), (first, after, last, before)).await
    }
    /// The shop's logo, if it has uploaded one.
    async fn logo(&self, ctx: &Context<'_>) -> Result<Option<Image>> {
        single_photo(ctx, self.0.logo_image_id, &self.0.name).await
    }
    /// The wide picture at the top of the shop's page, if it has uploaded one.
    async fn banner(&self, ctx: &Context<'_>) -> Result<Option<Image>> {
        single_photo(ctx, self.0.banner_image_id, &self.0.name).await
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
        let makers = crate::kit::loaders::many(&loaders.shop_makers, self.0.id).await?;
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
        let filter = ProductFilter {
            shop_id: Some(self.0.id),
            ..Default::default()
        };
        list_products(ctx, &filter, sort, first, after, last, before, &self.1).await
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
    /// The maker's portrait, if the shop has uploaded one.
    async fn portrait(&self, ctx: &Context<'_>) -> Result<Option<Image>> {
        single_photo(ctx, self.0.portrait_image_id, &self.0.name).await
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
    /// What the maker consented to be counted by in the market statistics; shown only to
    /// whoever manages the shop (null for everyone else, and when the maker has not
    /// consented).
    async fn statistics(&self, ctx: &Context<'_>) -> Result<Option<MakerStatistics>> {
        if self.0.statistics_consent_at.is_none() {
            return Ok(None);
        }
        let Some(shop) = crate::kit::loaders::one(&loaders(ctx)?.shops, self.0.shop_id).await?
        else {
            return Ok(None);
        };
        Ok(
            crate::catalog::shops::maker_statistics(&self.0, &shop, self.2.caller).map(
                |(consented_at, declared)| MakerStatistics {
                    consented_at,
                    gender: declared.gender.map(Into::into),
                    birth_year: declared.birth_year,
                    cooperative_member: declared.cooperative_member,
                },
            ),
        )
    }
}

/// A maker's consented, self-declared characteristics.
#[derive(SimpleObject)]
pub struct MakerStatistics {
    /// When the maker's consent was recorded.
    pub consented_at: DateTime<Utc>,
    /// Self-declared gender.
    pub gender: Option<MakerGender>,
    /// Year of birth.
    pub birth_year: Option<i32>,
    /// Whether the maker belongs to a cooperative.
    pub cooperative_member: Option<bool>,
}
