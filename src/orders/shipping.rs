//! Shipping profiles and zones per shop, and the cost of sending a parcel to a country.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::{
    auth::CurrentUser,
    catalog::shops::editable_shop,
    entities::{shipping_profiles, shipping_zones, shops},
    error::{AppError, AppResult},
    i18n::CountryCode,
    money::{Currency, Money},
    state::AppState,
};

/// A zone as the shop describes it; prices in the shop's currency.
#[derive(Debug, Clone)]
pub struct ZoneInput {
    pub name: String,
    /// Empty for the rest of the world.
    pub countries: Vec<String>,
    pub first_item: String,
    pub additional_item: String,
    pub min_days: i32,
    pub max_days: i32,
}

/// What sending a shop's parcel costs, in the shop's currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub cost_minor: i64,
    pub min_days: i32,
    pub max_days: i32,
}

fn countries_of(zone: &shipping_zones::Model) -> Vec<String> {
    serde_json::from_str(&zone.countries).unwrap_or_default()
}

/// The cost of `items` units to `country`: the zone naming the country, else the rest-of-the-
/// world zone; `None` when the shop does not ship there.
pub fn quote(zones: &[shipping_zones::Model], country: &str, items: i32) -> Option<Quote> {
    let zone = zones
        .iter()
        .find(|z| countries_of(z).iter().any(|c| c == country))
        .or_else(|| zones.iter().find(|z| countries_of(z).is_empty()))?;
    let extra = i64::from(items.max(1) - 1);
    Some(Quote {
        cost_minor: zone.first_item_minor + zone.additional_item_minor * extra,
        min_days: zone.min_days,
        max_days: zone.max_days,
    })
}

/// A shipping profile as the shop describes it.
#[derive(Debug, Clone)]
pub struct ProfileInput {
    pub name: String,
    /// Products that name no profile ship with the default one.
    pub is_default: bool,
    pub zones: Vec<ZoneInput>,
}

/// Creates (`profile_id` None) or replaces a shop's shipping profile with its zones (owner or
/// admin). A shop's first profile is its default.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn save_profile(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    profile_id: Option<Uuid>,
    input: ProfileInput,
) -> AppResult<(
    shops::Model,
    shipping_profiles::Model,
    Vec<shipping_zones::Model>,
)> {
    let shop = editable_shop(&state.db, caller, shop_id).await?;
    let currency = Currency::parse(&shop.settlement_currency)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("shop currency unreadable")))?;
    let name = crate::catalog::texts::required("name", &input.name, 100)?;
    if input.zones.len() > 50 {
        return Err(AppError::invalid("zones", "at most 50 zones"));
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let existing = shipping_profiles::Entity::find()
        .filter(shipping_profiles::Column::ShopId.eq(shop.id))
        .all(&txn)
        .await?;
    let profile_id = match profile_id {
        Some(id) if existing.iter().any(|p| p.id == id) => id,
        Some(_) => return Err(AppError::NotFound("no such shipping profile".into())),
        None => Uuid::now_v7(),
    };
    let is_default =
        input.is_default || existing.iter().all(|p| p.id == profile_id || !p.is_default);
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut rest_of_world = false;
    for (position, zone) in input.zones.into_iter().enumerate() {
        let zone_name = crate::catalog::texts::required("zones", &zone.name, 100)?;
        let mut countries = Vec::new();
        for c in &zone.countries {
            let code = CountryCode::parse(c).ok_or_else(|| {
                AppError::invalid("zones", format!("{c} is not an ISO 3166-1 alpha-2 code"))
            })?;
            if !seen.insert(code.as_str().to_owned()) {
                return Err(AppError::invalid(
                    "zones",
                    format!("{code} is in two zones"),
                ));
            }
            countries.push(code.as_str().to_owned());
        }
        if countries.is_empty() {
            if rest_of_world {
                return Err(AppError::invalid(
                    "zones",
                    "only one zone can cover the rest of the world",
                ));
            }
            rest_of_world = true;
        }
        let money = |s: &str| {
            Money::parse(s, currency).map(|m| m.minor).ok_or_else(|| {
                AppError::invalid("zones", format!("a decimal amount in {}", currency.code()))
            })
        };
        if zone.min_days < 0 || zone.max_days < zone.min_days || zone.max_days > 365 {
            return Err(AppError::invalid(
                "zones",
                "delivery days must satisfy 0 <= min <= max <= 365",
            ));
        }
        rows.push(shipping_zones::Model {
            id: Uuid::now_v7(),
            shop_id: shop.id,
            profile_id,
            name: zone_name,
            countries: serde_json::to_string(&countries).unwrap_or_else(|_| "[]".into()),
            first_item_minor: money(&zone.first_item)?,
            additional_item_minor: money(&zone.additional_item)?,
            min_days: zone.min_days,
            max_days: zone.max_days,
            position: position as i32,
        });
    }
    if is_default {
        shipping_profiles::Entity::update_many()
            .col_expr(
                shipping_profiles::Column::IsDefault,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(shipping_profiles::Column::ShopId.eq(shop.id))
            .exec(&txn)
            .await?;
    }
    let profile = shipping_profiles::ActiveModel {
        id: Set(profile_id),
        shop_id: Set(shop.id),
        name: Set(name),
        is_default: Set(is_default),
        created_at: Set(Utc::now()),
    };
    let profile = if existing.iter().any(|p| p.id == profile_id) {
        profile.update(&txn).await?
    } else {
        profile.insert(&txn).await?
    };
    shipping_zones::Entity::delete_many()
        .filter(shipping_zones::Column::ProfileId.eq(profile_id))
        .exec(&txn)
        .await?;
    for row in &rows {
        shipping_zones::ActiveModel::from(row.clone())
            .insert(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok((shop, profile, rows))
}

/// A shop's profiles with their zones, default first.
pub async fn profiles_of(
    db: &impl sea_orm::ConnectionTrait,
    shop_id: Uuid,
) -> AppResult<Vec<(shipping_profiles::Model, Vec<shipping_zones::Model>)>> {
    Ok(profiles_of_shops(db, &[shop_id])
        .await?
        .remove(&shop_id)
        .unwrap_or_default())
}

/// Several shops' profiles with their zones, default first: two queries for a whole page.
pub async fn profiles_of_shops(
    db: &impl sea_orm::ConnectionTrait,
    shop_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<(shipping_profiles::Model, Vec<shipping_zones::Model>)>>> {
    let mut profiles = shipping_profiles::Entity::find()
        .filter(shipping_profiles::Column::ShopId.is_in(shop_ids.to_vec()))
        .order_by_asc(shipping_profiles::Column::Id)
        .all(db)
        .await?;
    profiles.sort_by_key(|p| !p.is_default);
    let zones = shipping_zones::Entity::find()
        .filter(shipping_zones::Column::ShopId.is_in(shop_ids.to_vec()))
        .order_by_asc(shipping_zones::Column::Position)
        .all(db)
        .await?;
    let mut out: HashMap<Uuid, Vec<_>> = HashMap::new();
    for p in profiles {
        let own = zones
            .iter()
            .filter(|z| z.profile_id == p.id)
            .cloned()
            .collect();
        out.entry(p.shop_id).or_default().push((p, own));
    }
    Ok(out)
}

/// Quotes a shop's parcel: lines grouped by the profile they ship with (their own, else the
/// shop's default), each group quoted on its zones; `None` when any group cannot go there.
/// `lines` are (profile of the product, units).
pub fn quote_shop(
    profiles: &[(shipping_profiles::Model, Vec<shipping_zones::Model>)],
    lines: &[(Option<Uuid>, i32)],
    country: &str,
) -> Option<Quote> {
    let default = profiles.iter().find(|p| p.0.is_default).map(|p| p.0.id);
    let mut groups: std::collections::BTreeMap<Uuid, i32> = std::collections::BTreeMap::new();
    for (profile, units) in lines {
        let profile = profile
            .filter(|id| profiles.iter().any(|p| p.0.id == *id))
            .or(default)?;
        *groups.entry(profile).or_default() += units;
    }
    let mut total = Quote {
        cost_minor: 0,
        min_days: 0,
        max_days: 0,
    };
    for (profile, units) in groups {
        let zones = &profiles.iter().find(|p| p.0.id == profile)?.1;
        let q = quote(zones, country, units)?;
        total.cost_minor += q.cost_minor;
        total.min_days = total.min_days.max(q.min_days);
        total.max_days = total.max_days.max(q.max_days);
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(countries: &[&str], first: i64, extra: i64) -> shipping_zones::Model {
        shipping_zones::Model {
            id: Uuid::now_v7(),
            shop_id: Uuid::nil(),
            profile_id: Uuid::nil(),
            name: "z".into(),
            countries: serde_json::to_string(countries).unwrap_or_default(),
            first_item_minor: first,
            additional_item_minor: extra,
            min_days: 5,
            max_days: 10,
            position: 0,
        }
    }

    #[test]
    fn the_named_zone_wins_then_the_rest_of_the_world() {
        let zones = [
            zone(&["DE", "FR"], 50_000, 10_000),
            zone(&[], 90_000, 20_000),
        ];
        assert_eq!(quote(&zones, "DE", 3).map(|q| q.cost_minor), Some(70_000));
        assert_eq!(quote(&zones, "JP", 1).map(|q| q.cost_minor), Some(90_000));
        assert_eq!(quote(&zones[..1], "JP", 1), None);
        assert_eq!(quote(&[], "MN", 1), None);
    }
}
