//! GraphQL face of orders: addresses, shipping profiles, the cart, checkout and order views.

use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject, Subscription};
use futures_util::{Stream, StreamExt};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

mod types;

pub use types::*;

use crate::orders::{
    addresses::{self, AddressInput},
    cart,
    checkout::{self, PaymentMethod as ServiceMethod, PlaceOrder},
    lifecycle::{self, Shipment},
    shipping::{self, ProfileInput, ZoneInput},
    views::{self, Scope},
};
use crate::{
    auth::{CallerExt, CurrentUser},
    catalog::shops::{shop_by_slug, shop_of},
    entities::orders::{self as order_rows, OrderStatus as DbStatus},
    error::{AppError, AppResult},
    events::DomainEvent,
    graphql::payments::CardPayment,
    kit::pagination::{self, IdConnection, PageArgs},
    kit::{View, uuid},
    money::Currency,
    payments::{card, refunds},
    state::AppState,
};

/// How the buyer pays.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
pub enum PaymentMethod {
    /// Bank transfer; an admin confirms receipt.
    BankTransfer,
    /// Card through Stripe: `placeOrder` returns the PaymentIntent's client secret.
    Card,
}

/// A new address.
#[derive(InputObject)]
pub struct AddAddressInput {
    /// Recipient's name.
    pub name: String,
    /// Street and number.
    pub line1: String,
    /// Flat, building, district.
    pub line2: Option<String>,
    /// City.
    pub city: String,
    /// Region or state.
    pub region: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: String,
    /// Phone number for the carrier.
    pub phone: Option<String>,
}

/// An address to remove.
#[derive(InputObject)]
pub struct RemoveAddressInput {
    /// The address.
    pub address_id: ID,
}

/// One shipping zone.
#[derive(InputObject)]
pub struct ShippingZoneInput {
    /// Name, e.g. Europe.
    pub name: String,
    /// ISO 3166-1 alpha-2 codes; empty for the rest of the world.
    #[graphql(default)]
    pub countries: Vec<String>,
    /// Cost of the first item in the shop's currency (decimal string).
    pub first_item: String,
    /// Cost of each further item in the shop's currency (decimal string).
    pub additional_item: String,
    /// Fewest days to deliver.
    pub min_days: i32,
    /// Most days to deliver.
    pub max_days: i32,
}

/// A shipping profile with its zones.
#[derive(InputObject)]
pub struct SaveShippingProfileInput {
    /// The shop.
    pub shop_id: ID,
    /// The profile to replace; omit to create one.
    pub profile_id: Option<ID>,
    /// Name, e.g. Small parcels or Furniture.
    pub name: String,
    /// Use it for products that name no profile.
    #[graphql(default)]
    pub is_default: bool,
    /// Every zone; a country may be in one zone of the profile only.
    pub zones: Vec<ShippingZoneInput>,
}

/// A cart change.
#[derive(InputObject)]
pub struct CartLineInput {
    /// The variant.
    pub variant_id: ID,
    /// Units to add (`addToCart`) or to hold (`setCartQuantity`, 0 removes the line).
    pub quantity: i32,
    /// A guest cart's token; guests without one get a new cart and its token back.
    pub cart_token: Option<String>,
    /// ISO 4217 currency to show the returned cart in; default the buyer's preferred one
    /// (MNT for guests).
    pub currency: Option<String>,
    /// ISO 3166-1 alpha-2 destination to quote the returned cart's shipping for.
    pub country: Option<String>,
    /// BCP 47 language of the returned cart's titles.
    pub language: Option<String>,
}

/// Placing the cart as orders.
#[derive(InputObject)]
pub struct PlaceOrderInput {
    /// One of the buyer's addresses.
    pub address_id: ID,
    /// ISO 4217 currency to pay in.
    pub currency: String,
    /// How the buyer pays.
    pub payment_method: PaymentMethod,
    /// A key the client makes once per checkout attempt; retries with it return the same
    /// checkout and never place a second one.
    pub idempotency_key: String,
    /// BCP 47 language the order's titles are recorded in; default Accept-Language, then
    /// the buyer's preferred language, then the shop's.
    pub language: Option<String>,
}

/// An order to act on, with an optional note.
#[derive(InputObject)]
pub struct OrderActionInput {
    /// The order.
    pub order_id: ID,
    /// Why, for the order's history.
    pub note: Option<String>,
}

/// Marking an order shipped.
#[derive(InputObject)]
pub struct MarkOrderShippedInput {
    /// The order.
    pub order_id: ID,
    /// The carrier, e.g. Mongol Post or DHL.
    pub carrier: String,
    /// The carrier's tracking number.
    pub tracking_number: String,
}

/// Confirming a bank transfer for a whole checkout.
#[derive(InputObject)]
pub struct ConfirmManualPaymentInput {
    /// The checkout paid for.
    pub checkout_id: ID,
    /// The bank's reference, for the history.
    pub reference: String,
}

/// Result of `addAddress`.
#[derive(SimpleObject)]
pub struct AddressPayload {
    /// The new address.
    pub address: Address,
}

/// Result of `removeAddress`.
#[derive(SimpleObject)]
pub struct RemoveAddressPayload {
    /// True once removed.
    pub success: bool,
}

/// Result of `saveShippingProfile`.
#[derive(SimpleObject)]
pub struct ShippingProfilePayload {
    /// The profile as saved.
    pub profile: ShippingProfile,
}

/// Result of a cart change.
#[derive(SimpleObject)]
pub struct CartPayload {
    /// The cart after the change, in the buyer's preferred currency (MNT for guests).
    pub cart: Cart,
    /// For guests: the token to keep sending as `cartToken` (and to `login` or `register` to
    /// move the cart into the account). Null for signed-in buyers.
    pub cart_token: Option<String>,
}

/// Result of `placeOrder`.
#[derive(SimpleObject)]
pub struct PlaceOrderPayload {
    /// The checkout: one payment for all its orders.
    pub checkout_id: ID,
    /// One order per shop.
    pub orders: Vec<Order>,
    /// What the buyer pays in all.
    pub total: crate::graphql::catalog::Money,
    /// For CARD: the Stripe PaymentIntent to confirm on the client. Null for bank transfers.
    pub payment: Option<CardPayment>,
}

/// Result of an order change.
#[derive(SimpleObject)]
pub struct OrderPayload {
    /// The order after the change.
    pub order: Order,
}

/// Result of `confirmManualPayment`.
#[derive(SimpleObject)]
pub struct ConfirmManualPaymentPayload {
    /// The checkout's orders, now paid.
    pub orders: Vec<Order>,
}

/// The languages to read in: the `language` argument first, then the request's (see
/// `graphql::per_request`).
fn languages(ctx: &Context<'_>, language: Option<String>) -> Result<Vec<String>> {
    Ok(View::new(ctx, language, None)?.languages.to_vec())
}

async fn preferred_currency(state: &AppState, user: CurrentUser) -> AppResult<Currency> {
    let me = crate::accounts::service::me(&state.db, user).await?;
    Currency::parse(&me.preferred_currency)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("currency unreadable")))
}

/// Whose cart a request means: the signed-in user's, else the guest cart of `token`, else
/// (when `create`) a new guest cart whose token is returned.
async fn cart_owner(
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

/// How a cart is shown: in which currency, language, and for which destination.
#[derive(Default)]
struct CartShown {
    currency: Option<String>,
    country: Option<String>,
    language: Option<String>,
}

async fn cart_of(ctx: &Context<'_>, owner: cart::CartOwner, shown: CartShown) -> Result<Cart> {
    let CartShown {
        currency,
        country,
        language,
    } = shown;
    let state = ctx.data::<AppState>()?;
    let currency = match (currency, owner) {
        (Some(c), _) => Currency::parse_field("currency", &c)?,
        (None, cart::CartOwner::User(_)) => preferred_currency(state, ctx.current_user()?).await?,
        // Guests have told us nothing; prices stay in tögrög until they choose.
        (None, cart::CartOwner::Guest(_)) => Currency::parse("MNT")
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("MNT unknown")))?,
    };
    let country = country
        .map(|c| {
            crate::i18n::CountryCode::parse_field("country", &c).map(|c| c.as_str().to_owned())
        })
        .transpose()?;
    let items = cart::items(&state.db, owner).await?;
    let priced = cart::price(
        &state.db,
        &items,
        currency,
        country.as_deref(),
        &languages(ctx, language.clone())?,
    )
    .await?;
    Ok(cart_view(priced, country, &View::new(ctx, language, None)?))
}

async fn orders_page(
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
        let (owner, _) = cart_owner(ctx, cart_token, false).await?;
        let shown = CartShown {
            currency,
            country,
            language,
        };
        cart_of(ctx, owner, shown).await
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

#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Adds an address to the signed-in user's book.
    async fn add_address(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The address.")] input: AddAddressInput,
    ) -> Result<AddressPayload> {
        let state = ctx.data::<AppState>()?;
        let address = addresses::add(
            state,
            ctx.current_user()?,
            AddressInput {
                name: input.name,
                line1: input.line1,
                line2: input.line2,
                city: input.city,
                region: input.region,
                postal_code: input.postal_code,
                country: input.country,
                phone: input.phone,
            },
        )
        .await?;
        Ok(AddressPayload {
            address: address.into(),
        })
    }

    /// Removes an address from the signed-in user's book.
    async fn remove_address(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The address.")] input: RemoveAddressInput,
    ) -> Result<RemoveAddressPayload> {
        let state = ctx.data::<AppState>()?;
        addresses::remove(
            state,
            ctx.current_user()?,
            uuid("addressId", &input.address_id)?,
        )
        .await?;
        Ok(RemoveAddressPayload { success: true })
    }

    /// Creates a shipping profile (without `profileId`) or replaces one, with its zones (the
    /// shop's owner or an admin). A shop's first profile is its default.
    async fn save_shipping_profile(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The profile and its zones.")] input: SaveShippingProfileInput,
    ) -> Result<ShippingProfilePayload> {
        let state = ctx.data::<AppState>()?;
        let shop_id = uuid("shopId", &input.shop_id)?;
        let profile_id = input
            .profile_id
            .as_ref()
            .map(|p| uuid("profileId", p))
            .transpose()?;
        let zones = input
            .zones
            .into_iter()
            .map(|z| ZoneInput {
                name: z.name,
                countries: z.countries,
                first_item: z.first_item,
                additional_item: z.additional_item,
                min_days: z.min_days,
                max_days: z.max_days,
            })
            .collect();
        let (shop, saved, rows) = shipping::save_profile(
            state,
            ctx.current_user()?,
            shop_id,
            profile_id,
            ProfileInput {
                name: input.name,
                is_default: input.is_default,
                zones,
            },
        )
        .await?;
        Ok(ShippingProfilePayload {
            profile: profile(saved, rows, &shop.settlement_currency),
        })
    }

    /// Adds units of a variant to the cart (the signed-in buyer's, or a guest's).
    async fn add_to_cart(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The variant and units.")] input: CartLineInput,
    ) -> Result<CartPayload> {
        change_cart(ctx, input, true).await
    }

    /// Sets how many units of a variant the cart holds; 0 removes the line.
    async fn set_cart_quantity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The variant and units.")] input: CartLineInput,
    ) -> Result<CartPayload> {
        change_cart(ctx, input, false).await
    }

    /// Places the cart: one checkout, one order per shop, prices computed by the server, stock
    /// taken at once. Retries with the same `idempotencyKey` return the same checkout.
    async fn place_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Where, in what currency, how to pay.")] input: PlaceOrderInput,
    ) -> Result<PlaceOrderPayload> {
        let state = ctx.data::<AppState>()?;
        let user = ctx.current_user()?;
        let checkout = checkout::place_order(
            state,
            user,
            PlaceOrder {
                address_id: uuid("addressId", &input.address_id)?,
                currency: input.currency,
                payment_method: match input.payment_method {
                    PaymentMethod::BankTransfer => ServiceMethod::BankTransfer,
                    PaymentMethod::Card => ServiceMethod::Card,
                },
                idempotency_key: input.idempotency_key,
                languages: languages(ctx, input.language)?,
            },
        )
        .await?;
        let orders = order_rows::Entity::find()
            .filter(order_rows::Column::CheckoutId.eq(checkout.id))
            .all(&state.db)
            .await
            .map_err(AppError::from)?;
        let payment = if checkout.payment_method == "CARD" {
            Some(card::start(state, &checkout).await?.into())
        } else {
            None
        };
        let view = View::new(ctx, None, None)?;
        Ok(PlaceOrderPayload {
            payment,
            checkout_id: ID(checkout.id.to_string()),
            total: types::money(checkout.total_minor, &checkout.currency),
            orders: orders.into_iter().map(|o| Order(o, view.clone())).collect(),
        })
    }

    /// Cancels an order: the buyer while unpaid; the shop or an admin also once paid.
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order and why.")] input: OrderActionInput,
    ) -> Result<OrderPayload> {
        let state = ctx.data::<AppState>()?;
        let id = uuid("orderId", &input.order_id)?;
        let order = refunds::cancel_order(state, ctx.current_user()?, id, input.note).await?;
        Ok(OrderPayload {
            order: Order(order, View::new(ctx, None, None)?),
        })
    }

    /// Marks a paid order shipped, with the carrier and tracking number (its shop or an admin).
    async fn mark_order_shipped(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order and its shipment.")] input: MarkOrderShippedInput,
    ) -> Result<OrderPayload> {
        let shipment = Shipment {
            carrier: input.carrier,
            tracking_number: input.tracking_number,
        };
        self_transition(
            ctx,
            &input.order_id,
            DbStatus::Shipped,
            None,
            Some(shipment),
        )
        .await
    }

    /// Marks a shipped order delivered (its buyer, its shop or an admin).
    async fn mark_order_delivered(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order.")] input: OrderActionInput,
    ) -> Result<OrderPayload> {
        self_transition(ctx, &input.order_id, DbStatus::Delivered, input.note, None).await
    }

    /// Records that a bank transfer for a checkout arrived; its orders become PAID. Admins only.
    async fn confirm_manual_payment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The checkout and the bank reference.")] input: ConfirmManualPaymentInput,
    ) -> Result<ConfirmManualPaymentPayload> {
        let state = ctx.data::<AppState>()?;
        let checkout_id = uuid("checkoutId", &input.checkout_id)?;
        let paid = crate::payments::collect::confirm_bank_transfer(
            state,
            ctx.current_user()?,
            checkout_id,
            &input.reference,
        )
        .await?;
        let view = View::new(ctx, None, None)?;
        let paid = paid.into_iter().map(|o| Order(o, view.clone())).collect();
        Ok(ConfirmManualPaymentPayload { orders: paid })
    }
}

/// Adds to (`add`) or sets a cart line, for a signed-in buyer or a guest.
async fn change_cart(ctx: &Context<'_>, input: CartLineInput, add: bool) -> Result<CartPayload> {
    let state = ctx.data::<AppState>()?;
    let (owner, token) = cart_owner(ctx, input.cart_token, true).await?;
    let variant = uuid("variantId", &input.variant_id)?;
    cart::set_quantity(state, owner, variant, input.quantity, add).await?;
    let shown = CartShown {
        currency: input.currency,
        country: input.country,
        language: input.language,
    };
    Ok(CartPayload {
        cart: cart_of(ctx, owner, shown).await?,
        cart_token: token,
    })
}

async fn self_transition(
    ctx: &Context<'_>,
    id: &ID,
    to: DbStatus,
    note: Option<String>,
    shipment: Option<Shipment>,
) -> Result<OrderPayload> {
    let state = ctx.data::<AppState>()?;
    let order = lifecycle::transition(
        state,
        ctx.current_user()?,
        uuid("orderId", id)?,
        to,
        note,
        shipment,
    )
    .await?;
    Ok(OrderPayload {
        order: Order(order, View::new(ctx, None, None)?),
    })
}

#[derive(Default)]
pub struct OrderSubscription;

#[Subscription]
impl OrderSubscription {
    /// Orders of the signed-in user each time they change: as buyer, or as the shop's owner.
    /// Works across servers when they share PostgreSQL.
    async fn order_updated(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Order>> {
        let state = ctx.data::<AppState>()?;
        let me = ctx.current_user()?;
        let my_shop = shop_of(&state.db, me.id).await?.map(|s| s.id);
        let view = View::new(ctx, None, None)?;
        let db = state.db.clone();
        Ok(state.events.stream().filter_map(move |event| {
            let (db, view) = (db.clone(), view.clone());
            async move {
                match event {
                    DomainEvent::OrderUpdated {
                        order_id,
                        buyer_id,
                        shop_id,
                    } if buyer_id == me.id || Some(shop_id) == my_shop => {
                        match order_rows::Entity::find_by_id(order_id).one(&db).await {
                            Ok(order) => order.map(|o| Order(o, view)),
                            Err(err) => {
                                // The event is skipped; the next one re-reads the order.
                                tracing::error!(error = %err, %order_id, "orderUpdated could not read the order");
                                None
                            }
                        }
                    }
                    _ => None,
                }
            }
        }))
    }
}
