//! A buyer's address book.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::{
    auth::CurrentUser,
    catalog::texts::required,
    entities::addresses,
    error::{AppError, AppResult},
    i18n::CountryCode,
    state::AppState,
};

/// A new address.
#[derive(Debug, Clone)]
pub struct AddressInput {
    pub name: String,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub phone: Option<String>,
}

fn optional(field: &'static str, value: Option<String>, max: usize) -> AppResult<Option<String>> {
    value
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .map(|v| required(field, &v, max))
        .transpose()
}

/// Adds an address to the caller's book.
pub async fn add(
    state: &AppState,
    caller: CurrentUser,
    input: AddressInput,
) -> AppResult<addresses::Model> {
    let country = CountryCode::parse_field("country", &input.country)?;
    let phone = optional("phone", input.phone, 40)?;
    if phone
        .as_deref()
        .is_some_and(|p| !p.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c)))
    {
        return Err(AppError::invalid(
            "phone",
            "digits, spaces, +, - and brackets only",
        ));
    }
    Ok(addresses::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(caller.id),
        name: Set(required("name", &input.name, 120)?),
        line1: Set(required("line1", &input.line1, 200)?),
        line2: Set(optional("line2", input.line2, 200)?),
        city: Set(required("city", &input.city, 100)?),
        region: Set(optional("region", input.region, 100)?),
        postal_code: Set(optional("postalCode", input.postal_code, 20)?),
        country: Set(country.as_str().to_owned()),
        phone: Set(phone),
        created_at: Set(Utc::now()),
    }
    .insert(&state.db)
    .await?)
}

/// The caller's addresses, oldest first.
pub async fn list(state: &AppState, caller: CurrentUser) -> AppResult<Vec<addresses::Model>> {
    Ok(addresses::Entity::find()
        .filter(addresses::Column::UserId.eq(caller.id))
        .order_by_asc(addresses::Column::Id)
        .all(&state.db)
        .await?)
}

/// One of the caller's addresses; another's is `NOT_FOUND`.
pub async fn own(state: &AppState, caller: CurrentUser, id: Uuid) -> AppResult<addresses::Model> {
    addresses::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|a| a.user_id == caller.id)
        .ok_or_else(|| AppError::NotFound("no such address".into()))
}

/// Removes one of the caller's addresses. Orders keep their own copy.
pub async fn remove(state: &AppState, caller: CurrentUser, id: Uuid) -> AppResult<()> {
    let address = own(state, caller, id).await?;
    addresses::Entity::delete_by_id(address.id)
        .exec(&state.db)
        .await?;
    Ok(())
}
