//! Catalogue queries.

use async_graphql::{Context, ID, Object, Result};

use super::{
    View,
    inputs::ProductFilterInput,
    loaders,
    types::{
        Category, Collection, ExchangeRate, Product, ProductConnection, ProductSortKey, Shop,
        list_products,
    },
    uuid,
};
use crate::{
    auth::CallerExt,
    catalog::{cards, listing::ProductFilter, shops, taxonomy},
    entities::{
        collections,
        shops::{self as shop_rows},
    },
    error::AppError,
    kit::pagination::{self, IdConnection, PageArgs},
    money::Currency,
    state::AppState,
};

#[derive(Default)]
pub struct CatalogQuery;

#[Object]
impl CatalogQuery {
    /// A shop by its address. Suspended shops are visible only to their owner and admins.
    async fn shop(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop's slug.")] slug: String,
        #[graphql(desc = "BCP 47 tag to read texts in; default from Accept-Language.")]
        language: Option<String>,
    ) -> Result<Shop> {
        let state = ctx.data::<AppState>()?;
        let view = View::new(ctx, language, None)?;
        Ok(Shop(
            shops::shop_by_slug(&state.db, ctx.caller(), &slug).await?,
            view,
        ))
    }

    /// The signed-in artisan's shop, if they have opened one.
    async fn my_shop(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "BCP 47 tag to read texts in; default from Accept-Language.")]
        language: Option<String>,
    ) -> Result<Option<Shop>> {
        let state = ctx.data::<AppState>()?;
        let user = ctx.current_user()?;
        let view = View::new(ctx, language, None)?;
        Ok(shops::shop_of(&state.db, user.id)
            .await?
            .map(|s| Shop(s, view)))
    }

    /// Open shops, oldest first.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn shops(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only shops in this country (ISO 3166-1 alpha-2).")] country: Option<
            String,
        >,
        #[graphql(desc = "Only shops with published products in this category or below.")]
        category_id: Option<ID>,
        #[graphql(desc = "BCP 47 tag to read texts in.")] language: Option<String>,
        #[graphql(desc = "Return the first n shops after `after` (at most 100).")] first: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n shops before `before` (at most 100).")] last: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<IdConnection<Shop>> {
        let state = ctx.data::<AppState>()?;
        let view = View::new(ctx, language, None)?;
        let page = PageArgs::new(first, after, last, before)?;
        let categories = match category_id {
            Some(category) => {
                let category = uuid("categoryId", &category)?;
                Some(taxonomy::subtree(
                    loaders(ctx)?.categories().await?,
                    category,
                ))
            }
            None => None,
        };
        let select = shops::open_shops(country.as_deref(), categories);
        let page = pagination::by_id(&state.db, select, shop_rows::Column::Id, page).await?;
        Ok(page.into_connection(|s| s.id, |s| Shop(s, view.clone())))
    }

    /// One product, by `id` or by `shopSlug` and `slug`. Drafts are visible only to their shop
    /// and admins.
    #[allow(clippy::too_many_arguments)]
    async fn product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product's id.")] id: Option<ID>,
        #[graphql(desc = "The shop's slug (with `slug`).")] shop_slug: Option<String>,
        #[graphql(desc = "The product's slug within the shop (with `shopSlug`).")] slug: Option<
            String,
        >,
        #[graphql(desc = "BCP 47 tag to read texts in; default from Accept-Language.")]
        language: Option<String>,
        #[graphql(desc = "ISO 4217 code to show prices in; default the shop's currency.")] currency: Option<String>,
        #[graphql(
            desc = "Given by a front end showing the product page to a buyer: the read counts as a view in the shop's analytics (not for robots or the shop's own people), and the answer is not cached."
        )]
        count_view: Option<crate::graphql::distribution::CountViewInput>,
    ) -> Result<Product> {
        let state = ctx.data::<AppState>()?;
        let view = View::priced(ctx, language, currency).await?;
        let caller = ctx.caller();
        let card = match (id, shop_slug, slug) {
            (Some(id), _, _) => cards::card_by_id(state, caller, uuid("id", &id)?).await?,
            (None, Some(shop), Some(slug)) => {
                cards::card_by_address(state, caller, &shop, &slug).await?
            }
            _ => return Err(AppError::invalid("id", "give id, or shopSlug and slug").into()),
        };
        let product = card.product.clone();
        loaders(ctx)?.know([card]).await;
        if let Some(read) = ctx.data_opt::<crate::cache::ReadSet>() {
            read.products([product.id], false);
        }
        if let Some(counting) = count_view {
            counting.count(ctx, product.shop_id, product.id).await?;
        }
        Ok(Product(product, view))
    }

    /// Browse and search the catalogue.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn products(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to narrow the list to.")] filter: Option<ProductFilterInput>,
        #[graphql(desc = "Order (default NEWEST); RELEVANCE applies with `filter.search`.")]
        sort: Option<ProductSortKey>,
        #[graphql(desc = "BCP 47 tag to read texts in; default from Accept-Language.")]
        language: Option<String>,
        #[graphql(desc = "ISO 4217 code to show prices (and price filters) in.")] currency: Option<
            String,
        >,
        #[graphql(desc = "Return the first n products after `after` (at most 100).")] first: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n products before `before` (at most 100).")] last: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<ProductConnection> {
        let state = ctx.data::<AppState>()?;
        let view = View::priced(ctx, language, currency).await?;
        let filter = product_filter(ctx, state, filter.unwrap_or_default(), view.currency).await?;
        list_products(ctx, &filter, sort, first, after, last, before, &view).await
    }

    /// The category tree: top-level categories, each with its children.
    async fn categories(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "BCP 47 tag to read names in.")] language: Option<String>,
    ) -> Result<Vec<Category>> {
        let view = View::new(ctx, language, None)?;
        let all = loaders(ctx)?.categories().await?;
        Ok(all
            .iter()
            .filter(|c| c.parent_id.is_none())
            .map(|c| Category(c.clone(), view.clone()))
            .collect())
    }

    /// One category by slug.
    async fn category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The category's slug.")] slug: String,
        #[graphql(desc = "BCP 47 tag to read names in.")] language: Option<String>,
    ) -> Result<Category> {
        let view = View::new(ctx, language, None)?;
        let all = loaders(ctx)?.categories().await?;
        all.iter()
            .find(|c| c.slug == slug)
            .map(|c| Category(c.clone(), view))
            .ok_or_else(|| AppError::NotFound("no such category".into()).into())
    }

    /// Curated collections, oldest first.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn collections(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only featured (true) or other (false) collections.")] featured: Option<
            bool,
        >,
        #[graphql(desc = "Only this shop's collections.")] shop_slug: Option<String>,
        #[graphql(desc = "BCP 47 tag to read texts in.")] language: Option<String>,
        #[graphql(desc = "ISO 4217 code to show prices in.")] currency: Option<String>,
        #[graphql(desc = "Return the first n collections after `after` (at most 100).")]
        first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n collections before `before` (at most 100).")]
        last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<IdConnection<Collection>> {
        let state = ctx.data::<AppState>()?;
        let view = View::priced(ctx, language, currency).await?;
        let page = PageArgs::new(first, after, last, before)?;
        let select =
            taxonomy::collections(&state.db, ctx.caller(), featured, shop_slug.as_deref()).await?;
        let page = pagination::by_id(&state.db, select, collections::Column::Id, page).await?;
        Ok(page.into_connection(|c| c.id, |c| Collection(c, view.clone())))
    }

    /// One collection by slug.
    async fn collection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The collection's slug.")] slug: String,
        #[graphql(desc = "BCP 47 tag to read texts in.")] language: Option<String>,
        #[graphql(desc = "ISO 4217 code to show prices in.")] currency: Option<String>,
    ) -> Result<Collection> {
        let state = ctx.data::<AppState>()?;
        let view = View::priced(ctx, language, currency).await?;
        let collection = taxonomy::collection_by_slug(&state.db, &slug).await?;
        Ok(Collection(collection, view))
    }

    /// Every exchange rate the marketplace converts prices with.
    async fn exchange_rates(&self, ctx: &Context<'_>) -> Result<Vec<ExchangeRate>> {
        let state = ctx.data::<AppState>()?;
        let rows = crate::catalog::rates::all(&state.db).await?;
        Ok(rows.into_iter().map(ExchangeRate::from).collect())
    }
}

/// Resolves the GraphQL filter into the service's, checking who may see unpublished products.
async fn product_filter(
    ctx: &Context<'_>,
    state: &AppState,
    input: ProductFilterInput,
    currency: Option<Currency>,
) -> Result<ProductFilter, AppError> {
    let caller = ctx.caller();
    let shop = match &input.shop_slug {
        Some(slug) => Some(shops::shop_by_slug(&state.db, caller, slug).await?),
        None => None,
    };
    Ok(ProductFilter {
        search: input.search,
        category_id: input
            .category_id
            .as_ref()
            .map(|id| uuid("categoryId", id))
            .transpose()?,
        shop_id: shop.map(|s| s.id),
        maker_id: input
            .maker_id
            .as_ref()
            .map(|id| uuid("makerId", id))
            .transpose()?,
        collection_id: None,
        country: input.country,
        materials: input.materials,
        min_price: input.min_price,
        max_price: input.max_price,
        price_currency: currency,
        in_stock: input.in_stock,
        made_to_order: input.made_to_order,
        min_rating: input.min_rating,
        include_unpublished: input.include_unpublished,
    })
}
