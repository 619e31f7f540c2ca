//! Sales: a shop lowers prices for a period, by a percentage or to a sale price per variant.
//! The one place a variant's current price is decided: listings, carts and checkout all ask
//! `price_now`, so what a buyer is shown is what they are charged, and a sale ends by itself
//! at its `ends_at` without anything running.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use crate::{
    auth::CurrentUser,
    entities::{product_variants, products, sale_items, sales},
    error::{AppError, AppResult},
    money::{self, Currency, Money},
    state::AppState,
};

/// Most items in one sale.
pub const MAX_ITEMS: usize = 500;
/// The deepest percentage a sale may take off.
pub const MAX_PERCENT: i32 = 95;

/// A live sale's terms for one product (or one of its variants).
#[derive(Debug, Clone)]
pub struct Offer {
    pub sale_id: Uuid,
    pub title: String,
    pub variant_id: Option<Uuid>,
    pub sale_price_minor: Option<i64>,
    pub percent_off: Option<i32>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// What a variant costs now under `offers` (its product's live offers), with the offer that
/// sets it; `None` when no offer lowers its list price.
pub fn price_now(list: i64, variant: Uuid, offers: &[Offer]) -> Option<(i64, &Offer)> {
    offers
        .iter()
        .filter(|o| o.variant_id.is_none_or(|v| v == variant))
        .filter_map(|o| {
            let price = match (o.sale_price_minor, o.percent_off) {
                (Some(p), _) => p,
                (None, Some(pct)) => list - money::share(list, i64::from(pct), 100)?,
                (None, None) => return None,
            };
            (0 < price && price < list).then_some((price, o))
        })
        .min_by_key(|(price, o)| (*price, o.ends_at))
}

/// What a product's base variant costs now under its live `offers`: the base price, lowered
/// by a sale that covers every variant. What `Product.price` shows and what listings sort
/// and filter by.
pub fn base_price_now(product: &products::Model, offers: &[Offer]) -> i64 {
    base_offer(product, offers).map_or(product.price_minor, |p| p.0)
}

/// The sale price of the base variant and the offer setting it, if a sale covering every
/// variant lowers it (no real variant has the nil id, so variant offers never match).
pub fn base_offer<'a>(product: &products::Model, offers: &'a [Offer]) -> Option<(i64, &'a Offer)> {
    price_now(product.price_minor, Uuid::nil(), offers)
}

/// Brings the stored sort price (MNT, for sorting and price filters) of these products in
/// line with their price now, sales included. Returns how many changed.
pub async fn refresh_sort_prices(
    db: &impl ConnectionTrait,
    product_ids: &[Uuid],
) -> AppResult<usize> {
    if product_ids.is_empty() {
        return Ok(0);
    }
    let rows = products::Entity::find()
        .filter(products::Column::Id.is_in(product_ids.to_vec()))
        .all(db)
        .await?;
    let offers = live_offers(db, product_ids, Utc::now()).await?;
    let rates = money::Rates::load(db).await?;
    let mut changed = 0;
    for product in rows {
        let now = base_price_now(&product, offers.get(&product.id).map_or(&[], Vec::as_slice));
        let sort = super::rates::sort_price_with(&rates, now, &product.currency);
        if sort != product.sort_price {
            products::Entity::update_many()
                .col_expr(
                    products::Column::SortPrice,
                    sea_orm::sea_query::Expr::value(sort),
                )
                .filter(products::Column::Id.eq(product.id))
                .exec(db)
                .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// Re-sorts the products of sales that began or ended since the last sweep (every sale
/// ending after yesterday is looked at), so listings follow sales that start and end by
/// themselves. Run by the background sweep; returns how many products moved.
pub async fn refresh_due(state: &AppState) -> AppResult<usize> {
    let recent: Vec<Uuid> = sales::Entity::find()
        .select_only()
        .column(sales::Column::Id)
        .filter(sales::Column::EndsAt.gt(Utc::now() - chrono::Duration::days(1)))
        .into_tuple()
        .all(&state.db)
        .await?;
    if recent.is_empty() {
        return Ok(0);
    }
    let mut product_ids: Vec<Uuid> = sale_items::Entity::find()
        .select_only()
        .column(sale_items::Column::ProductId)
        .filter(sale_items::Column::SaleId.is_in(recent))
        .into_tuple()
        .all(&state.db)
        .await?;
    product_ids.sort();
    product_ids.dedup();
    let txn = crate::db::begin_write(&state.db).await?;
    let changed = refresh_sort_prices(&txn, &product_ids).await?;
    txn.commit().await?;
    if changed > 0 {
        state.catalogue_changed();
    }
    Ok(changed)
}

/// The live offers of each product, for pricing a page or a cart in one pass.
pub async fn live_offers(
    db: &impl ConnectionTrait,
    product_ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, Vec<Offer>>> {
    let mut offers = upcoming_offers(db, product_ids, now).await?;
    for list in offers.values_mut() {
        list.retain(|o| o.starts_at <= now);
    }
    offers.retain(|_, list| !list.is_empty());
    Ok(offers)
}

/// The offers of each product that have not ended at `now`: live ones and those to come.
pub async fn upcoming_offers(
    db: &impl ConnectionTrait,
    product_ids: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, Vec<Offer>>> {
    let items = sale_items::Entity::find()
        .filter(sale_items::Column::ProductId.is_in(product_ids.to_vec()))
        .all(db)
        .await?;
    if items.is_empty() {
        return Ok(HashMap::new());
    }
    let sale_ids: Vec<Uuid> = items.iter().map(|i| i.sale_id).collect();
    let open: HashMap<Uuid, sales::Model> = sales::Entity::find()
        .filter(sales::Column::Id.is_in(sale_ids))
        .filter(sales::Column::EndsAt.gt(now))
        .all(db)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut out: HashMap<Uuid, Vec<Offer>> = HashMap::new();
    for item in items {
        if let Some(sale) = open.get(&item.sale_id) {
            out.entry(item.product_id).or_default().push(Offer {
                sale_id: sale.id,
                title: sale.title.clone(),
                variant_id: item.variant_id,
                sale_price_minor: item.sale_price_minor,
                percent_off: sale.percent_off,
                starts_at: sale.starts_at,
                ends_at: sale.ends_at,
            });
        }
    }
    Ok(out)
}

/// One product (or variant) put on sale; without a price, the sale's percentage applies.
#[derive(Debug, Clone)]
pub struct SaleItemInput {
    pub product_id: Uuid,
    pub variant_id: Option<Uuid>,
    pub sale_price: Option<String>,
}

/// A sale as the shop describes it.
#[derive(Debug, Clone)]
pub struct SaleInput {
    pub shop_id: Uuid,
    pub title: String,
    pub percent_off: Option<i32>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: DateTime<Utc>,
    pub items: Vec<SaleItemInput>,
}

/// Puts products on sale for a period. Every sale price must be below the price it lowers.
#[tracing::instrument(skip_all, fields(user = %caller.id))]
pub async fn create(
    state: &AppState,
    caller: CurrentUser,
    input: SaleInput,
) -> AppResult<sales::Model> {
    let shop = crate::auth::managed_shop(&state.db, caller, input.shop_id).await?;
    let title = input.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 120 {
        return Err(AppError::invalid("title", "a title is 1 to 120 characters"));
    }
    if input
        .percent_off
        .is_some_and(|p| !(1..=MAX_PERCENT).contains(&p))
    {
        return Err(AppError::invalid(
            "percentOff",
            format!("a sale takes 1 to {MAX_PERCENT} percent off"),
        ));
    }
    let now = Utc::now();
    let starts_at = input.starts_at.unwrap_or(now);
    if input.ends_at <= starts_at || input.ends_at <= now {
        return Err(AppError::invalid(
            "endsAt",
            "a sale ends in the future and after it starts",
        ));
    }
    if input.items.is_empty() || input.items.len() > MAX_ITEMS {
        return Err(AppError::invalid(
            "items",
            format!("a sale has 1 to {MAX_ITEMS} items"),
        ));
    }
    let product_ids: Vec<Uuid> = input.items.iter().map(|i| i.product_id).collect();
    let products: HashMap<Uuid, products::Model> = products::Entity::find()
        .filter(products::Column::Id.is_in(product_ids.clone()))
        .filter(products::Column::ShopId.eq(shop.id))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let variants: HashMap<Uuid, product_variants::Model> = product_variants::Entity::find()
        .filter(product_variants::Column::ProductId.is_in(product_ids))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|v| (v.id, v))
        .collect();
    let mut rows = Vec::with_capacity(input.items.len());
    let sale_id = Uuid::now_v7();
    for item in &input.items {
        let product = products
            .get(&item.product_id)
            .ok_or_else(|| AppError::invalid("items", "every product must be one of the shop's"))?;
        let list = match item.variant_id {
            Some(v) => {
                let variant = variants
                    .get(&v)
                    .filter(|v| v.product_id == product.id)
                    .ok_or_else(|| {
                        AppError::invalid("items", "the variant is not one of the product's")
                    })?;
                variant.price_override_minor.unwrap_or(product.price_minor)
            }
            None => product.price_minor,
        };
        let sale_price_minor = match &item.sale_price {
            Some(text) => {
                let currency = Currency::parse(&product.currency).ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("product currency unreadable"))
                })?;
                let price = Money::parse_field("salePrice", text, currency)?;
                if price >= list {
                    return Err(AppError::invalid(
                        "salePrice",
                        "a sale price is below the price it replaces",
                    ));
                }
                Some(price)
            }
            None if input.percent_off.is_some() => None,
            None => {
                return Err(AppError::invalid(
                    "salePrice",
                    "give each item a sale price, or the sale a percentOff",
                ));
            }
        };
        rows.push(sale_items::ActiveModel {
            id: Set(Uuid::now_v7()),
            sale_id: Set(sale_id),
            product_id: Set(product.id),
            variant_id: Set(item.variant_id),
            sale_price_minor: Set(sale_price_minor),
        });
    }
    let txn = crate::db::begin_write(&state.db).await?;
    let sale = sales::ActiveModel {
        id: Set(sale_id),
        shop_id: Set(shop.id),
        title: Set(title),
        percent_off: Set(input.percent_off),
        starts_at: Set(starts_at),
        ends_at: Set(input.ends_at),
        created_at: Set(now),
    }
    .insert(&txn)
    .await?;
    sale_items::Entity::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    refresh_sort_prices(&txn, &products.keys().copied().collect::<Vec<_>>()).await?;
    txn.commit().await?;
    state.catalogue_changed();
    Ok(sale)
}

/// Ends a sale now (one not yet started is ended before it begins).
pub async fn end(state: &AppState, caller: CurrentUser, sale_id: Uuid) -> AppResult<sales::Model> {
    let sale = sales::Entity::find_by_id(sale_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("no such sale".into()))?;
    crate::auth::managed_shop(&state.db, caller, sale.shop_id).await?;
    let now = Utc::now();
    if sale.ends_at <= now {
        return Err(AppError::Conflict("this sale has ended already".into()));
    }
    let starts_at = sale.starts_at.min(now);
    let mut row: sales::ActiveModel = sale.into();
    row.ends_at = Set(now);
    row.starts_at = Set(starts_at);
    let txn = crate::db::begin_write(&state.db).await?;
    let sale = row.update(&txn).await?;
    let products: Vec<Uuid> = items_of(&txn, sale.id)
        .await?
        .into_iter()
        .map(|i| i.product_id)
        .collect();
    refresh_sort_prices(&txn, &products).await?;
    txn.commit().await?;
    state.catalogue_changed();
    Ok(sale)
}

/// A shop's sales, for its owner: a query to page through, newest first.
pub async fn of_shop(
    db: &impl ConnectionTrait,
    caller: CurrentUser,
    shop_id: Uuid,
) -> AppResult<sea_orm::Select<sales::Entity>> {
    crate::auth::managed_shop(db, caller, shop_id).await?;
    Ok(sales::Entity::find().filter(sales::Column::ShopId.eq(shop_id)))
}

/// The items of a sale.
async fn items_of(db: &impl ConnectionTrait, sale_id: Uuid) -> AppResult<Vec<sale_items::Model>> {
    Ok(sale_items::Entity::find()
        .filter(sale_items::Column::SaleId.eq(sale_id))
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(variant: Option<u128>, price: Option<i64>, pct: Option<i32>) -> Offer {
        Offer {
            sale_id: Uuid::nil(),
            title: "Naadam".into(),
            variant_id: variant.map(Uuid::from_u128),
            sale_price_minor: price,
            percent_off: pct,
            starts_at: Utc::now(),
            ends_at: Utc::now(),
        }
    }

    #[test]
    fn the_lowest_live_offer_for_the_variant_wins() {
        let v = Uuid::from_u128(1);
        let offers = [
            offer(None, None, Some(20)),
            offer(Some(1), Some(70_000), None),
            offer(Some(2), Some(10_000), None),
        ];
        assert_eq!(price_now(100_000, v, &offers).map(|p| p.0), Some(70_000));
        assert_eq!(
            price_now(100_000, Uuid::from_u128(3), &offers).map(|p| p.0),
            Some(80_000)
        );
    }

    #[test]
    fn an_offer_never_raises_a_price() {
        let v = Uuid::from_u128(1);
        assert!(price_now(50_000, v, &[offer(None, Some(60_000), None)]).is_none());
        assert!(price_now(50_000, v, &[]).is_none());
    }
}
