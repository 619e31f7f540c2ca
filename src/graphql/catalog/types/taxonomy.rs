//! Categories, collections and exchange rates.

use super::*;

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
        Ok(crate::kit::loaders::one(&loaders(ctx)?.shops, shop)
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
        let filter = ProductFilter {
            collection_id: Some(self.0.id),
            ..Default::default()
        };
        list_products(ctx, &filter, sort, first, after, last, before, &self.1).await
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
