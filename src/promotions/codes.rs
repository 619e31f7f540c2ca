//! Creating and managing promotion codes. Admins create platform-funded codes (across shops,
//! or limited to one); a shop creates codes for its own products, funded by itself.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::{
    auth::CurrentUser,
    entities::{
        categories, collections, products,
        promotion_codes::{self, DiscountKind, FundedBy},
        promotion_products,
        users::Role,
    },
    error::{AppError, AppResult, OnConflict},
    money::{Currency, Money},
    state::AppState,
};

/// Most products one code may list.
pub const MAX_PRODUCTS: usize = 500;

/// A code as its creator describes it. Amounts are decimal strings in `currency`.
#[derive(Debug, Clone, Default)]
pub struct CodeInput {
    pub code: String,
    pub description: Option<String>,
    /// Required for a shop's own code; an admin's code limited to one shop.
    pub shop_id: Option<Uuid>,
    pub percent_off: Option<i32>,
    pub amount: Option<String>,
    pub currency: Option<String>,
    pub min_subtotal: Option<String>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub max_uses: Option<i32>,
    pub max_uses_per_buyer: Option<i32>,
    pub first_order_only: bool,
    pub category_id: Option<Uuid>,
    pub collection_id: Option<Uuid>,
    pub product_ids: Vec<Uuid>,
}

/// Normalises what a buyer or creator typed: trimmed, upper case.
pub fn normalise(code: &str) -> String {
    code.trim().to_uppercase()
}

fn check_code(code: &str) -> AppResult<()> {
    let ok = (3..=40).contains(&code.chars().count())
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(
            "code",
            "a code is 3 to 40 letters, digits, '-' or '_'",
        ))
    }
}

fn positive(field: &'static str, value: Option<i32>) -> AppResult<Option<i32>> {
    match value {
        Some(v) if v < 1 => Err(AppError::invalid(field, "must be at least 1")),
        v => Ok(v),
    }
}

/// Creates a code. Who funds it follows from who creates it.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn create(
    state: &AppState,
    caller: CurrentUser,
    input: CodeInput,
) -> AppResult<promotion_codes::Model> {
    caller.require_role(&[Role::Artisan, Role::Admin])?;
    let funded_by = if caller.role == Role::Admin {
        FundedBy::Platform
    } else {
        FundedBy::Shop
    };
    let shop = match (input.shop_id, funded_by) {
        (Some(id), _) => Some(crate::auth::managed_shop(&state.db, caller, id).await?),
        (None, FundedBy::Shop) => {
            return Err(AppError::invalid(
                "shopId",
                "a shop's code names the shop it is for",
            ));
        }
        (None, FundedBy::Platform) => None,
    };
    let code = normalise(&input.code);
    check_code(&code)?;
    let description = input
        .description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > 200)
    {
        return Err(AppError::invalid("description", "at most 200 characters"));
    }
    let currency = input
        .currency
        .as_deref()
        .map(|c| Currency::parse_field("currency", c))
        .transpose()?;
    let needs_currency = || {
        currency.ok_or_else(|| {
            AppError::invalid("currency", "a fixed amount or a minimum needs a currency")
        })
    };
    let (kind, percent_off, amount_minor) = match (input.percent_off, &input.amount) {
        (Some(p), None) if (1..=100).contains(&p) => (DiscountKind::Percent, Some(p), None),
        (Some(_), None) => {
            return Err(AppError::invalid("percentOff", "a percentage is 1 to 100"));
        }
        (None, Some(a)) => (
            DiscountKind::Fixed,
            None,
            Some(Money::parse_field("amount", a, needs_currency()?)?),
        ),
        _ => {
            return Err(AppError::invalid(
                "percentOff",
                "give either percentOff or amount",
            ));
        }
    };
    let min_subtotal_minor = input
        .min_subtotal
        .as_deref()
        .map(|m| Money::parse_field("minSubtotal", m, needs_currency()?))
        .transpose()?;
    let now = Utc::now();
    let starts_at = input.starts_at.unwrap_or(now);
    if input.ends_at.is_some_and(|end| end <= starts_at) {
        return Err(AppError::invalid("endsAt", "a code ends after it starts"));
    }
    let max_uses = positive("maxUses", input.max_uses)?;
    let max_uses_per_buyer = positive("maxUsesPerBuyer", input.max_uses_per_buyer)?;
    if let Some(id) = input.category_id
        && categories::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .is_none()
    {
        return Err(AppError::invalid("categoryId", "no such category"));
    }
    if let Some(id) = input.collection_id
        && collections::Entity::find_by_id(id)
            .one(&state.db)
            .await?
            .is_none()
    {
        return Err(AppError::invalid("collectionId", "no such collection"));
    }
    let mut product_ids = input.product_ids.clone();
    product_ids.sort();
    product_ids.dedup();
    if product_ids.len() > MAX_PRODUCTS {
        return Err(AppError::invalid(
            "productIds",
            format!("at most {MAX_PRODUCTS} products"),
        ));
    }
    if !product_ids.is_empty() {
        let mut found =
            products::Entity::find().filter(products::Column::Id.is_in(product_ids.clone()));
        if let Some(shop) = &shop {
            found = found.filter(products::Column::ShopId.eq(shop.id));
        }
        if found.all(&state.db).await?.len() != product_ids.len() {
            return Err(AppError::invalid(
                "productIds",
                "every product must exist (and belong to the shop, for a shop's code)",
            ));
        }
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let row = promotion_codes::ActiveModel {
        id: Set(Uuid::now_v7()),
        code: Set(code),
        description: Set(description),
        funded_by: Set(funded_by),
        shop_id: Set(shop.map(|s| s.id)),
        kind: Set(kind),
        percent_off: Set(percent_off),
        amount_minor: Set(amount_minor),
        currency: Set(currency.map(|c| c.code().to_owned())),
        min_subtotal_minor: Set(min_subtotal_minor),
        starts_at: Set(starts_at),
        ends_at: Set(input.ends_at),
        max_uses: Set(max_uses),
        max_uses_per_buyer: Set(max_uses_per_buyer),
        first_order_only: Set(input.first_order_only),
        uses: Set(0),
        category_id: Set(input.category_id),
        collection_id: Set(input.collection_id),
        active: Set(true),
        created_by: Set(caller.id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .on_conflict("a promotion with this code exists already")?;
    if !product_ids.is_empty() {
        promotion_products::Entity::insert_many(product_ids.iter().map(|p| {
            promotion_products::ActiveModel {
                id: Set(Uuid::now_v7()),
                promotion_id: Set(row.id),
                product_id: Set(*p),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(row)
}

/// A code its caller manages: the shop's own codes for its owner, every code for admins.
pub async fn managed(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
    id: Uuid,
) -> AppResult<promotion_codes::Model> {
    let code = promotion_codes::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such promotion".into()))?;
    if caller.role == Role::Admin {
        return Ok(code);
    }
    match (code.funded_by, code.shop_id) {
        (FundedBy::Shop, Some(shop)) => {
            crate::auth::managed_shop(db, caller, shop).await?;
            Ok(code)
        }
        _ => Err(AppError::NotFound("no such promotion".into())),
    }
}

/// Switches a code on or off; buyers can no longer apply a code that is off.
pub async fn set_active(
    state: &AppState,
    caller: CurrentUser,
    id: Uuid,
    active: bool,
) -> AppResult<promotion_codes::Model> {
    let code = managed(&state.db, caller, id).await?;
    let mut row: promotion_codes::ActiveModel = code.into();
    row.active = Set(active);
    row.updated_at = Set(Utc::now());
    Ok(row.update(&state.db).await?)
}

/// The codes a caller manages, newest first: a shop's own (`shop_id`), or every code for
/// admins.
pub async fn list(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
    shop_id: Option<Uuid>,
) -> AppResult<sea_orm::Select<promotion_codes::Entity>> {
    let query = promotion_codes::Entity::find();
    match shop_id {
        Some(id) => {
            crate::auth::managed_shop(db, caller, id).await?;
            Ok(query.filter(promotion_codes::Column::ShopId.eq(id)))
        }
        None => {
            caller.require_role(&[Role::Admin])?;
            Ok(query)
        }
    }
}

/// The products a code is limited to (empty: not limited by product).
pub async fn products_of(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Vec<Uuid>> {
    Ok(promotion_products::Entity::find()
        .filter(promotion_products::Column::PromotionId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| p.product_id)
        .collect())
}
