//! Shipping zones per shop and the cost of sending a parcel to a country.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use uuid::Uuid;

use crate::{
    app::AppState,
    auth::CurrentUser,
    catalog::shops::editable_shop,
    entities::{shipping_zones, shops},
    error::{AppError, AppResult},
    i18n::CountryCode,
    money::{Currency, Money},
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

/// Replaces a shop's zones (owner or admin); returns the shop with its new zones.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn set_zones(
    state: &AppState,
    caller: CurrentUser,
    shop_id: Uuid,
    zones: Vec<ZoneInput>,
) -> AppResult<(shops::Model, Vec<shipping_zones::Model>)> {
    let shop = editable_shop(&state.db, caller, shop_id).await?;
    let currency = Currency::parse(&shop.settlement_currency)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("shop currency unreadable")))?;
    if zones.len() > 50 {
        return Err(AppError::invalid("zones", "at most 50 zones"));
    }
    let mut rows = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut rest_of_world = false;
    for (position, zone) in zones.into_iter().enumerate() {
        let name = crate::catalog::texts::required("zones", &zone.name, 100)?;
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
            name,
            countries: serde_json::to_string(&countries).unwrap_or_else(|_| "[]".into()),
            first_item_minor: money(&zone.first_item)?,
            additional_item_minor: money(&zone.additional_item)?,
            min_days: zone.min_days,
            max_days: zone.max_days,
            position: position as i32,
        });
    }
    let txn = state.db.begin().await?;
    shipping_zones::Entity::delete_many()
        .filter(shipping_zones::Column::ShopId.eq(shop.id))
        .exec(&txn)
        .await?;
    for row in &rows {
        shipping_zones::ActiveModel::from(row.clone())
            .insert(&txn)
            .await?;
    }
    shops::ActiveModel {
        id: Set(shop.id),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    txn.commit().await?;
    Ok((shop, rows))
}

/// A shop's zones in order.
pub async fn zones_of(
    db: &impl sea_orm::ConnectionTrait,
    shop_id: Uuid,
) -> AppResult<Vec<shipping_zones::Model>> {
    Ok(shipping_zones::Entity::find()
        .filter(shipping_zones::Column::ShopId.eq(shop_id))
        .order_by_asc(shipping_zones::Column::Position)
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(countries: &[&str], first: i64, extra: i64) -> shipping_zones::Model {
        shipping_zones::Model {
            id: Uuid::now_v7(),
            shop_id: Uuid::nil(),
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
