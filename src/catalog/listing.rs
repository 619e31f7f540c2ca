//! Browsing and searching products: filters, sorts and stable cursors.
//!
//! Newest and price sorts page by keyset (the cursor holds the sort key and the id), so
//! pages never skip or repeat when products are added. Relevance pages by position within
//! the ranked matches, which the search engine caps at `search::MAX_MATCHES`.

use async_graphql::connection::{CursorType, OpaqueCursor};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, sea_query::Query,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use super::{cards, rates, search, taxonomy};
use crate::{
    auth::Caller,
    entities::users::Role,
    entities::{
        collection_products, product_makers, product_materials, product_variants,
        products::{self, ProductStatus},
        shops::{self, ShopStatus},
    },
    error::{AppError, AppResult},
    kit::pagination::size_and_direction,
    money::{Currency, Money, Rates},
    state::AppState,
};

/// What to narrow the catalogue to. Prices are in `price_currency`.
#[derive(Debug, Clone, Default)]
pub struct ProductFilter {
    pub search: Option<String>,
    pub category_id: Option<Uuid>,
    pub shop_id: Option<Uuid>,
    pub maker_id: Option<Uuid>,
    pub collection_id: Option<Uuid>,
    pub country: Option<String>,
    pub materials: Vec<String>,
    pub min_price: Option<String>,
    pub max_price: Option<String>,
    pub price_currency: Option<Currency>,
    pub in_stock: Option<bool>,
    pub made_to_order: Option<bool>,
    /// Only products whose visible reviews average at least this (1 to 5).
    pub min_rating: Option<f64>,
    /// Drafts and archived products too: only with `shop_id`, and only for that shop's owner
    /// or an admin (`list` checks).
    pub include_unpublished: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductSort {
    Relevance,
    Newest,
    PriceAsc,
    PriceDesc,
    /// Best rated first (unreviewed last), newest first among equals.
    RatingDesc,
}

impl ProductSort {
    fn tag(self) -> u8 {
        self as u8
    }
}

/// The position a cursor marks.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Mark {
    /// Which sort it belongs to.
    s: u8,
    /// Sort price (price sorts).
    p: Option<i64>,
    i: Uuid,
    /// Position among ranked matches (relevance).
    o: Option<u64>,
}

impl Mark {
    fn encode(&self) -> String {
        OpaqueCursor(self.clone()).encode_cursor()
    }
}

/// One page of products, as cards, with cursors.
pub struct ProductPage {
    pub items: Vec<(Arc<cards::Card>, String)>,
    pub has_previous_page: bool,
    pub has_next_page: bool,
    pub total_count: i64,
}

/// Pagination arguments as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub first: Option<i64>,
    pub after: Option<String>,
    pub last: Option<i64>,
    pub before: Option<String>,
    /// Whether to count every match; a count costs a scan, so only when asked for.
    pub want_total: bool,
}

fn decode(field: &'static str, cursor: Option<&str>, sort: ProductSort) -> AppResult<Option<Mark>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let mark = OpaqueCursor::<Mark>::decode_cursor(cursor)
        .map_err(|_| AppError::invalid(field, "cursor is not valid"))?
        .0;
    if mark.s != sort.tag() {
        return Err(AppError::invalid(
            field,
            "cursor belongs to another sort order",
        ));
    }
    Ok(Some(mark))
}

/// Only a shop's owner and admins list its drafts and archived products.
async fn may_see_unpublished(
    db: &impl ConnectionTrait,
    caller: Caller,
    shop_id: Option<Uuid>,
) -> AppResult<()> {
    let Some(shop_id) = shop_id else {
        return Err(AppError::invalid("includeUnpublished", "needs shopSlug"));
    };
    let user = caller.user()?;
    let owner = shops::Entity::find_by_id(shop_id)
        .one(db)
        .await?
        .map(|s| s.owner_id);
    if owner.map_or(user.role == Role::Admin, |owner| user.manages(owner)) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "only the shop sees its unpublished products".into(),
        ))
    }
}

/// Converts a price bound in the display currency into MNT minor units for `sort_price`.
async fn bound(
    state: &AppState,
    field: &'static str,
    amount: &str,
    currency: Currency,
    upper: bool,
) -> AppResult<i64> {
    let money = Money::parse(amount, currency).ok_or_else(|| {
        AppError::invalid(field, format!("a decimal amount in {}", currency.code()))
    })?;
    let home = Currency::parse(rates::HOME)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("home currency unknown")))?;
    let rates = state.exchange_rates().await?;
    home_bound(&rates, money, home, upper).ok_or_else(|| {
        AppError::invalid(field, format!("no exchange rate for {}", currency.code()))
    })
}

/// The home-currency bound that keeps exactly the products *shown* within `bound`: the
/// largest home price shown at or below it (`upper`), or the smallest shown at or above it.
/// Converting the bound itself would round differently from the prices on display, so a
/// product shown at exactly the bound could fall outside. Showing a price is monotonic, so a
/// binary search around the converted bound finds the edge.
fn home_bound(rates: &Rates, bound: Money, home: Currency, upper: bool) -> Option<i64> {
    if bound.currency == home {
        return Some(bound.minor);
    }
    let shown = |p: i64| {
        rates
            .convert(Money::new(p, home), bound.currency)
            .map(|m| m.minor)
    };
    let guess = rates.convert(bound, home)?.minor;
    // One minor unit of the bound's currency in home units: the edge is within it.
    let span = rates
        .convert(Money::new(1, bound.currency), home)?
        .minor
        .saturating_abs()
        .saturating_add(2);
    let (mut lo, mut hi) = (guess.saturating_sub(span), guess.saturating_add(span));
    let inside = |p: i64| -> Option<bool> {
        let s = shown(p)?;
        Some(if upper {
            s <= bound.minor
        } else {
            s >= bound.minor
        })
    };
    // Invariant for `upper`: inside(lo), !inside(hi); for lower: !inside(lo), inside(hi).
    if inside(lo)? != upper || inside(hi)? == upper {
        return Some(guess);
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if inside(mid)? == upper {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(if upper { lo } else { hi })
}

/// What the public may see: active products of shops that are not suspended.
pub fn public_products() -> Select<products::Entity> {
    products::Entity::find()
        .filter(products::Column::Status.eq(ProductStatus::Active))
        .filter(
            products::Column::ShopId.in_subquery(
                Query::select()
                    .column(shops::Column::Id)
                    .from(shops::Entity)
                    .and_where(shops::Column::Status.eq(ShopStatus::Active))
                    .to_owned(),
            ),
        )
}

/// Products with at least one variant in stock.
pub fn in_stock_condition() -> Condition {
    Condition::all().add(
        products::Column::Id.in_subquery(
            Query::select()
                .column(product_variants::Column::ProductId)
                .from(product_variants::Entity)
                .and_where(product_variants::Column::Stock.gt(0))
                .to_owned(),
        ),
    )
}

/// The filtered query, before sorting and paging.
async fn filtered(state: &AppState, filter: &ProductFilter) -> AppResult<Select<products::Entity>> {
    let mut select = if filter.include_unpublished {
        products::Entity::find()
    } else {
        public_products()
    };
    if let Some(shop) = filter.shop_id {
        select = select.filter(products::Column::ShopId.eq(shop));
    }
    if let Some(category) = filter.category_id {
        let all = taxonomy::categories(state).await?;
        if !all.iter().any(|c| c.id == category) {
            return Err(AppError::invalid("categoryId", "no such category"));
        }
        select =
            select.filter(products::Column::CategoryId.is_in(taxonomy::subtree(&all, category)));
    }
    if let Some(maker) = filter.maker_id {
        select = select.filter(
            products::Column::Id.in_subquery(
                Query::select()
                    .column(product_makers::Column::ProductId)
                    .from(product_makers::Entity)
                    .and_where(product_makers::Column::MakerId.eq(maker))
                    .to_owned(),
            ),
        );
    }
    if let Some(collection) = filter.collection_id {
        select = select.filter(
            products::Column::Id.in_subquery(
                Query::select()
                    .column(collection_products::Column::ProductId)
                    .from(collection_products::Entity)
                    .and_where(collection_products::Column::CollectionId.eq(collection))
                    .to_owned(),
            ),
        );
    }
    if let Some(country) = &filter.country {
        select = select.filter(
            products::Column::ShopId.in_subquery(
                Query::select()
                    .column(shops::Column::Id)
                    .from(shops::Entity)
                    .and_where(shops::Column::Country.eq(country.trim().to_ascii_uppercase()))
                    .to_owned(),
            ),
        );
    }
    if !filter.materials.is_empty() {
        let wanted: Vec<String> = filter
            .materials
            .iter()
            .map(|m| m.trim().to_lowercase())
            .collect();
        select = select.filter(
            products::Column::Id.in_subquery(
                Query::select()
                    .column(product_materials::Column::ProductId)
                    .from(product_materials::Entity)
                    .and_where(product_materials::Column::Material.is_in(wanted))
                    .to_owned(),
            ),
        );
    }
    let currency = match filter.price_currency {
        Some(c) => c,
        None => Currency::parse(rates::HOME)
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("home currency unknown")))?,
    };
    if let Some(min) = &filter.min_price {
        select = select.filter(
            products::Column::SortPrice.gte(bound(state, "minPrice", min, currency, false).await?),
        );
    }
    if let Some(max) = &filter.max_price {
        select = select.filter(
            products::Column::SortPrice.lte(bound(state, "maxPrice", max, currency, true).await?),
        );
    }
    if let Some(min) = filter.min_rating {
        if !(1.0..=5.0).contains(&min) {
            return Err(AppError::invalid(
                "minRating",
                "a rating is between 1 and 5",
            ));
        }
        select = select
            .filter(products::Column::RatingCount.gt(0))
            .filter(products::Column::RatingScore.gte((min * 100.0).ceil() as i32));
    }
    if let Some(in_stock) = filter.in_stock {
        select = select.filter(if in_stock {
            in_stock_condition()
        } else {
            in_stock_condition().not()
        });
    }
    if let Some(mto) = filter.made_to_order {
        select = select.filter(products::Column::MadeToOrder.eq(mto));
    }
    Ok(select)
}

/// The ranked matches of `search` that pass every other filter in `select`, in rank order.
async fn ranked_matches(
    db: &impl ConnectionTrait,
    select: Select<products::Entity>,
    search: &str,
) -> AppResult<Vec<Uuid>> {
    let hits = search::ranked(db, search).await?;
    let passing: std::collections::HashSet<Uuid> = select
        .filter(products::Column::Id.is_in(hits.iter().map(|h| h.0).collect::<Vec<_>>()))
        .select_only()
        .column(products::Column::Id)
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(hits
        .iter()
        .map(|h| h.0)
        .filter(|id| passing.contains(id))
        .collect())
}

/// Ranked searches this server answered, by search and filter, each with the catalogue
/// generation it was read in: ranking scores every match, and the same searches come often.
#[derive(Default)]
pub struct Rankings(Mutex<HashMap<String, Ranking>>);

/// The catalogue generation a ranking was read in, when, and the ranked ids.
type Ranking = (u64, Instant, Arc<Vec<Uuid>>);

/// Searches remembered; beyond this the store empties rather than grows.
const MAX_RANKINGS: usize = 2_000;

impl Rankings {
    fn get(&self, key: &str, generation: u64) -> Option<Arc<Vec<Uuid>>> {
        let rankings = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (at, read_at, ranked) = rankings.get(key)?;
        (*at == generation && read_at.elapsed() < cards::MAX_AGE).then(|| ranked.clone())
    }

    fn keep(&self, key: String, generation: u64, ranked: Arc<Vec<Uuid>>) {
        let mut rankings = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if rankings.len() >= MAX_RANKINGS {
            rankings.clear();
        }
        rankings.insert(key, (generation, Instant::now(), ranked));
    }
}

/// A page of products matching `filter` in `sort` order.
pub async fn list(
    state: &AppState,
    caller: Caller,
    filter: &ProductFilter,
    sort: ProductSort,
    page: PageRequest,
) -> AppResult<ProductPage> {
    let db = &state.db;
    if filter.include_unpublished {
        may_see_unpublished(db, caller, filter.shop_id).await?;
    }
    let (size, backward) = size_and_direction(page.first, page.last)?;
    let search = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let sort = match (sort, search) {
        (ProductSort::Relevance, None) => ProductSort::Newest,
        (s, _) => s,
    };
    let after = decode("after", page.after.as_deref(), sort)?;
    let before = decode("before", page.before.as_deref(), sort)?;
    let mut select = filtered(state, filter).await?;

    // Under relevance the ranked matches are the search: their ids narrow the listing below,
    // so the engine is asked once, not again as a condition.
    if let Some(q) = search.filter(|_| sort != ProductSort::Relevance) {
        match search::condition(db.get_database_backend(), q) {
            Some(matches) => select = select.filter(matches),
            // No words to look for: nothing matches.
            None => select = select.filter(products::Column::Id.is_in(Vec::<Uuid>::new())),
        }
    }

    if sort == ProductSort::Relevance {
        let search = search.unwrap_or_default();
        let rankings = state.read_models.get::<Rankings>();
        // Which products match depends on stock only through `inStock`; everything else
        // changes with the catalogue.
        let key = filter
            .in_stock
            .is_none()
            .then(|| format!("{search}\u{0}{filter:?}"));
        let stamp = state.changes.stamp();
        let ranked = match key.as_ref().and_then(|k| rankings.get(k, stamp.catalogue)) {
            Some(ranked) => ranked,
            None => {
                let ranked = Arc::new(ranked_matches(db, select, search).await?);
                if let Some(key) = key {
                    rankings.keep(key, stamp.catalogue, ranked.clone());
                }
                ranked
            }
        };
        return relevance_page(state, sort, &ranked, after, before, size, backward).await;
    }

    let total_count = if page.want_total {
        select.clone().count(db).await? as i64
    } else {
        0
    };
    // Price and rating sorts page by (key, id); the others by id alone.
    let key = match sort {
        ProductSort::PriceAsc | ProductSort::PriceDesc => Some(products::Column::SortPrice),
        ProductSort::RatingDesc => Some(products::Column::RatingScore),
        _ => None,
    };
    let keyed = key.is_some();
    let key_column = key.unwrap_or(products::Column::SortPrice);
    let ascending = sort == ProductSort::PriceAsc;
    // Keyset conditions: strictly past `after`, strictly before `before`, in sort order.
    let beyond = |mark: &Mark, forward: bool| -> Condition {
        let later = forward == ascending;
        let id_cond = if later {
            products::Column::Id.gt(mark.i)
        } else {
            products::Column::Id.lt(mark.i)
        };
        match (keyed, mark.p) {
            (true, Some(p)) => {
                let price_cond = if later {
                    key_column.gt(p)
                } else {
                    key_column.lt(p)
                };
                Condition::any()
                    .add(price_cond)
                    .add(Condition::all().add(key_column.eq(p)).add(id_cond))
            }
            _ => Condition::all().add(id_cond),
        }
    };
    if let Some(mark) = &after {
        select = select.filter(beyond(mark, true));
    }
    if let Some(mark) = &before {
        select = select.filter(beyond(mark, false));
    }
    // Newest sorts by id descending: UUIDv7 ids grow with creation time.
    let forward_asc = ascending;
    let order_asc = forward_asc != backward;
    select = if keyed {
        if order_asc {
            select
                .order_by_asc(key_column)
                .order_by_asc(products::Column::Id)
        } else {
            select
                .order_by_desc(key_column)
                .order_by_desc(products::Column::Id)
        }
    } else if order_asc {
        select.order_by_asc(products::Column::Id)
    } else {
        select.order_by_desc(products::Column::Id)
    };
    // The page's ids and sort keys; everything else comes from the products' cards.
    let mut rows: Vec<(Uuid, i64, i32)> = select
        .select_only()
        .column(products::Column::Id)
        .column(products::Column::SortPrice)
        .column(products::Column::RatingScore)
        .limit(size + 1)
        .into_tuple()
        .all(db)
        .await?;
    let more = rows.len() as u64 > size;
    rows.truncate(size as usize);
    if backward {
        rows.reverse();
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let mut cards = cards::cards(state, &ids).await?;
    let items = rows
        .into_iter()
        // A product deleted since the page was chosen is left out.
        .filter_map(|(id, price, rating)| {
            let mark = Mark {
                s: sort.tag(),
                p: keyed.then_some(match sort {
                    ProductSort::RatingDesc => i64::from(rating),
                    _ => price,
                }),
                i: id,
                o: None,
            };
            Some((cards.remove(&id)?, mark.encode()))
        })
        .collect();
    let (has_previous_page, has_next_page) = if backward {
        (more, before.is_some())
    } else {
        (after.is_some(), more)
    };
    Ok(ProductPage {
        items,
        has_previous_page,
        has_next_page,
        total_count,
    })
}

async fn relevance_page(
    state: &AppState,
    sort: ProductSort,
    ranked: &[Uuid],
    after: Option<Mark>,
    before: Option<Mark>,
    size: u64,
    backward: bool,
) -> AppResult<ProductPage> {
    let total = ranked.len() as u64;
    let start_bound = after.and_then(|m| m.o).map_or(0, |o| o + 1);
    let end_bound = before.and_then(|m| m.o).unwrap_or(total).min(total);
    let (start, end) = if backward {
        (end_bound.saturating_sub(size).max(start_bound), end_bound)
    } else {
        (start_bound, (start_bound + size).min(end_bound))
    };
    let window: Vec<Uuid> = ranked
        .get(start as usize..end.max(start) as usize)
        .unwrap_or_default()
        .to_vec();
    let mut cards = cards::cards(state, &window).await?;
    let items = window
        .iter()
        .filter_map(|id| cards.remove(id))
        .enumerate()
        .map(|(i, card)| {
            let mark = Mark {
                s: sort.tag(),
                p: None,
                i: card.product.id,
                o: Some(start + i as u64),
            };
            (card, mark.encode())
        })
        .collect();
    Ok(ProductPage {
        items,
        has_previous_page: start > 0,
        has_next_page: end < total,
        total_count: total as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::home_bound;
    use crate::money::{Currency, Money, Rate, Rates};

    #[test]
    fn price_bounds_keep_what_is_shown_at_the_bound() {
        let (usd, mnt) = (
            Currency::parse("USD").expect("usd"),
            Currency::parse("MNT").expect("mnt"),
        );
        let mut rates = Rates::default();
        rates.insert("USD", "MNT", Rate::parse("3450.25").expect("rate"));
        let shown = |p: i64| rates.convert(Money::new(p, mnt), usd).expect("shown").minor;
        // 125,085 MNT is shown as 36.25 USD.
        assert_eq!(shown(12_508_500), 3_625);
        let bound = Money::new(3_625, usd);
        let max = home_bound(&rates, bound, mnt, true).expect("max");
        assert!(max >= 12_508_500);
        assert_eq!((shown(max), shown(max + 1)), (3_625, 3_626));
        let min = home_bound(&rates, bound, mnt, false).expect("min");
        assert!(min <= 12_508_500);
        assert_eq!((shown(min - 1), shown(min)), (3_624, 3_625));
        assert_eq!(
            home_bound(&rates, Money::new(500, mnt), mnt, true),
            Some(500)
        );
    }
}
