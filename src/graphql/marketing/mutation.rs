//! Root mutation fields of the marketing GraphQL.

use async_graphql::{Context, Object, Result};

use super::{inputs::*, types::*};
use crate::{
    auth::{Caller, CallerExt},
    error::AppError,
    kit::{ClientAddress, uuid},
    marketing::{favourites, reviews},
    state::AppState,
};

fn target(input: &FavouriteInput) -> Result<favourites::Target> {
    match (&input.product_id, &input.shop_id) {
        (Some(id), None) => Ok(favourites::Target::Product(uuid("productId", id)?)),
        (None, Some(id)) => Ok(favourites::Target::Shop(uuid("shopId", id)?)),
        _ => Err(AppError::invalid("productId", "give exactly one of productId and shopId").into()),
    }
}

#[derive(Default)]
pub struct MarketingMutation;

#[Object]
impl MarketingMutation {
    /// Reviews one line of the caller's delivered order (once per line: CONFLICT after).
    async fn write_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The review.")] input: WriteReviewInput,
    ) -> Result<ReviewPayload> {
        let state = ctx.data::<AppState>()?;
        let review = reviews::write_review(
            state,
            ctx.current_user()?,
            reviews::ReviewInput {
                order_line_id: uuid("orderLineId", &input.order_line_id)?,
                rating: input.rating,
                body: input.body,
                language: input.language,
                photo_ids: crate::kit::uuids("photoIds", &input.photo_ids)?,
            },
        )
        .await?;
        Ok(ReviewPayload {
            review: Review(review),
        })
    }

    /// Changes the caller's own review, within 30 days (EDIT_WINDOW_CLOSED after).
    async fn update_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The changes.")] input: UpdateReviewInput,
    ) -> Result<ReviewPayload> {
        let state = ctx.data::<AppState>()?;
        let review = reviews::update_review(
            state,
            ctx.current_user()?,
            uuid("reviewId", &input.review_id)?,
            reviews::ReviewChange {
                rating: input.rating,
                body: input.body,
                language: input.language,
                photo_ids: input
                    .photo_ids
                    .as_deref()
                    .map(|p| crate::kit::uuids("photoIds", p))
                    .transpose()?,
            },
        )
        .await?;
        Ok(ReviewPayload {
            review: Review(review),
        })
    }

    /// The shop's one public reply to a review of its product (its owner or an admin).
    async fn reply_to_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The reply.")] input: ReplyToReviewInput,
    ) -> Result<ReviewPayload> {
        let state = ctx.data::<AppState>()?;
        let review = reviews::reply_to_review(
            state,
            ctx.current_user()?,
            uuid("reviewId", &input.review_id)?,
            &input.reply,
        )
        .await?;
        Ok(ReviewPayload {
            review: Review(review),
        })
    }

    /// Reports a review to the admins; anyone may, once.
    async fn report_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The report.")] input: ReportReviewInput,
    ) -> Result<ReportReviewPayload> {
        let state = ctx.data::<AppState>()?;
        let caller = *ctx.data::<Caller>()?;
        let client = ctx.data::<ClientAddress>()?.0.as_deref();
        reviews::report_review(
            state,
            caller,
            client,
            uuid("reviewId", &input.review_id)?,
            &input.reason,
        )
        .await?;
        Ok(ReportReviewPayload { reported: true })
    }

    /// Hides a review with a reason, or shows it again. Admins only.
    async fn set_review_hidden(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The review and the decision.")] input: SetReviewHiddenInput,
    ) -> Result<ReviewPayload> {
        let state = ctx.data::<AppState>()?;
        let review = reviews::set_review_hidden(
            state,
            ctx.current_user()?,
            uuid("reviewId", &input.review_id)?,
            input.hidden,
            input.reason.as_deref(),
        )
        .await?;
        Ok(ReviewPayload {
            review: Review(review),
        })
    }

    /// Saves a product or a shop, for a buyer or (with a cart token, or a new one) a guest.
    /// Saving it again changes nothing.
    async fn add_favourite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to save.")] input: FavouriteInput,
    ) -> Result<AddFavouritePayload> {
        let state = ctx.data::<AppState>()?;
        let target = target(&input)?;
        let (owner, token) =
            crate::graphql::orders::cart_owner(ctx, input.cart_token, true).await?;
        let favourite = favourites::add(state, owner, target).await?;
        Ok(AddFavouritePayload {
            favourite: Favourite(favourite, crate::kit::View::new(ctx, None, None)?),
            cart_token: token,
        })
    }

    /// Forgets a saved product or shop.
    async fn remove_favourite(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to forget.")] input: FavouriteInput,
    ) -> Result<RemoveFavouritePayload> {
        let state = ctx.data::<AppState>()?;
        let target = target(&input)?;
        let (owner, _) = crate::graphql::orders::cart_owner(ctx, input.cart_token, false).await?;
        Ok(RemoveFavouritePayload {
            removed: favourites::remove(state, owner, target).await?,
        })
    }
}
