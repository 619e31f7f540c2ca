//! Reviews from verified buyers: one per delivered order line, by that order's buyer; editable
//! for 30 days; one public reply by the shop; reported by anyone; hidden by admins. Each
//! product's running count, sum and score of visible ratings change in the same transaction
//! as the review, by one relative `UPDATE`, so concurrent reviews never lose a count.

use chrono::{Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select,
    Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use crate::{
    auth::{Caller, CurrentUser, managed_shop},
    entities::{
        order_lines, orders, products, review_photos, review_reports,
        reviews::{self, ReviewStatus},
        users::{self, Role},
    },
    error::{AppError, AppResult, OnConflict},
    i18n::LanguageTag,
    state::AppState,
};

/// How long a buyer may change their review.
pub const EDIT_DAYS: i64 = 30;
/// Longest review, reply or report, in characters.
const MAX_TEXT: usize = 5_000;
/// Most photos on one review.
pub const MAX_PHOTOS: usize = 5;

/// A new review.
#[derive(Debug, Clone)]
pub struct ReviewInput {
    pub order_line_id: Uuid,
    pub rating: i32,
    pub body: String,
    /// BCP 47 tag of `body`; the buyer's preferred language when absent.
    pub language: Option<String>,
    /// The buyer's own uploads (purpose REVIEW, for the order's shop), in order.
    pub photo_ids: Vec<Uuid>,
}

/// Changes to a review; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ReviewChange {
    pub rating: Option<i32>,
    pub body: Option<String>,
    pub language: Option<String>,
    /// Replaces the photos.
    pub photo_ids: Option<Vec<Uuid>>,
}

/// Attaches the author's photos to a review in order, replacing any it had; each photo must be
/// one they uploaded for a review of this shop, and in no other review.
async fn set_photos(
    db: &impl ConnectionTrait,
    review: &reviews::Model,
    ids: &[Uuid],
) -> AppResult<()> {
    let mut seen = std::collections::HashSet::new();
    if ids.len() > MAX_PHOTOS || !ids.iter().all(|id| seen.insert(*id)) {
        return Err(AppError::invalid(
            "photoIds",
            format!("at most {MAX_PHOTOS} different photos"),
        ));
    }
    crate::media::attachable_by(
        db,
        review.shop_id,
        crate::media::Purpose::Review,
        Some(review.buyer_id),
        ids,
        "photoIds",
    )
    .await?;
    review_photos::Entity::delete_many()
        .filter(review_photos::Column::ReviewId.eq(review.id))
        .exec(db)
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let rows = ids
        .iter()
        .enumerate()
        .map(|(position, image)| review_photos::ActiveModel {
            id: Set(Uuid::now_v7()),
            review_id: Set(review.id),
            image_id: Set(*image),
            position: Set(position as i32),
        });
    review_photos::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await
        .on_conflict("a photo belongs to one review only")?;
    Ok(())
}

fn rating(value: i32) -> AppResult<i32> {
    if (1..=5).contains(&value) {
        Ok(value)
    } else {
        Err(AppError::invalid(
            "rating",
            "a rating is a whole number from 1 to 5",
        ))
    }
}

fn text(field: &'static str, value: &str, required: bool) -> AppResult<String> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_TEXT} characters"),
        ));
    }
    if required && value.is_empty() {
        return Err(AppError::invalid(field, "must not be empty"));
    }
    Ok(value.to_owned())
}

/// Moves a product's visible-rating totals by `count` reviews and `sum` stars, and its score
/// with them, in one statement relative to what is stored (never read, changed, written).
async fn move_totals(
    db: &impl ConnectionTrait,
    product: Uuid,
    count: i32,
    sum: i32,
) -> AppResult<()> {
    let new_count = Expr::col(products::Column::RatingCount).add(count);
    let new_sum = Expr::col(products::Column::RatingSum).add(sum);
    let score = Expr::case(new_count.clone().lte(0), Expr::val(0))
        .finally(new_sum.clone().mul(100).div(new_count.clone()));
    products::Entity::update_many()
        .col_expr(products::Column::RatingCount, new_count)
        .col_expr(products::Column::RatingSum, new_sum)
        .col_expr(products::Column::RatingScore, score.into())
        .filter(products::Column::Id.eq(product))
        .exec(db)
        .await?;
    Ok(())
}

/// Writes the caller's review of one order line they received.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn write_review(
    state: &AppState,
    caller: CurrentUser,
    input: ReviewInput,
) -> AppResult<reviews::Model> {
    let stars = rating(input.rating)?;
    let body = text("body", &input.body, false)?;
    let language = match &input.language {
        Some(tag) => LanguageTag::parse_field("language", tag)?
            .as_str()
            .to_owned(),
        None => users::Entity::find_by_id(caller.id)
            .one(&state.db)
            .await?
            .map_or_else(|| "en".to_owned(), |u| u.preferred_language),
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let line = order_lines::Entity::find_by_id(input.order_line_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("no such order line".into()))?;
    let order = orders::Entity::find_by_id(line.order_id)
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::NotFound("no such order line".into()))?;
    if order.buyer_id != caller.id {
        return Err(AppError::Forbidden(
            "only the buyer of an order reviews what it held".into(),
        ));
    }
    if order.delivered_at.is_none() {
        return Err(AppError::refused(
            "NOT_DELIVERED",
            "a review can be written once the order has been delivered",
        )
        .with_detail("orderId", order.id));
    }
    let now = Utc::now();
    let review = reviews::ActiveModel {
        id: Set(Uuid::now_v7()),
        product_id: Set(line.product_id),
        shop_id: Set(order.shop_id),
        order_id: Set(order.id),
        order_line_id: Set(line.id),
        buyer_id: Set(caller.id),
        rating: Set(stars),
        body: Set(body),
        language: Set(language),
        status: Set(ReviewStatus::Visible),
        hidden_reason: Set(None),
        hidden_at: Set(None),
        reply: Set(String::new()),
        replied_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .on_conflict("this order line has been reviewed already; change that review instead")?;
    set_photos(&txn, &review, &input.photo_ids).await?;
    move_totals(&txn, review.product_id, 1, stars).await?;
    txn.commit().await?;
    Ok(review)
}

/// Changes the caller's own review within its edit window.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn update_review(
    state: &AppState,
    caller: CurrentUser,
    review_id: Uuid,
    change: ReviewChange,
) -> AppResult<reviews::Model> {
    let stars = change.rating.map(rating).transpose()?;
    let body = change
        .body
        .as_deref()
        .map(|b| text("body", b, false))
        .transpose()?;
    let language = change
        .language
        .as_deref()
        .map(|l| LanguageTag::parse_field("language", l).map(|t| t.as_str().to_owned()))
        .transpose()?;
    let txn = crate::db::begin_write(&state.db).await?;
    let review = reviews::Entity::find_by_id(review_id)
        .one(&txn)
        .await?
        .filter(|r| r.buyer_id == caller.id)
        .ok_or_else(|| AppError::NotFound("no such review of yours".into()))?;
    if Utc::now() > review.created_at + Duration::days(EDIT_DAYS) {
        return Err(AppError::refused(
            "EDIT_WINDOW_CLOSED",
            format!("a review can be changed for {EDIT_DAYS} days after it was written"),
        ));
    }
    let old = review.rating;
    let visible = review.status == ReviewStatus::Visible;
    let product = review.product_id;
    let mut active: reviews::ActiveModel = review.into();
    if let Some(stars) = stars {
        active.rating = Set(stars);
    }
    if let Some(body) = body {
        active.body = Set(body);
    }
    if let Some(language) = language {
        active.language = Set(language);
    }
    active.updated_at = Set(Utc::now());
    let review = active.update(&txn).await?;
    if let Some(ids) = &change.photo_ids {
        set_photos(&txn, &review, ids).await?;
    }
    if visible && review.rating != old {
        move_totals(&txn, product, 0, review.rating - old).await?;
    }
    txn.commit().await?;
    Ok(review)
}

/// The shop's one public reply to a review of its product.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn reply_to_review(
    state: &AppState,
    caller: CurrentUser,
    review_id: Uuid,
    reply: &str,
) -> AppResult<reviews::Model> {
    let reply = text("reply", reply, true)?;
    let review = reviews::Entity::find_by_id(review_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such review".into()))?;
    managed_shop(&state.db, caller, review.shop_id).await?;
    let now = Utc::now();
    // Only the first reply lands, however many arrive at once.
    let done = reviews::Entity::update_many()
        .col_expr(reviews::Column::Reply, Expr::val(reply))
        .col_expr(reviews::Column::RepliedAt, Expr::val(now))
        .filter(reviews::Column::Id.eq(review.id))
        .filter(reviews::Column::RepliedAt.is_null())
        .exec(&state.db)
        .await?;
    if done.rows_affected == 0 {
        return Err(AppError::Conflict(
            "the shop has replied to this review already".into(),
        ));
    }
    found(&state.db, review.id).await
}

async fn found(db: &impl ConnectionTrait, id: Uuid) -> AppResult<reviews::Model> {
    reviews::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such review".into()))
}

/// Anyone's report that a review breaks the rules: once per person (or, for guests, per
/// client address); a repeated report changes nothing.
pub async fn report_review(
    state: &AppState,
    caller: Caller,
    client: Option<&str>,
    review_id: Uuid,
    reason: &str,
) -> AppResult<()> {
    let reason = text("reason", reason, true)?;
    let review = found(&state.db, review_id).await?;
    if review.status != ReviewStatus::Visible {
        return Ok(());
    }
    let (reporter_id, key) = match caller {
        Caller::User(user) => (Some(user.id), format!("user:{}", user.id)),
        _ => (None, format!("client:{}", client.unwrap_or("unknown"))),
    };
    let report = review_reports::ActiveModel {
        id: Set(Uuid::now_v7()),
        review_id: Set(review.id),
        reporter_id: Set(reporter_id),
        reporter_key: Set(key),
        reason: Set(reason),
        created_at: Set(Utc::now()),
    };
    match report.insert(&state.db).await.on_conflict("reported") {
        Ok(_) | Err(AppError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Hides a review (with a reason) or shows it again. Admins only; its rating leaves or
/// rejoins the product's totals in the same transaction.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn set_review_hidden(
    state: &AppState,
    caller: CurrentUser,
    review_id: Uuid,
    hidden: bool,
    reason: Option<&str>,
) -> AppResult<reviews::Model> {
    caller.require_role(&[Role::Admin])?;
    let reason = match (hidden, reason) {
        (true, Some(r)) => Some(text("reason", r, true)?),
        (true, None) => return Err(AppError::invalid("reason", "say why the review is hidden")),
        (false, _) => None,
    };
    let txn = crate::db::begin_write(&state.db).await?;
    let review = found(&txn, review_id).await?;
    let (from, to) = if hidden {
        (ReviewStatus::Visible, ReviewStatus::Hidden)
    } else {
        (ReviewStatus::Hidden, ReviewStatus::Visible)
    };
    // Only a real change moves the totals, so hiding twice at once counts once.
    let done = reviews::Entity::update_many()
        .col_expr(reviews::Column::Status, Expr::val(to))
        .col_expr(reviews::Column::HiddenReason, Expr::val(reason))
        .col_expr(reviews::Column::HiddenAt, Expr::val(hidden.then(Utc::now)))
        .filter(reviews::Column::Id.eq(review.id))
        .filter(reviews::Column::Status.eq(from))
        .exec(&txn)
        .await?;
    if done.rows_affected == 1 {
        let sign = if hidden { -1 } else { 1 };
        move_totals(&txn, review.product_id, sign, sign * review.rating).await?;
    }
    let review = found(&txn, review.id).await?;
    txn.commit().await?;
    Ok(review)
}

/// Visible reviews of a product or a shop, for everyone.
pub fn visible(product: Option<Uuid>, shop: Option<Uuid>) -> Select<reviews::Entity> {
    let mut select =
        reviews::Entity::find().filter(reviews::Column::Status.eq(ReviewStatus::Visible));
    if let Some(product) = product {
        select = select.filter(reviews::Column::ProductId.eq(product));
    }
    if let Some(shop) = shop {
        select = select.filter(reviews::Column::ShopId.eq(shop));
    }
    select
}

/// Reviews someone reported, for admins, with hidden ones when asked.
pub fn reported(caller: CurrentUser, include_hidden: bool) -> AppResult<Select<reviews::Entity>> {
    caller.require_role(&[Role::Admin])?;
    let mut select = reviews::Entity::find().filter(
        reviews::Column::Id.in_subquery(
            sea_orm::sea_query::Query::select()
                .column(review_reports::Column::ReviewId)
                .from(review_reports::Entity)
                .to_owned(),
        ),
    );
    if !include_hidden {
        select = select.filter(reviews::Column::Status.eq(ReviewStatus::Visible));
    }
    Ok(select)
}

/// The reports of one review, oldest first (admins).
pub async fn reports_of(
    db: &impl ConnectionTrait,
    review: Uuid,
) -> AppResult<Vec<review_reports::Model>> {
    Ok(review_reports::Entity::find()
        .filter(review_reports::Column::ReviewId.eq(review))
        .order_by_asc(review_reports::Column::Id)
        .all(db)
        .await?)
}

/// The caller's reviews, newest first.
pub fn mine(caller: CurrentUser) -> Select<reviews::Entity> {
    reviews::Entity::find().filter(reviews::Column::BuyerId.eq(caller.id))
}
