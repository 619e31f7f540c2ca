//! Shops and their makers: who may open, change, see and suspend them.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Select, Set,
};
use uuid::Uuid;

use super::{
    products::reindex_products,
    texts::{Texts, required, slug},
};
use crate::{
    auth::{Caller, CurrentUser},
    entities::{
        makers, product_makers,
        shops::{self, ShopStatus},
        users::Role,
    },
    error::{AppError, AppResult, OnConflict},
    i18n::{CountryCode, LanguageTag},
    media::Purpose,
    money::Currency,
    state::AppState,
};

/// Fields of a shop; on update `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct ShopInput {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub settlement_currency: Option<String>,
    pub default_language: Option<String>,
    /// Replaces every story when given.
    pub story: Option<Vec<(String, String)>>,
    /// `Some(None)` removes the logo; `Some(Some(id))` sets an uploaded photo.
    pub logo: Option<Option<Uuid>>,
    pub banner: Option<Option<Uuid>>,
}

/// Fields of a maker; on update `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct MakerInput {
    pub name: Option<String>,
    pub region: Option<String>,
    pub craft: Option<String>,
    pub years_practising: Option<i32>,
    pub biography: Option<Vec<(String, String)>>,
    /// `Some(None)` removes the portrait; `Some(Some(id))` sets an uploaded photo.
    pub portrait: Option<Option<Uuid>>,
    /// `Some(Some(_))` records the maker's consent and replaces their declared
    /// characteristics; `Some(None)` withdraws the consent and erases them.
    pub statistics: Option<Option<MakerStatistics>>,
}

/// What a maker declares, with consent, to be counted by in the market statistics; every
/// field optional. Used only in aggregates and shown only to whoever manages the shop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MakerStatistics {
    pub gender: Option<Gender>,
    pub birth_year: Option<i32>,
    pub cooperative_member: Option<bool>,
}

/// A maker's self-declared gender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Female,
    Male,
    Other,
}

impl Gender {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Female => "FEMALE",
            Self::Male => "MALE",
            Self::Other => "OTHER",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Female, Self::Male, Self::Other]
            .into_iter()
            .find(|g| g.as_str() == text)
    }
}

/// What a maker consented to be counted by, when they consented, as `caller` may see it:
/// only whoever manages the maker's shop, and only with consent. The one place this rule is
/// written.
pub fn maker_statistics(
    maker: &makers::Model,
    shop: &shops::Model,
    caller: Caller,
) -> Option<(chrono::DateTime<Utc>, MakerStatistics)> {
    let consented_at = maker.statistics_consent_at?;
    if maker.shop_id != shop.id || !caller.manages(shop.owner_id) {
        return None;
    }
    Some((
        consented_at,
        MakerStatistics {
            gender: maker.gender.as_deref().and_then(Gender::parse),
            birth_year: maker.birth_year,
            cooperative_member: maker.cooperative_member,
        },
    ))
}

/// Records or withdraws a maker's consent: no characteristic is kept without it.
fn apply_statistics(
    active: &mut makers::ActiveModel,
    consented_at: Option<chrono::DateTime<Utc>>,
    statistics: Option<MakerStatistics>,
) -> AppResult<()> {
    let Some(stats) = statistics else {
        active.statistics_consent_at = Set(None);
        active.gender = Set(None);
        active.birth_year = Set(None);
        active.cooperative_member = Set(None);
        return Ok(());
    };
    if let Some(year) = stats.birth_year {
        let this_year = chrono::Datelike::year(&Utc::now());
        if !(1900..=this_year - 12).contains(&year) {
            return Err(AppError::invalid(
                "statistics.birthYear",
                "must be a year from 1900 to twelve years ago",
            ));
        }
    }
    active.statistics_consent_at = Set(Some(consented_at.unwrap_or_else(Utc::now)));
    active.gender = Set(stats.gender.map(|g| g.as_str().to_owned()));
    active.birth_year = Set(stats.birth_year);
    active.cooperative_member = Set(stats.cooperative_member);
    Ok(())
}

fn apply_shop(active: &mut shops::ActiveModel, input: ShopInput) -> AppResult<()> {
    if let Some(v) = input.slug {
        active.slug = Set(slug("slug", &v, 64)?);
    }
    if let Some(v) = input.name {
        active.name = Set(required("name", &v, 120)?);
    }
    if let Some(v) = input.country {
        let c = CountryCode::parse_field("country", &v)?;
        active.country = Set(c.as_str().to_owned());
    }
    if let Some(v) = input.region {
        active.region = Set(required("region", &v, 100)?);
    }
    if let Some(v) = input.settlement_currency {
        let c = Currency::parse_field("settlementCurrency", &v)?;
        active.settlement_currency = Set(c.code().to_owned());
    }
    if let Some(v) = input.default_language {
        let l = LanguageTag::parse_field("defaultLanguage", &v)?;
        active.default_language = Set(l.as_str().to_owned());
    }
    if let Some(story) = input.story {
        active.story = Set(Texts::from_input("story", story, 5000)?.to_json());
    }
    if let Some(logo) = input.logo {
        active.logo_image_id = Set(logo);
    }
    if let Some(banner) = input.banner {
        active.banner_image_id = Set(banner);
    }
    Ok(())
}

/// Opens the caller's shop. Artisans only, one shop each.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn create_shop(
    state: &AppState,
    caller: CurrentUser,
    input: ShopInput,
) -> AppResult<shops::Model> {
    caller.require_role(&[Role::Artisan])?;
    let missing = |field: &'static str| AppError::invalid(field, "is required");
    let now = Utc::now();
    let mut active = shops::ActiveModel {
        id: Set(Uuid::now_v7()),
        owner_id: Set(caller.id),
        status: Set(ShopStatus::Active),
        story: Set("{}".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    for (field, present) in [
        ("slug", input.slug.is_some()),
        ("name", input.name.is_some()),
        ("country", input.country.is_some()),
        ("region", input.region.is_some()),
        ("settlementCurrency", input.settlement_currency.is_some()),
        ("defaultLanguage", input.default_language.is_some()),
    ] {
        if !present {
            return Err(missing(field));
        }
    }
    apply_shop(&mut active, input)?;
    if shop_of(&state.db, caller.id).await?.is_some() {
        return Err(AppError::Conflict("you already have a shop".into()));
    }
    active
        .insert(&state.db)
        .await
        .on_conflict("this shop address is taken, or you already have a shop")
}

/// Changes a shop: its owner or an admin.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn update_shop(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    input: ShopInput,
) -> AppResult<shops::Model> {
    let shop = editable_shop(&state.db, caller, shop_id).await?;
    let currency_changed = input
        .settlement_currency
        .as_deref()
        .is_some_and(|c| !c.eq_ignore_ascii_case(&shop.settlement_currency));
    if currency_changed {
        // Prices are kept in the settlement currency; changing it would silently reprice.
        return Err(AppError::invalid(
            "settlementCurrency",
            "the settlement currency cannot be changed once the shop is open",
        ));
    }
    for (field, purpose, photo) in [
        ("logoPhotoId", Purpose::ShopLogo, input.logo),
        ("bannerPhotoId", Purpose::ShopBanner, input.banner),
    ] {
        if let Some(Some(id)) = photo {
            crate::media::attachable(&state.db, shop.id, purpose, &[id], field).await?;
        }
    }
    let mut active: shops::ActiveModel = shop.into();
    apply_shop(&mut active, input)?;
    active.updated_at = Set(Utc::now());
    active
        .update(&state.db)
        .await
        .on_conflict("this shop address is taken")
}

/// Suspends or reinstates a shop. Admins only; a suspended shop's products disappear from
/// the public catalogue.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn set_shop_suspended(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    suspended: bool,
) -> AppResult<shops::Model> {
    caller.require_role(&[Role::Admin])?;
    let shop = shops::Entity::find_by_id(shop_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such shop".into()))?;
    let was = shop.status;
    let mut active: shops::ActiveModel = shop.into();
    active.status = Set(if suspended {
        ShopStatus::Suspended
    } else {
        ShopStatus::Active
    });
    let now = Utc::now();
    active.updated_at = Set(now);
    let txn = crate::db::begin_write(&state.db).await?;
    let shop = active.update(&txn).await?;
    if suspended && was != ShopStatus::Suspended {
        let notice = crate::outbox::Notice::new(
            crate::outbox::Kind::ShopSuspended,
            shop.owner_id,
            format!("{}:{}", shop.id, now.timestamp_millis()),
            serde_json::json!({ "shop_id": shop.id, "shop_name": shop.name }),
        );
        crate::outbox::enqueue(&txn, [notice]).await?;
    }
    txn.commit().await?;
    Ok(shop)
}

/// The shop a user owns, if any.
pub async fn shop_of(db: &impl ConnectionTrait, owner: Uuid) -> AppResult<Option<shops::Model>> {
    Ok(shops::Entity::find()
        .filter(shops::Column::OwnerId.eq(owner))
        .one(db)
        .await?)
}

/// The shop, if the caller may change it (owner or admin): the rule lives in core, where the
/// media domain uses it too.
pub use crate::auth::managed_shop as editable_shop;

/// Whether the caller sees this shop: active shops are public, suspended ones only for their
/// owner and admins.
pub fn visible(shop: &shops::Model, caller: Caller) -> bool {
    shop.status == ShopStatus::Active || caller.manages(shop.owner_id)
}

/// A shop by slug, as the caller may see it.
pub async fn shop_by_slug(
    db: &impl ConnectionTrait,
    caller: Caller,
    slug: &str,
) -> AppResult<shops::Model> {
    shops::Entity::find()
        .filter(shops::Column::Slug.eq(super::texts::slug_key(slug)))
        .one(db)
        .await?
        .filter(|s| visible(s, caller))
        .ok_or_else(|| AppError::NotFound("no such shop".into()))
}

fn apply_maker(
    active: &mut makers::ActiveModel,
    consented_at: Option<chrono::DateTime<Utc>>,
    input: MakerInput,
) -> AppResult<()> {
    if let Some(statistics) = input.statistics {
        apply_statistics(active, consented_at, statistics)?;
    }
    if let Some(v) = input.name {
        active.name = Set(required("name", &v, 120)?);
    }
    if let Some(v) = input.region {
        active.region = Set(required("region", &v, 100)?);
    }
    if let Some(v) = input.craft {
        active.craft = Set(required("craft", &v, 100)?);
    }
    if let Some(years) = input.years_practising {
        if !(0..=100).contains(&years) {
            return Err(AppError::invalid(
                "yearsPractising",
                "must be between 0 and 100",
            ));
        }
        active.years_practising = Set(Some(years));
    }
    if let Some(bio) = input.biography {
        active.biography = Set(Texts::from_input("biography", bio, 2000)?.to_json());
    }
    if let Some(portrait) = input.portrait {
        active.portrait_image_id = Set(portrait);
    }
    Ok(())
}

/// Checks a maker's new portrait, if one is given.
async fn check_portrait(
    db: &impl ConnectionTrait,
    shop: Uuid,
    input: &MakerInput,
) -> AppResult<()> {
    match input.portrait {
        Some(Some(id)) => {
            crate::media::attachable(db, shop, Purpose::MakerPortrait, &[id], "portraitPhotoId")
                .await
        }
        _ => Ok(()),
    }
}

/// Adds a maker to a shop the caller may edit.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn create_maker(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    input: MakerInput,
) -> AppResult<makers::Model> {
    editable_shop(&state.db, caller, shop_id).await?;
    check_portrait(&state.db, shop_id, &input).await?;
    for (field, present) in [
        ("name", input.name.is_some()),
        ("region", input.region.is_some()),
        ("craft", input.craft.is_some()),
    ] {
        if !present {
            return Err(AppError::invalid(field, "is required"));
        }
    }
    let mut active = makers::ActiveModel {
        id: Set(Uuid::now_v7()),
        shop_id: Set(shop_id),
        biography: Set("{}".into()),
        years_practising: Set(None),
        portrait_image_id: Set(None),
        created_at: Set(Utc::now()),
        statistics_consent_at: Set(None),
        gender: Set(None),
        birth_year: Set(None),
        cooperative_member: Set(None),
        ..Default::default()
    };
    apply_maker(&mut active, None, input)?;
    Ok(active.insert(&state.db).await?)
}

/// Changes a maker, and the search documents of their products (maker names are searchable).
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn update_maker(
    state: &AppState,
    caller: CurrentUser,
    maker_id: Uuid,
    input: MakerInput,
) -> AppResult<makers::Model> {
    let maker = makers::Entity::find_by_id(maker_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such maker".into()))?;
    editable_shop(&state.db, caller, maker.shop_id).await?;
    check_portrait(&state.db, maker.shop_id, &input).await?;
    let txn = crate::db::begin_write(&state.db).await?;
    let consented_at = maker.statistics_consent_at;
    let mut active: makers::ActiveModel = maker.into();
    apply_maker(&mut active, consented_at, input)?;
    let maker = active.update(&txn).await?;
    let product_ids: Vec<Uuid> = product_makers::Entity::find()
        .filter(product_makers::Column::MakerId.eq(maker.id))
        .all(&txn)
        .await?
        .into_iter()
        .map(|pm| pm.product_id)
        .collect();
    reindex_products(&txn, &product_ids).await?;
    txn.commit().await?;
    Ok(maker)
}

/// The commission new orders of a shop carry: its override, else the platform default.
pub fn commission_bps(shop: &shops::Model, default_bps: i32) -> i32 {
    shop.commission_bps.unwrap_or(default_bps)
}

/// Open shops, optionally in one country and with published products in some categories.
pub fn open_shops(country: Option<&str>, categories: Option<Vec<Uuid>>) -> Select<shops::Entity> {
    use crate::entities::products;
    let mut select = shops::Entity::find().filter(shops::Column::Status.eq(ShopStatus::Active));
    if let Some(country) = country {
        select = select.filter(shops::Column::Country.eq(country.trim().to_ascii_uppercase()));
    }
    if let Some(ids) = categories {
        select = select.filter(
            shops::Column::Id.in_subquery(
                sea_orm::sea_query::Query::select()
                    .column(products::Column::ShopId)
                    .from(products::Entity)
                    .and_where(products::Column::CategoryId.is_in(ids))
                    .and_where(products::Column::Status.eq(products::ProductStatus::Active))
                    .to_owned(),
            ),
        );
    }
    select
}
