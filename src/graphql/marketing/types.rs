//! Reviews and ratings as clients see them.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{
    auth::Caller,
    entities::{
        review_reports,
        reviews::{self, ReviewStatus},
    },
    graphql::media::{Image, ImageSource},
    marketing::{self, Rating as RatingValue},
    state::AppState,
};

/// How buyers rated a product or a shop: only visible reviews count.
pub struct Rating(pub RatingValue);

/// How buyers rated a product or a shop, from its visible reviews.
#[Object]
impl Rating {
    /// The mean of the ratings, to two decimals; null without reviews.
    async fn average(&self) -> Option<f64> {
        self.0.average()
    }
    /// How many visible reviews there are.
    async fn count(&self) -> i64 {
        self.0.count
    }
    /// How many reviews gave each number of stars.
    async fn distribution(&self) -> Vec<RatingBucket> {
        (1..=5)
            .zip(self.0.distribution)
            .map(|(stars, count)| RatingBucket { stars, count })
            .collect()
    }
}

/// Reviews with one number of stars.
#[derive(SimpleObject)]
pub struct RatingBucket {
    /// 1 to 5.
    pub stars: i32,
    /// How many visible reviews gave it.
    pub count: i64,
}

/// A buyer's review.
pub struct Review(pub reviews::Model);

/// A verified buyer's review of one thing they received, with the shop's reply.
#[Object]
impl Review {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The product reviewed.
    async fn product_id(&self) -> ID {
        ID(self.0.product_id.to_string())
    }
    /// The shop that sold it.
    async fn shop_id(&self) -> ID {
        ID(self.0.shop_id.to_string())
    }
    /// 1 to 5 stars.
    async fn rating(&self) -> i32 {
        self.0.rating
    }
    /// The buyer's photos of what they received, in order.
    async fn photos(&self, ctx: &Context<'_>) -> Result<Vec<Image>> {
        let loaders = crate::kit::data::<marketing::MarketingLoaders>(ctx)?;
        let media = crate::kit::data::<crate::media::loaders::MediaLoaders>(ctx)?;
        let rows = crate::kit::loaders::many(&loaders.review_photos, self.0.id).await?;
        let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.image_id).collect();
        let images = crate::kit::loaders::several(&media.images, &ids).await?;
        Ok(images
            .into_iter()
            .zip(0..)
            .map(|(image, position)| Image {
                id: image.id,
                source: ImageSource::Uploaded(image),
                alt: None,
                position,
            })
            .collect())
    }
    /// What the buyer wrote (may be empty).
    async fn body(&self) -> &str {
        &self.0.body
    }
    /// BCP 47 tag of the language the buyer wrote in.
    async fn language(&self) -> &str {
        &self.0.language
    }
    /// The buyer's display name, as they chose it.
    async fn author(&self, ctx: &Context<'_>) -> Result<String> {
        let loaders = crate::kit::data::<marketing::MarketingLoaders>(ctx)?;
        Ok(crate::kit::loaders::one(&loaders.authors, self.0.buyer_id)
            .await?
            .map_or_else(String::new, |u| u.display_name))
    }
    /// Always true: only buyers of a delivered order can review.
    async fn verified_purchase(&self) -> bool {
        true
    }
    /// The shop's public reply, if it has given one.
    async fn reply(&self) -> Option<&str> {
        self.0.replied_at.map(|_| self.0.reply.as_str())
    }
    /// When the shop replied.
    async fn replied_at(&self) -> Option<DateTime<Utc>> {
        self.0.replied_at
    }
    /// Whether an admin hid it (only its author and admins see hidden reviews).
    async fn hidden(&self) -> bool {
        self.0.status == ReviewStatus::Hidden
    }
    /// Why an admin hid it; for admins and its author.
    async fn hidden_reason(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let caller = ctx.data::<Caller>()?;
        let allowed = matches!(caller, Caller::User(u) if u.id == self.0.buyer_id || u.role == crate::entities::users::Role::Admin);
        Ok(allowed.then_some(self.0.hidden_reason.as_deref()).flatten())
    }
    /// Reports by readers; admins only (empty for anyone else).
    async fn reports(&self, ctx: &Context<'_>) -> Result<Vec<ReviewReport>> {
        let caller = ctx.data::<Caller>()?;
        if !matches!(caller, Caller::User(u) if u.role == crate::entities::users::Role::Admin) {
            return Ok(Vec::new());
        }
        let state = ctx.data::<AppState>()?;
        Ok(marketing::reviews::reports_of(&state.db, self.0.id)
            .await?
            .into_iter()
            .map(ReviewReport)
            .collect())
    }
    /// When it was written.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// When it was last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Someone's report of a review.
pub struct ReviewReport(pub review_reports::Model);

/// A reader's report that a review breaks the rules.
#[Object]
impl ReviewReport {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// Why.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// Whether a signed-in user (rather than a guest) reported it.
    async fn by_user(&self) -> bool {
        self.0.reporter_id.is_some()
    }
    /// When.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The answer to review mutations.
#[derive(SimpleObject)]
pub struct ReviewPayload {
    /// The review as it is now.
    pub review: Review,
}

/// The answer to `reportReview`.
#[derive(SimpleObject)]
pub struct ReportReviewPayload {
    /// Always true: the report is recorded (a repeated one changes nothing).
    pub reported: bool,
}

/// A saved product or shop.
pub struct Favourite(pub crate::entities::favourites::Model, pub crate::kit::View);

/// A product or shop the buyer (or guest) saved.
#[Object]
impl Favourite {
    /// Stable identifier.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }
    /// The saved product, if this saves a product that is still published.
    async fn product(&self, ctx: &Context<'_>) -> Result<Option<crate::graphql::catalog::Product>> {
        let Some(id) = self.0.product_id else {
            return Ok(None);
        };
        let loaders = crate::kit::data::<marketing::MarketingLoaders>(ctx)?;
        Ok(crate::kit::loaders::one(&loaders.products, id)
            .await?
            .filter(marketing::favourites::product_shown)
            .map(|p| crate::graphql::catalog::Product(p, self.1.clone())))
    }
    /// The saved shop, if this saves a shop that is still open.
    async fn shop(&self, ctx: &Context<'_>) -> Result<Option<crate::graphql::catalog::Shop>> {
        let Some(id) = self.0.shop_id else {
            return Ok(None);
        };
        let loaders = crate::kit::data::<crate::catalog::loaders::Loaders>(ctx)?;
        Ok(crate::kit::loaders::one(&loaders.shops, id)
            .await?
            .filter(marketing::favourites::shop_shown)
            .map(|s| crate::graphql::catalog::Shop(s, self.1.clone())))
    }
    /// When it was saved.
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// The answer to `addFavourite`.
#[derive(SimpleObject)]
pub struct AddFavouritePayload {
    /// The favourite.
    pub favourite: Favourite,
    /// For guests: the cart token the favourite is kept under (a new one when none was sent);
    /// send it to `myFavourites`, and to `login` or `register` to keep the favourites.
    pub cart_token: Option<String>,
}

/// The answer to `removeFavourite`.
#[derive(SimpleObject)]
pub struct RemoveFavouritePayload {
    /// Whether there was such a favourite.
    pub removed: bool,
}
