//! Root mutation fields of the orders GraphQL.

use super::{cart::*, inputs::*, query::*, types::*};
use crate::orders::{
    addresses::{self, AddressInput},
    cart,
    checkout::{PaymentMethod as ServiceMethod, PlaceOrder},
    lifecycle::{self, Shipment},
    shipping::{self, ProfileInput, ZoneInput},
};
use crate::{
    auth::CallerExt,
    entities::orders::OrderStatus as DbStatus,
    kit::{View, uuid},
    payments::refunds,
    state::AppState,
};
use async_graphql::{Context, ID, Object, Result};

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

    /// Puts a promotion code on the cart (replacing any other) and returns the cart with its
    /// discount per line and per shop. A code that gives nothing on the cart as it is is
    /// refused with its reason (`PROMOTION_EXPIRED`, `PROMOTION_NOT_APPLICABLE`, …); unknown
    /// codes are limited per cart and per client address (`TOO_MANY_REQUESTS`).
    async fn apply_promotion_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The code and how to show the cart.")] input: ApplyPromotionCodeInput,
    ) -> Result<CartPayload> {
        let state = ctx.data::<AppState>()?;
        let (owner, token) = cart_owner(ctx, input.cart_token, false).await?;
        let currency = cart::shown_currency(&state.db, owner, input.currency.as_deref()).await?;
        let client = ctx
            .data_opt::<crate::kit::ClientAddress>()
            .and_then(|c| c.0.as_deref());
        cart::apply_code(state, owner, &input.code, client, currency).await?;
        let shown = CartShown {
            currency: Some(currency.code().to_owned()),
            country: input.country,
            language: input.language,
        };
        cart_payload(ctx, owner, token, shown).await
    }

    /// Takes the promotion code off the cart.
    async fn remove_promotion_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The cart and how to show it.")] input: RemovePromotionCodeInput,
    ) -> Result<CartPayload> {
        let state = ctx.data::<AppState>()?;
        let (owner, token) = cart_owner(ctx, input.cart_token, false).await?;
        cart::remove_code(&state.db, owner).await?;
        let shown = CartShown {
            currency: input.currency,
            country: input.country,
            language: input.language,
        };
        cart_payload(ctx, owner, token, shown).await
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
        let placed = crate::payments::collect::place_order(
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
        let view = View::new(ctx, None, None)?;
        let checkout = placed.checkout;
        Ok(PlaceOrderPayload {
            bank_transfer: placed.bank.map(Into::into),
            payment: placed.card.map(Into::into),
            checkout_id: ID(checkout.id.to_string()),
            total: money(checkout.total_minor, &checkout.currency),
            orders: placed
                .orders
                .into_iter()
                .map(|o| Order(o, view.clone()))
                .collect(),
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
        let shipment = Shipment::new(input.carrier, input.tracking_number);
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
}

/// Adds to (`add`) or sets a cart line, for a signed-in buyer or a guest.
pub(super) async fn change_cart(
    ctx: &Context<'_>,
    input: CartLineInput,
    add: bool,
) -> Result<CartPayload> {
    let state = ctx.data::<AppState>()?;
    let (owner, token) = cart_owner(ctx, input.cart_token, true).await?;
    let variant = uuid("variantId", &input.variant_id)?;
    let channel = AttributionInput::read(input.attribution)?;
    cart::set_quantity(
        state,
        owner,
        variant,
        input.quantity,
        add,
        channel.as_ref(),
        input.country.as_deref(),
    )
    .await?;
    let shown = CartShown {
        currency: input.currency,
        country: input.country,
        language: input.language,
    };
    cart_payload(ctx, owner, token, shown).await
}

pub(super) async fn self_transition(
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
