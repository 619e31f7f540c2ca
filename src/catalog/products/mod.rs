//! Products: create, change, publish and archive, with every rule about what a product must
//! have.

mod rows;

use rows::{children, price, refresh_derived, shop_currency, words, write_children};
pub use rows::{hs_code, reindex_products};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    shops::{editable_shop, visible},
    texts::slug,
};
use crate::{
    auth::{Caller, CurrentUser},
    entities::{
        categories, product_translations, product_variants,
        products::{self, ProductStatus},
        shipping_profiles, shops,
    },
    error::{AppError, AppResult, OnConflict},
    state::AppState,
};

/// A product's title and description in one language.
#[derive(Debug, Clone)]
pub struct TranslationInput {
    pub language: String,
    pub title: String,
    pub description: String,
}

/// One option of a variant, such as size L or colour red.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptionValue {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone)]
pub struct VariantInput {
    pub sku: String,
    pub options: Vec<OptionValue>,
    /// A price in the shop's currency that replaces the product's base price.
    pub price: Option<String>,
    pub stock: i32,
}

#[derive(Debug, Clone)]
pub struct ImageInput {
    /// An external photo's address, or
    pub url: Option<String>,
    /// an uploaded photo of the shop (purpose PRODUCT).
    pub image_id: Option<Uuid>,
    pub alt: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct MakerRoleInput {
    pub maker_id: Uuid,
    pub role: String,
}

/// Fields of a product; on update `None` keeps what is there and lists replace wholesale.
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    pub slug: Option<String>,
    pub translations: Option<Vec<TranslationInput>>,
    /// `Some(None)` removes the category.
    pub category_id: Option<Option<Uuid>>,
    pub price: Option<String>,
    pub handmade: Option<bool>,
    pub made_to_order: Option<bool>,
    pub processing_days: Option<i32>,
    pub materials: Option<Vec<String>>,
    pub techniques: Option<Vec<String>>,
    pub origin_region: Option<Option<String>>,
    pub hs_code: Option<Option<String>>,
    pub weight_grams: Option<Option<i32>>,
    pub variants: Option<Vec<VariantInput>>,
    pub images: Option<Vec<ImageInput>>,
    pub makers: Option<Vec<MakerRoleInput>>,
    /// `Some(None)` goes back to the shop's default shipping profile.
    pub shipping_profile_id: Option<Option<Uuid>>,
}

/// Applies scalar fields to the product row.
async fn apply(
    db: &impl ConnectionTrait,
    shop: &shops::Model,
    active: &mut products::ActiveModel,
    input: ProductInput,
) -> AppResult<()> {
    if let Some(v) = input.slug {
        active.slug = Set(slug("slug", &v, 120)?);
    }
    if let Some(category) = input.category_id {
        if let Some(id) = category
            && categories::Entity::find_by_id(id).one(db).await?.is_none()
        {
            return Err(AppError::invalid("categoryId", "no such category"));
        }
        active.category_id = Set(category);
    }
    if let Some(profile) = input.shipping_profile_id {
        if let Some(id) = profile {
            let owned = shipping_profiles::Entity::find_by_id(id)
                .one(db)
                .await?
                .is_some_and(|p| p.shop_id == shop.id);
            if !owned {
                return Err(AppError::invalid(
                    "shippingProfileId",
                    "no such shipping profile in this shop",
                ));
            }
        }
        active.shipping_profile_id = Set(profile);
    }
    if let Some(p) = input.price {
        active.price_minor = Set(price("price", &p, shop_currency(shop)?)?);
    }
    if let Some(v) = input.handmade {
        active.handmade = Set(v);
    }
    if let Some(v) = input.made_to_order {
        active.made_to_order = Set(v);
    }
    if let Some(days) = input.processing_days {
        if !(0..=365).contains(&days) {
            return Err(AppError::invalid(
                "processingDays",
                "must be between 0 and 365",
            ));
        }
        active.processing_days = Set(days);
    }
    if let Some(list) = input.materials {
        active.materials =
            Set(serde_json::to_string(&words("materials", list)?).unwrap_or_default());
    }
    if let Some(list) = input.techniques {
        active.techniques =
            Set(serde_json::to_string(&words("techniques", list)?).unwrap_or_default());
    }
    if let Some(region) = input.origin_region {
        let region = region
            .map(|r| crate::catalog::texts::required("originRegion", &r, 100))
            .transpose()?;
        active.origin_region = Set(region);
    }
    if let Some(code) = input.hs_code {
        active.hs_code = Set(code.as_deref().map(hs_code).transpose()?);
    }
    if let Some(weight) = input.weight_grams {
        if weight.is_some_and(|w| !(1..=1_000_000).contains(&w)) {
            return Err(AppError::invalid(
                "weightGrams",
                "weight must be 1 to 1000000 grams",
            ));
        }
        active.weight_grams = Set(weight);
    }
    Ok(())
}

/// Lists a new DRAFT product in a shop the caller may edit.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn create_product(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    mut input: ProductInput,
) -> AppResult<products::Model> {
    let shop = editable_shop(&state.db, caller, shop_id).await?;
    for (field, present) in [
        ("slug", input.slug.is_some()),
        ("price", input.price.is_some()),
        ("variants", input.variants.is_some()),
    ] {
        if !present {
            return Err(AppError::invalid(field, "is required"));
        }
    }
    let id = Uuid::now_v7();
    let now = Utc::now();
    let txn = crate::db::begin_write(&state.db).await?;
    let children = children(&txn, &shop, id, &mut input).await?;
    let mut active = products::ActiveModel {
        id: Set(id),
        shop_id: Set(shop.id),
        status: Set(ProductStatus::Draft),
        category_id: Set(None),
        currency: Set(shop.settlement_currency.clone()),
        sort_price: Set(0),
        handmade: Set(true),
        made_to_order: Set(false),
        processing_days: Set(3),
        origin_region: Set(None),
        hs_code: Set(None),
        weight_grams: Set(None),
        materials: Set("[]".into()),
        techniques: Set("[]".into()),
        created_at: Set(now),
        updated_at: Set(now),
        published_at: Set(None),
        shipping_profile_id: Set(None),
        ..Default::default()
    };
    apply(&txn, &shop, &mut active, input).await?;
    let product = active
        .insert(&txn)
        .await
        .on_conflict("this shop already has a product at that address")?;
    write_children(&txn, id, children).await?;
    refresh_derived(&txn, &product).await?;
    txn.commit().await?;
    Ok(product)
}

/// The product, if the caller may change it.
async fn editable_product(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
    product_id: Uuid,
) -> AppResult<(products::Model, shops::Model)> {
    let product = products::Entity::find_by_id(product_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such product".into()))?;
    let shop = editable_shop(db, caller, product.shop_id).await?;
    Ok((product, shop))
}

/// Changes a product; lists given replace the old ones.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn update_product(
    state: &AppState,
    caller: CurrentUser,
    product_id: Uuid,
    mut input: ProductInput,
) -> AppResult<products::Model> {
    let txn = crate::db::begin_write(&state.db).await?;
    let (product, shop) = editable_product(&txn, caller, product_id).await?;
    let children = children(&txn, &shop, product.id, &mut input).await?;
    let status = product.status;
    let mut active: products::ActiveModel = product.into();
    apply(&txn, &shop, &mut active, input).await?;
    active.updated_at = Set(Utc::now());
    let product = active
        .update(&txn)
        .await
        .on_conflict("this shop already has a product at that address")?;
    write_children(&txn, product.id, children).await?;
    if status == ProductStatus::Active {
        publishable(&txn, &shop, &product).await?;
    }
    refresh_derived(&txn, &product).await?;
    txn.commit().await?;
    Ok(product)
}

/// What a product needs before buyers may see it.
async fn publishable(
    db: &impl ConnectionTrait,
    shop: &shops::Model,
    product: &products::Model,
) -> AppResult<()> {
    crate::auth::require_verified_email(db, shop.owner_id).await?;
    let has_title = product_translations::Entity::find()
        .filter(product_translations::Column::ProductId.eq(product.id))
        .filter(product_translations::Column::Language.eq(&shop.default_language))
        .one(db)
        .await?
        .is_some();
    if !has_title {
        return Err(AppError::invalid(
            "translations",
            format!(
                "a title in the shop's language ({}) is needed",
                shop.default_language
            ),
        ));
    }
    if product.price_minor <= 0 {
        return Err(AppError::invalid("price", "a price is needed"));
    }
    let variants = product_variants::Entity::find()
        .filter(product_variants::Column::ProductId.eq(product.id))
        .one(db)
        .await?;
    if variants.is_none() {
        return Err(AppError::invalid(
            "variants",
            "at least one variant is needed",
        ));
    }
    Ok(())
}

/// Moves a product to ACTIVE (published) or ARCHIVED. Illegal moves give `CONFLICT`.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn set_status(
    state: &AppState,
    caller: CurrentUser,
    product_id: Uuid,
    to: ProductStatus,
) -> AppResult<products::Model> {
    let txn = crate::db::begin_write(&state.db).await?;
    let (product, shop) = editable_product(&txn, caller, product_id).await?;
    let allowed = matches!(
        (product.status, to),
        (
            ProductStatus::Draft | ProductStatus::Archived,
            ProductStatus::Active
        ) | (
            ProductStatus::Draft | ProductStatus::Active,
            ProductStatus::Archived
        )
    );
    if !allowed {
        return Err(AppError::Conflict(format!(
            "a {:?} product cannot become {:?}",
            product.status, to
        )));
    }
    if to == ProductStatus::Active {
        publishable(&txn, &shop, &product).await?;
    }
    let now = Utc::now();
    let published_at = product.published_at;
    let mut active: products::ActiveModel = product.into();
    active.status = Set(to);
    active.updated_at = Set(now);
    if to == ProductStatus::Active && published_at.is_none() {
        active.published_at = Set(Some(now));
    }
    let product = active.update(&txn).await?;
    txn.commit().await?;
    Ok(product)
}

/// Whether the caller may see this product: ACTIVE products of visible shops are public;
/// the shop's owner and admins see every product.
pub fn product_visible(product: &products::Model, shop: &shops::Model, caller: Caller) -> bool {
    caller.manages(shop.owner_id)
        || (product.status == ProductStatus::Active && visible(shop, caller))
}

/// One product by id, as the caller may see it.
pub async fn product_by_id(
    db: &impl ConnectionTrait,
    caller: Caller,
    id: Uuid,
) -> AppResult<products::Model> {
    let not_found = || AppError::NotFound("no such product".into());
    let product = products::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let shop = shops::Entity::find_by_id(product.shop_id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    product_visible(&product, &shop, caller)
        .then_some(product)
        .ok_or_else(not_found)
}

/// One product by its shop's slug and its own, as the caller may see it.
pub async fn product_by_slug(
    db: &impl ConnectionTrait,
    caller: Caller,
    shop_slug: &str,
    slug: &str,
) -> AppResult<products::Model> {
    let not_found = || AppError::NotFound("no such product".into());
    let shop = shops::Entity::find()
        .filter(shops::Column::Slug.eq(super::texts::slug_key(shop_slug)))
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    let product = products::Entity::find()
        .filter(products::Column::ShopId.eq(shop.id))
        .filter(products::Column::Slug.eq(super::texts::slug_key(slug)))
        .order_by_asc(products::Column::Id)
        .one(db)
        .await?
        .ok_or_else(not_found)?;
    product_visible(&product, &shop, caller)
        .then_some(product)
        .ok_or_else(not_found)
}
