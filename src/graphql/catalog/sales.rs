//! Sales in the GraphQL: a shop puts products on sale for a period and ends it early; prices
//! on products and variants show it by themselves (`price`, `regularPrice`, `sale`).

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    auth::CallerExt,
    catalog::sales::{self, SaleInput, SaleItemInput},
    entities::sales as sale_rows,
    graphql::orders::money,
    kit::{Money, pagination, uuid},
    state::AppState,
};

/// One product (or one variant) put on sale.
#[derive(InputObject)]
pub struct SaleItemFields {
    /// The product, one of the shop's.
    pub product_id: ID,
    /// One variant only; leave out for every variant.
    pub variant_id: Option<ID>,
    /// The price during the sale, a decimal in the product's currency below its price; leave
    /// out to take the sale's `percentOff`.
    pub sale_price: Option<String>,
}

/// A new sale.
#[derive(InputObject)]
pub struct CreateSaleInput {
    /// The shop.
    pub shop_id: ID,
    /// What buyers see, e.g. "Naadam sale" (1 to 120 characters).
    pub title: String,
    /// 1 to 95: what every item without its own sale price takes off.
    pub percent_off: Option<i32>,
    /// When it begins; default now.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it ends by itself.
    pub ends_at: DateTime<Utc>,
    /// What is on sale (1 to 500 items).
    pub items: Vec<SaleItemFields>,
}

/// Ending a sale now.
#[derive(InputObject)]
pub struct EndSaleInput {
    /// The sale.
    pub sale_id: ID,
}

/// A product or variant in a sale.
#[derive(SimpleObject)]
pub struct SaleItem {
    /// The product.
    pub product_id: ID,
    /// The variant, when only one is on sale.
    pub variant_id: Option<ID>,
    /// Its own sale price in the shop's currency; null: the sale's percentage applies.
    pub sale_price: Option<Money>,
}

/// A shop's sale.
pub struct Sale(pub sale_rows::Model);

/// A shop's sale: prices lowered for a period, by a percentage or to sale prices.
#[Object]
impl Sale {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The shop.
    async fn shop_id(&self) -> ID {
        ID(self.0.shop_id.to_string())
    }
    /// What buyers see.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// The percentage items without their own sale price take off.
    async fn percent_off(&self) -> Option<i32> {
        self.0.percent_off
    }
    /// When it begins (UTC).
    async fn starts_at(&self) -> DateTime<Utc> {
        self.0.starts_at
    }
    /// When it ends by itself (UTC).
    async fn ends_at(&self) -> DateTime<Utc> {
        self.0.ends_at
    }
    /// Whether it lowers prices now.
    async fn live(&self) -> bool {
        let now = Utc::now();
        self.0.starts_at <= now && now < self.0.ends_at
    }
    /// What is on sale.
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<SaleItem>> {
        let loaders = ctx.data::<crate::catalog::loaders::Loaders>()?;
        let items = crate::kit::loaders::many(&loaders.sale_items, self.0.id).await?;
        // Products are priced in their shop's settlement currency.
        let currency = crate::kit::loaders::one(&loaders.shops, self.0.shop_id)
            .await?
            .map(|s| s.settlement_currency)
            .unwrap_or_default();
        Ok(items
            .into_iter()
            .map(|i| SaleItem {
                product_id: ID(i.product_id.to_string()),
                variant_id: i.variant_id.map(|v| ID(v.to_string())),
                sale_price: i.sale_price_minor.map(|p| money(p, &currency)),
            })
            .collect())
    }
}

/// Result of a sale mutation.
#[derive(SimpleObject)]
pub struct SalePayload {
    /// The sale after the change.
    pub sale: Sale,
}

#[derive(Default)]
pub struct SaleMutation;

#[Object]
impl SaleMutation {
    /// Puts products on sale for a period (the shop's owner or admins). Prices everywhere,
    /// carts and checkout included, follow it while it is live; it ends by itself.
    async fn create_sale(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sale.")] input: CreateSaleInput,
    ) -> Result<SalePayload> {
        let state = ctx.data::<AppState>()?;
        let items = input
            .items
            .into_iter()
            .map(|i| {
                Ok(SaleItemInput {
                    product_id: uuid("productId", &i.product_id)?,
                    variant_id: i
                        .variant_id
                        .as_ref()
                        .map(|v| uuid("variantId", v))
                        .transpose()?,
                    sale_price: i.sale_price,
                })
            })
            .collect::<crate::error::AppResult<Vec<_>>>()?;
        let sale = sales::create(
            state,
            ctx.current_user()?,
            SaleInput {
                shop_id: uuid("shopId", &input.shop_id)?,
                title: input.title,
                percent_off: input.percent_off,
                starts_at: input.starts_at,
                ends_at: input.ends_at,
                items,
            },
        )
        .await?;
        Ok(SalePayload { sale: Sale(sale) })
    }

    /// Ends a sale now.
    async fn end_sale(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sale.")] input: EndSaleInput,
    ) -> Result<SalePayload> {
        let state = ctx.data::<AppState>()?;
        let sale = sales::end(state, ctx.current_user()?, uuid("saleId", &input.sale_id)?).await?;
        Ok(SalePayload { sale: Sale(sale) })
    }
}

#[derive(Default)]
pub struct SaleQuery;

#[Object]
impl SaleQuery {
    /// A shop's sales, newest first, past and coming ones too (its owner and admins).
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn shop_sales(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop.")] shop_id: ID,
        #[graphql(desc = "Return the first n after `after` (at most 100).")] first: Option<i64>,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n before `before` (at most 100).")] last: Option<i64>,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<pagination::IdConnection<Sale>> {
        let state = ctx.data::<AppState>()?;
        let select =
            sales::of_shop(&state.db, ctx.current_user()?, uuid("shopId", &shop_id)?).await?;
        let page = pagination::PageArgs::new(first, after, last, before)?.newest_first();
        let page = pagination::by_id(&state.db, select, sale_rows::Column::Id, page).await?;
        Ok(page.into_connection(|s| s.id, Sale))
    }
}
