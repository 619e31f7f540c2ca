//! Root query fields of the orders GraphQL.

use super::{cart::*, types::*};
use crate::orders::{
    addresses::{self},
    cart,
    lifecycle::{self},
    shipping::{self},
    views::{self, Scope},
};
use crate::{
    auth::CallerExt,
    catalog::shops::shop_by_slug,
    entities::orders::{self as order_rows, OrderStatus as DbStatus},
    error::AppError,
    kit::pagination::{self, IdConnection, PageArgs},
    kit::{View, uuid},
    state::AppState,
};
use async_graphql::{Context, ID, Object, Result, SelectionField};

/// The languages to read in: the `language` argument first, then the request's (see
/// `graphql::per_request`).
pub(super) fn languages(ctx: &Context<'_>, language: Option<String>) -> Result<Vec<String>> {
    Ok(View::new(ctx, language, None)?.languages.to_vec())
}

/// Whose cart a request means: the signed-in user's, else the guest cart of `token`, else
/// (when `create`) a new guest cart whose token is returned.
pub(crate) async fn cart_owner(
    ctx: &Context<'_>,
    token: Option<String>,
    create: bool,
) -> Result<(cart::CartOwner, Option<String>)> {
    let state = ctx.data::<AppState>()?;
    if let Ok(user) = ctx.current_user() {
        return Ok((cart::CartOwner::User(user.id), None));
    }
    match token {
        Some(token) => Ok((
            cart::CartOwner::Guest(cart::guest_cart(&state.db, &token).await?),
            Some(token),
        )),
        None if create => {
            let (id, token) = cart::open_guest_cart(&state.db).await?;
            Ok((cart::CartOwner::Guest(id), Some(token)))
        }
        None => Err(AppError::Unauthenticated("sign in or pass a cartToken".into()).into()),
    }
}

/// Whether a selection of a `Cart` asks for anything that needs the cart priced: its
/// currency and destination are known without reading a line.
fn needs_prices(cart: SelectionField<'_>) -> bool {
    cart.selection_set()
        .any(|f| !matches!(f.name(), "currency" | "destination" | "__typename"))
}

/// The cart as `shown`, priced only when `priced` (pricing reads every line's variant,
/// product, shop, texts, offers and the rates).
pub(super) async fn cart_of(
    ctx: &Context<'_>,
    owner: cart::CartOwner,
    shown: CartShown,
    priced: bool,
) -> Result<Cart> {
    let CartShown {
        currency,
        country,
        language,
    } = shown;
    let state = ctx.data::<AppState>()?;
    let currency = cart::shown_currency(&state.db, owner, currency.as_deref()).await?;
    let country = country
        .map(|c| {
            crate::i18n::CountryCode::parse_field("country", &c).map(|c| c.as_str().to_owned())
        })
        .transpose()?;
    let view = View::new(ctx, language, None)?;
    if !priced {
        return Ok(cart_view(
            cart::PricedCart::unpriced(currency),
            country,
            &view,
        ));
    }
    let items = cart::items(&state.db, owner).await?;
    let code = cart::applied_code(&state.db, owner).await?;
    let priced = cart::price(
        &state.db,
        &items,
        cart::PriceFor {
            currency,
            country: country.as_deref(),
            languages: &view.languages,
            code: code.as_ref(),
            buyer: cart::buyer_of(owner),
        },
    )
    .await?;
    Ok(cart_view(priced, country, &view))
}

/// A cart mutation's answer: the cart as asked to be shown, and a guest's token.
pub(super) async fn cart_payload(
    ctx: &Context<'_>,
    owner: cart::CartOwner,
    cart_token: Option<String>,
    shown: CartShown,
) -> Result<CartPayload> {
    let priced = ctx
        .field()
        .selection_set()
        .any(|f| f.name() == "cart" && needs_prices(f));
    Ok(CartPayload {
        cart: cart_of(ctx, owner, shown, priced).await?,
        cart_token,
    })
}

pub(super) async fn orders_page(
    ctx: &Context<'_>,
    scope: Scope,
    status: Option<OrderStatus>,
    args: (Option<i64>, Option<String>, Option<i64>, Option<String>),
) -> Result<IdConnection<Order>> {
    let state = ctx.data::<AppState>()?;
    let view = View::new(ctx, None, None)?;
    let page = PageArgs::new(args.0, args.1, args.2, args.3)?.newest_first();
    let select = views::orders_in(
        &state.db,
        ctx.current_user()?,
        scope,
        status.map(DbStatus::from),
    )
    .await?;
    let page = pagination::by_id(&state.db, select, order_rows::Column::Id, page).await?;
    Ok(page.into_connection(|o| o.id, |o| Order(o, view.clone())))
}

#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// The signed-in user's address book.
    async fn my_addresses(&self, ctx: &Context<'_>) -> Result<Vec<Address>> {
        let state = ctx.data::<AppState>()?;
        Ok(addresses::list(state, ctx.current_user()?)
            .await?
            .into_iter()
            .map(Address::from)
            .collect())
    }

    /// A shop's shipping profiles with their zones, the default first.
    async fn shipping_profiles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The shop's slug.")] shop_slug: String,
    ) -> Result<Vec<ShippingProfile>> {
        let state = ctx.data::<AppState>()?;
        let shop = shop_by_slug(&state.db, ctx.caller(), &shop_slug).await?;
        let profiles = shipping::profiles_of(&state.db, shop.id).await?;
        Ok(profiles
            .into_iter()
            .map(|(p, zones)| profile(p, zones, &shop.settlement_currency))
            .collect())
    }

    /// The cart (the signed-in buyer's, or a guest's by `cartToken`), grouped by shop, priced
    /// in `currency`, with shipping quoted to `country` when given.
    async fn cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "ISO 4217 currency; default the buyer's preferred one (MNT for guests).")]
        currency: Option<String>,
        #[graphql(desc = "ISO 3166-1 alpha-2 destination to quote shipping for.")] country: Option<
            String,
        >,
        #[graphql(desc = "A guest cart's token, for visitors who have not signed in.")]
        cart_token: Option<String>,
        #[graphql(
            desc = "BCP 47 language of titles; default Accept-Language, then the buyer's preferred language."
        )]
        language: Option<String>,
    ) -> Result<Cart> {
        // A guest's cart is read by its token, without a signed-in caller: never share it.
        if let Some(read) = ctx.data_opt::<crate::cache::ReadSet>() {
            read.private();
        }
        let (owner, _) = cart_owner(ctx, cart_token, false).await?;
        let shown = CartShown {
            currency,
            country,
            language,
        };
        cart_of(ctx, owner, shown, needs_prices(ctx.field())).await
    }

    /// One order: for its buyer, its shop and admins.
    async fn order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order's id.")] id: ID,
    ) -> Result<Order> {
        let state = ctx.data::<AppState>()?;
        let (order, _) =
            lifecycle::order_for(&state.db, ctx.current_user()?, uuid("id", &id)?).await?;
        Ok(Order(order, View::new(ctx, None, None)?))
    }

    /// The signed-in buyer's orders, newest first.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    async fn my_orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Return the first n orders after `after` (at most 100).")] first: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n orders before `before` (at most 100).")] last: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<IdConnection<Order>> {
        orders_page(ctx, Scope::Bought, None, (first, after, last, before)).await
    }

    /// The signed-in artisan's shop's orders, newest first: what to pack and where to send it.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn shop_orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only orders in this status.")] status: Option<OrderStatus>,
        #[graphql(desc = "Return the first n orders after `after` (at most 100).")] first: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n orders before `before` (at most 100).")] last: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<IdConnection<Order>> {
        orders_page(ctx, Scope::Shop, status, (first, after, last, before)).await
    }

    /// Every order, newest first. Admins only.
    #[graphql(complexity = "pagination::complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only orders in this status.")] status: Option<OrderStatus>,
        #[graphql(desc = "Return the first n orders after `after` (at most 100).")] first: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to start after.")] after: Option<String>,
        #[graphql(desc = "Return the last n orders before `before` (at most 100).")] last: Option<
            i64,
        >,
        #[graphql(desc = "Cursor of the edge to end before.")] before: Option<String>,
    ) -> Result<IdConnection<Order>> {
        orders_page(ctx, Scope::All, status, (first, after, last, before)).await
    }
}
