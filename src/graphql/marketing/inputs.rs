//! Inputs of the marketing mutations.

use async_graphql::{ID, InputObject, MaybeUndefined};
use chrono::{DateTime, Utc};

/// A review of one delivered order line.
#[derive(InputObject)]
pub struct WriteReviewInput {
    /// The order line (of one of the caller's delivered orders).
    pub order_line_id: ID,
    /// 1 to 5 stars.
    pub rating: i32,
    /// What the buyer wants to say (at most 5,000 characters; may be empty).
    #[graphql(default)]
    pub body: String,
    /// BCP 47 tag of `body`; the buyer's preferred language when absent.
    pub language: Option<String>,
    /// Up to 5 photos the buyer uploaded (`uploadImage` with purpose REVIEW and the order's
    /// shop), in order.
    #[graphql(default)]
    pub photo_ids: Vec<ID>,
}

/// Changes to one's own review, within 30 days of writing it.
#[derive(InputObject)]
pub struct UpdateReviewInput {
    /// The review.
    pub review_id: ID,
    /// New rating.
    pub rating: Option<i32>,
    /// New text.
    pub body: Option<String>,
    /// Language of the new text.
    pub language: Option<String>,
    /// Replaces the photos (an empty list removes them).
    pub photo_ids: Option<Vec<ID>>,
}

/// The shop's public reply.
#[derive(InputObject)]
pub struct ReplyToReviewInput {
    /// The review.
    pub review_id: ID,
    /// The reply (at most 5,000 characters).
    pub reply: String,
}

/// A report that a review breaks the rules.
#[derive(InputObject)]
pub struct ReportReviewInput {
    /// The review.
    pub review_id: ID,
    /// Why.
    pub reason: String,
}

/// Hiding a review, or showing it again (admins).
#[derive(InputObject)]
pub struct SetReviewHiddenInput {
    /// The review.
    pub review_id: ID,
    /// True hides, false shows again.
    pub hidden: bool,
    /// Why it is hidden (required when hiding).
    pub reason: Option<String>,
}

/// A product or a shop to save or forget: exactly one of `productId` and `shopId`.
#[derive(InputObject)]
pub struct FavouriteInput {
    /// The product.
    pub product_id: Option<ID>,
    /// The shop.
    pub shop_id: Option<ID>,
    /// For guests: the cart token to keep it under (a new one is made when absent).
    pub cart_token: Option<String>,
}

/// A new seasonal campaign. Admins only.
#[derive(InputObject)]
pub struct CreateCampaignInput {
    /// The collection it shows (its slug, name, description and products).
    pub collection_id: ID,
    /// When it goes live.
    pub starts_at: DateTime<Utc>,
    /// When it ends by itself.
    pub ends_at: DateTime<Utc>,
    /// An https address of the banner picture.
    pub banner_url: Option<String>,
    /// The banner's alternative text.
    pub banner_alt: Option<String>,
    /// Featured order: lower first (default 0).
    pub position: Option<i32>,
    /// A promotion code to advertise with it.
    pub promotion_code: Option<String>,
}

/// Changes to a campaign; absent fields stay, null clears the banner or the code.
#[derive(InputObject)]
pub struct UpdateCampaignInput {
    /// The campaign.
    pub campaign_id: ID,
    /// When it goes live.
    pub starts_at: Option<DateTime<Utc>>,
    /// When it ends by itself.
    pub ends_at: Option<DateTime<Utc>>,
    /// An https address of the banner picture.
    pub banner_url: MaybeUndefined<String>,
    /// The banner's alternative text.
    pub banner_alt: MaybeUndefined<String>,
    /// Featured order: lower first.
    pub position: Option<i32>,
    /// A promotion code to advertise with it.
    pub promotion_code: MaybeUndefined<String>,
}
