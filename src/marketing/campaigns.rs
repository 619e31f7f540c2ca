//! Seasonal campaigns (Naadam, Tsagaan Sar, Christmas and Valentine's Day abroad): admins show
//! a collection for a period with a banner, in a featured order, optionally advertising a
//! promotion code. The public sees a campaign only while it is live.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use crate::{
    auth::{Caller, CurrentUser},
    entities::{campaigns, collections, promotion_codes, users::Role},
    error::{AppError, AppResult, OnConflict},
    state::AppState,
};

/// Most campaigns the public list shows at once.
pub const MAX_LIVE: u64 = 50;

/// What an admin sets; on update `None` keeps the value (and `Some(None)` clears one).
#[derive(Debug, Clone, Default)]
pub struct CampaignInput {
    pub collection_id: Option<Uuid>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub banner_url: Option<Option<String>>,
    pub banner_alt: Option<Option<String>>,
    pub position: Option<i32>,
    /// The code as typed; `Some(None)` unlinks it.
    pub promotion_code: Option<Option<String>>,
}

fn banner_url(url: Option<String>) -> AppResult<Option<String>> {
    let Some(url) = url.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if !url.starts_with("https://") || url.len() > 2000 || url.contains(char::is_whitespace) {
        return Err(AppError::invalid(
            "bannerUrl",
            "a banner is an https address of at most 2000 characters",
        ));
    }
    Ok(Some(url))
}

fn banner_alt(alt: Option<String>) -> AppResult<Option<String>> {
    let alt = alt.map(|a| a.trim().to_owned()).filter(|a| !a.is_empty());
    if alt.as_ref().is_some_and(|a| a.chars().count() > 300) {
        return Err(AppError::invalid("bannerAlt", "at most 300 characters"));
    }
    Ok(alt)
}

async fn promotion(db: &impl ConnectionTrait, code: Option<String>) -> AppResult<Option<Uuid>> {
    let Some(code) = code else {
        return Ok(None);
    };
    let normal = crate::promotions::codes::normalise(&code);
    promotion_codes::Entity::find()
        .filter(promotion_codes::Column::Code.eq(normal))
        .one(db)
        .await?
        .map(|c| Some(c.id))
        .ok_or_else(|| AppError::invalid("promotionCode", "no promotion has this code"))
}

/// Starts a campaign on a collection. Admins only.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn create(
    state: &AppState,
    caller: CurrentUser,
    input: CampaignInput,
) -> AppResult<campaigns::Model> {
    caller.require_role(&[Role::Admin])?;
    let collection = input
        .collection_id
        .ok_or_else(|| AppError::invalid("collectionId", "a campaign shows a collection"))?;
    if collections::Entity::find_by_id(collection)
        .one(&state.db)
        .await?
        .is_none()
    {
        return Err(AppError::invalid("collectionId", "no such collection"));
    }
    let (Some(starts_at), Some(ends_at)) = (input.starts_at, input.ends_at) else {
        return Err(AppError::invalid(
            "endsAt",
            "a campaign has a start and an end",
        ));
    };
    check_period(starts_at, ends_at)?;
    let now = Utc::now();
    let row = campaigns::ActiveModel {
        id: Set(Uuid::now_v7()),
        collection_id: Set(collection),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        banner_url: Set(banner_url(input.banner_url.flatten())?),
        banner_alt: Set(banner_alt(input.banner_alt.flatten())?),
        position: Set(input.position.unwrap_or(0)),
        promotion_id: Set(promotion(&state.db, input.promotion_code.flatten()).await?),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await
    .on_conflict("this collection has a campaign already; update it")?;
    state.catalogue_changed();
    Ok(row)
}

fn check_period(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> AppResult<()> {
    if ends_at <= starts_at {
        return Err(AppError::invalid(
            "endsAt",
            "a campaign ends after it starts",
        ));
    }
    Ok(())
}

/// Changes a campaign. Admins only.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn update(
    state: &AppState,
    caller: CurrentUser,
    id: Uuid,
    input: CampaignInput,
) -> AppResult<campaigns::Model> {
    caller.require_role(&[Role::Admin])?;
    let current = campaigns::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such campaign".into()))?;
    let starts_at = input.starts_at.unwrap_or(current.starts_at);
    let ends_at = input.ends_at.unwrap_or(current.ends_at);
    check_period(starts_at, ends_at)?;
    let mut row: campaigns::ActiveModel = current.into();
    row.starts_at = Set(starts_at);
    row.ends_at = Set(ends_at);
    if let Some(url) = input.banner_url {
        row.banner_url = Set(banner_url(url)?);
    }
    if let Some(alt) = input.banner_alt {
        row.banner_alt = Set(banner_alt(alt)?);
    }
    if let Some(position) = input.position {
        row.position = Set(position);
    }
    if let Some(code) = input.promotion_code {
        row.promotion_id = Set(promotion(&state.db, code).await?);
    }
    row.updated_at = Set(Utc::now());
    let row = row.update(&state.db).await?;
    state.catalogue_changed();
    Ok(row)
}

/// The live campaigns in featured order (lower `position` first, then the soonest to end).
pub async fn live(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
) -> AppResult<Vec<campaigns::Model>> {
    Ok(campaigns::Entity::find()
        .filter(campaigns::Column::StartsAt.lte(now))
        .filter(campaigns::Column::EndsAt.gt(now))
        .order_by_asc(campaigns::Column::Position)
        .order_by_asc(campaigns::Column::EndsAt)
        .limit(MAX_LIVE)
        .all(db)
        .await?)
}

/// Every campaign, past and coming, for admins: a query to page through.
pub fn all(caller: CurrentUser) -> AppResult<sea_orm::Select<campaigns::Entity>> {
    caller.require_role(&[Role::Admin])?;
    Ok(campaigns::Entity::find())
}

/// A campaign by its collection's slug: live ones for everyone, any for admins.
pub async fn by_slug(
    db: &impl ConnectionTrait,
    caller: Caller,
    slug: &str,
) -> AppResult<campaigns::Model> {
    let not_found = || AppError::NotFound("no such campaign".into());
    let collection = crate::catalog::taxonomy::collection_by_slug(db, slug)
        .await
        .map_err(|_| not_found())?;
    let campaign = campaigns::Entity::find()
        .filter(campaigns::Column::CollectionId.eq(collection.id))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let admin = caller.user().is_ok_and(|u| u.role == Role::Admin);
    if admin || is_live(&campaign, Utc::now()) {
        Ok(campaign)
    } else {
        Err(not_found())
    }
}

/// Whether the public sees it now.
pub fn is_live(campaign: &campaigns::Model, now: DateTime<Utc>) -> bool {
    campaign.starts_at <= now && now < campaign.ends_at
}

/// Whether a campaign's linked code is shown: only while buyers can use it.
pub fn advertises(code: &promotion_codes::Model, now: DateTime<Utc>) -> bool {
    crate::promotions::rules::check_period(code, now).is_ok()
}
