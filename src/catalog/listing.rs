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

use std::sync::Arc;

use super::{cards, kept::Kept, rates, search, taxonomy};
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
        // Ranking scores every match, and the same searches come often.
        let rankings = state.read_models.get::<Kept<Vec<Uuid>>>();
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

    // Price and rating sorts page by (key, id); the others by id alone.
    let key = match sort {
        ProductSort::PriceAsc | ProductSort::PriceDesc => Some(products::Column::SortPrice),
        ProductSort::RatingDesc => Some(products::Column::RatingScore),
        _ => None,
    };
    let order = Order {
        sort,
        key,
        ascending: sort == ProductSort::PriceAsc,
    };
    let cursors = Cursors {
        after: after.is_some(),
        before: before.is_some(),
        backward,
    };

    // Which products a listing holds, and in what order, changes only with the catalogue,
    // except through `inStock`; drafts are left to SQL.
    let listing_key = (filter.in_stock.is_none() && !filter.include_unpublished)
        .then(|| format!("{sort:?}\u{0}{filter:?}"));
    if let Some(listing_key) = listing_key {
        let listings = state.read_models.get::<Kept<Listing>>();
        let stamp = state.changes.stamp();
        let listing = match listings.get(&listing_key, stamp.catalogue) {
            Some(listing) => listing,
            None => {
                let mut rows: Vec<Row> = order
                    .apply(select.clone(), false)
                    .limit(LISTED + 1)
                    .into_tuple()
                    .all(db)
                    .await?;
                let complete = rows.len() as u64 <= LISTED;
                rows.truncate(LISTED as usize);
                let listing = Arc::new(Listing { rows, complete });
                listings.keep(listing_key, stamp.catalogue, listing.clone());
                listing
            }
        };
        if let Some(window) =
            listing.window(&order, after.as_ref(), before.as_ref(), size, backward)
        {
            let total_count = match (page.want_total, listing.complete) {
                (false, _) => 0,
                (true, true) => listing.rows.len() as i64,
                (true, false) => select.count(db).await? as i64,
            };
            let rows = listing.rows[window.start..window.end].to_vec();
            let flags = cursors.flags(window.more);
            return keyset_page(state, &order, rows, flags, total_count).await;
        }
    }

    let total_count = if page.want_total {
        select.clone().count(db).await? as i64
    } else {
        0
    };
    let key_column = order.column();
    // Keyset conditions: strictly past `after`, strictly before `before`, in sort order.
    let beyond = |mark: &Mark, forward: bool| -> Condition {
        let later = forward == order.ascending;
        let id_cond = if later {
            products::Column::Id.gt(mark.i)
        } else {
            products::Column::Id.lt(mark.i)
        };
        match (order.key.is_some(), mark.p) {
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
    let mut rows: Vec<Row> = order
        .apply(select, backward)
        .limit(size + 1)
        .into_tuple()
        .all(db)
        .await?;
    let more = rows.len() as u64 > size;
    rows.truncate(size as usize);
    if backward {
        rows.reverse();
    }
    keyset_page(state, &order, rows, cursors.flags(more), total_count).await
}

/// A listing's row: the product's id and its sort keys (price, rating).
type Row = (Uuid, i64, i32);

/// How a keyset listing is ordered: by `key` (price or rating) then id, or by id alone.
struct Order {
    sort: ProductSort,
    key: Option<products::Column>,
    ascending: bool,
}

impl Order {
    fn column(&self) -> products::Column {
        self.key.unwrap_or(products::Column::SortPrice)
    }

    /// The listing's ids and sort keys in sort order, or reversed for paging backwards.
    /// Newest sorts by id descending: UUIDv7 ids grow with creation time.
    fn apply(&self, select: Select<products::Entity>, backward: bool) -> Select<products::Entity> {
        let asc = self.ascending != backward;
        let direction = if asc {
            sea_orm::Order::Asc
        } else {
            sea_orm::Order::Desc
        };
        let select = match self.key {
            Some(key) => select.order_by(key, direction.clone()),
            None => select,
        };
        select
            .order_by(products::Column::Id, direction)
            .select_only()
            .column(products::Column::Id)
            .column(products::Column::SortPrice)
            .column(products::Column::RatingScore)
    }

    /// The cursor of a row.
    fn mark(&self, (id, price, rating): Row) -> Mark {
        Mark {
            s: self.sort.tag(),
            p: self.key.map(|_| match self.sort {
                ProductSort::RatingDesc => i64::from(rating),
                _ => price,
            }),
            i: id,
            o: None,
        }
    }
}

/// Which cursors a keyset page was asked with, and its direction.
struct Cursors {
    after: bool,
    before: bool,
    backward: bool,
}

impl Cursors {
    /// `(has_previous_page, has_next_page)`, given whether rows are left beyond the page in
    /// its direction.
    fn flags(&self, more: bool) -> (bool, bool) {
        if self.backward {
            (more, self.before)
        } else {
            (self.after, more)
        }
    }
}

/// Builds a keyset page from its rows (in sort order) and the products' cards.
async fn keyset_page(
    state: &AppState,
    order: &Order,
    rows: Vec<Row>,
    (has_previous_page, has_next_page): (bool, bool),
    total_count: i64,
) -> AppResult<ProductPage> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.0).collect();
    let mut cards = cards::cards(state, &ids).await?;
    let items = rows
        .into_iter()
        // A product deleted since the page was chosen is left out.
        .filter_map(|row| Some((cards.remove(&row.0)?, order.mark(row).encode())))
        .collect();
    Ok(ProductPage {
        items,
        has_previous_page,
        has_next_page,
        total_count,
    })
}

/// The first rows of a keyset listing, in sort order, as SQL gave them: pages within them
/// cost no SQL. `complete` when these are all of the listing's rows.
struct Listing {
    rows: Vec<Row>,
    complete: bool,
}

/// Rows kept per listing: the first pages, which are most of what is browsed.
const LISTED: u64 = 400;

/// The rows of a page found within a listing: `start..end`, and whether more follow it
/// (towards the end when paging forward, towards the start when paging backward).
struct Window {
    start: usize,
    end: usize,
    more: bool,
}

impl Listing {
    /// Where a cursor's row is: found by its id, with the sort key the cursor was made
    /// with. `None` when it is not among the rows, or moved since (SQL then decides).
    fn position(&self, order: &Order, mark: &Mark) -> Option<usize> {
        let at = self.rows.iter().position(|row| row.0 == mark.i)?;
        (order.mark(self.rows[at]).p == mark.p).then_some(at)
    }

    /// The rows a page takes, exactly as the keyset SQL would choose them, or `None` when
    /// the answer lies beyond the rows kept.
    fn window(
        &self,
        order: &Order,
        after: Option<&Mark>,
        before: Option<&Mark>,
        size: u64,
        backward: bool,
    ) -> Option<Window> {
        let size = size as usize;
        let low = match after {
            Some(mark) => self.position(order, mark)? + 1,
            None => 0,
        };
        let high = match before {
            Some(mark) => self.position(order, mark)?,
            None if self.complete => self.rows.len(),
            // Where the listing ends is unknown: enough to go forward, not backward.
            None if backward => return None,
            None => usize::MAX,
        };
        let high = high.max(low);
        if backward {
            let start = high.saturating_sub(size).max(low);
            return Some(Window {
                start,
                end: high,
                more: high - low > size,
            });
        }
        // One row past the page tells whether there are more.
        if high == usize::MAX && low + size + 1 > self.rows.len() {
            return None;
        }
        let end = (low + size).min(high).min(self.rows.len());
        Some(Window {
            start: low,
            end,
            more: high.min(self.rows.len()) > end,
        })
    }
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
    use super::{Listing, Mark, Order, ProductSort, Row, home_bound};
    use crate::{
        entities::products,
        money::{Currency, Money, Rate, Rates},
    };
    use uuid::Uuid;

    /// What the keyset SQL answers on the whole listing: the rows strictly between the
    /// cursors' rows, the first (or last) `size` of them, and whether more are left.
    fn by_sql(
        all: &[Row],
        low: usize,
        high: usize,
        size: usize,
        backward: bool,
    ) -> (Vec<Row>, bool) {
        let between = &all[low.min(high)..high];
        let more = between.len() > size;
        let page = if backward {
            &between[between.len().saturating_sub(size)..]
        } else {
            &between[..size.min(between.len())]
        };
        (page.to_vec(), more)
    }

    #[test]
    fn pages_within_a_kept_listing_are_what_sql_would_answer() {
        let order = Order {
            sort: ProductSort::PriceAsc,
            key: Some(products::Column::SortPrice),
            ascending: true,
        };
        // Prices with ties, ids growing within a price, as SQL orders them.
        let all: Vec<Row> = (0..30u128)
            .map(|i| (Uuid::from_u128(i + 1), (i / 3) as i64 * 100, 0))
            .collect();
        let mark = |at: usize| order.mark(all[at]);
        let mut checked = 0;
        for kept in [0, 1, 7, 12, 29, 30] {
            let listing = Listing {
                rows: all[..kept].to_vec(),
                complete: kept == all.len(),
            };
            for size in [0, 1, 2, 5, 40] {
                for backward in [false, true] {
                    for after in [None, Some(0), Some(4), Some(11), Some(28)] {
                        for before in [None, Some(3), Some(12), Some(29)] {
                            let low = after.map_or(0, |a| a + 1);
                            let high = before.unwrap_or(all.len());
                            let expected = by_sql(&all, low, high, size as usize, backward);
                            let (a, b) = (after.map(mark), before.map(mark));
                            let Some(w) =
                                listing.window(&order, a.as_ref(), b.as_ref(), size, backward)
                            else {
                                assert!(!listing.complete, "a whole listing answers every page");
                                continue;
                            };
                            let got = (listing.rows[w.start..w.end].to_vec(), w.more);
                            assert_eq!(
                                got, expected,
                                "kept {kept}, size {size}, backward {backward}, after {after:?}, before {before:?}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
        assert!(
            checked > 200,
            "only {checked} pages came from the kept rows"
        );
        // A cursor made before its product's price changed is left to SQL.
        let listing = Listing {
            rows: all.clone(),
            complete: true,
        };
        let moved = Mark {
            p: Some(12345),
            ..mark(4)
        };
        assert!(
            listing
                .window(&order, Some(&moved), None, 5, false)
                .is_none()
        );
    }

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
