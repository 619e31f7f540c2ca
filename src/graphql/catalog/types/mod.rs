//! Catalogue object types. Each wraps an entity with the `View` it is read in.

mod product;
mod shop;
mod taxonomy;

pub use product::*;
pub use shop::*;
pub use taxonomy::*;

use async_graphql::{
    ComplexObject, Context, Enum, ID, Object, Result, SimpleObject,
    connection::{Connection, Edge},
};
use chrono::{DateTime, Utc};

use super::{Money, View, display, inputs::MakerGender, loaders, wants_total};
use crate::graphql::{
    marketing::{Rating, Review},
    media::{Image, ImageSource},
};
use crate::{
    catalog::{
        listing::{self, PageRequest, ProductFilter, ProductPage, ProductSort},
        products::OptionValue,
        texts::Texts,
    },
    entities::{
        categories, collections, exchange_rates, images, makers, product_variants,
        products::{self, ProductStatus as DbProductStatus},
        shops::{self, ShopStatus as DbShopStatus},
    },
    error::AppError,
    kit::pagination::{self, TotalCount},
    money::{Currency, Money as MoneyValue},
};

/// A page of visible reviews of a product or a shop, newest first.
async fn reviews_page(
    ctx: &Context<'_>,
    product: Option<uuid::Uuid>,
    shop: Option<uuid::Uuid>,
    (first, after, last, before): (Option<i64>, Option<String>, Option<i64>, Option<String>),
) -> Result<pagination::IdConnection<Review>> {
    let state = ctx.data::<crate::state::AppState>()?;
    let select = crate::marketing::reviews::visible(product, shop);
    let page = pagination::PageArgs::new(first, after, last, before)?.newest_first();
    let page = pagination::by_id(
        &state.db,
        select,
        crate::entities::reviews::Column::Id,
        page,
    )
    .await?;
    Ok(page.into_connection(|r| r.id, Review))
}

/// An uploaded photo by id, batched across the request.
async fn photo(ctx: &Context<'_>, id: uuid::Uuid) -> Result<Option<images::Model>> {
    let loaders = crate::kit::data::<crate::media::loaders::MediaLoaders>(ctx)?;
    Ok(crate::kit::loaders::one(&loaders.images, id).await?)
}

/// A single uploaded photo (a logo, banner or portrait) as an `Image` with `alt` text.
async fn single_photo(
    ctx: &Context<'_>,
    id: Option<uuid::Uuid>,
    alt: &str,
) -> Result<Option<Image>> {
    let Some(id) = id else { return Ok(None) };
    Ok(photo(ctx, id).await?.map(|image| Image {
        id: image.id,
        source: ImageSource::Uploaded(image),
        alt: Some(alt.to_owned()),
        position: 0,
    }))
}

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
    /// Best rated first; products without reviews last.
    RatingDesc,
}

impl From<ProductSortKey> for ProductSort {
    fn from(k: ProductSortKey) -> Self {
        match k {
            ProductSortKey::Relevance => Self::Relevance,
            ProductSortKey::Newest => Self::Newest,
            ProductSortKey::PriceAsc => Self::PriceAsc,
            ProductSortKey::PriceDesc => Self::PriceDesc,
            ProductSortKey::RatingDesc => Self::RatingDesc,
        }
    }
}

/// A page of products with cursors, page info and the total count.
pub type ProductConnection = Connection<String, Product, TotalCount>;

/// Lists products for a connection field: the service's page, as nodes in the view.
#[allow(clippy::too_many_arguments)]
pub async fn list_products(
    ctx: &Context<'_>,
    filter: &ProductFilter,
    sort: Option<ProductSortKey>,
    first: Option<i64>,
    after: Option<String>,
    last: Option<i64>,
    before: Option<String>,
    view: &View,
) -> Result<ProductConnection> {
    let state = ctx.data::<crate::state::AppState>()?;
    let page = PageRequest {
        first,
        after,
        last,
        before,
        want_total: wants_total(ctx),
    };
    let caller = crate::auth::CallerExt::caller(ctx);
    let by_stock = filter.in_stock.is_some();
    let page = listing::list(state, caller, filter, sort.unwrap_or_default().into(), page).await?;
    if let Some(read) = ctx.data_opt::<crate::cache::ReadSet>() {
        read.products(page.items.iter().map(|(c, _)| c.product.id), by_stock);
    }
    // The fields find the page's cards without waiting for a batch.
    let cards: Vec<_> = page.items.iter().map(|(c, _)| c.clone()).collect();
    loaders(ctx)?.know(cards).await;
    Ok(product_connection(page, view))
}

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
        .map(|(card, cursor)| Edge::new(cursor, Product(card.product.clone(), view.clone())))
        .collect();
    connection
}
