//! Product cards: what a listing or a product page shows of a product (its row, shop,
//! translations, variants with stock, photos, makers and sale offers), kept by each server
//! between requests so that browsing costs no SQL beyond choosing the products.
//!
//! A card is read at a [`Stamp`] and shown again only while [`Changes`] says nothing on it
//! changed since: any catalogue change outdates every card, a stock change only the cards of
//! the products it moved. Changes reach other servers as events (`AppState::forget_*`). A card
//! older than [`MAX_AGE`] is read again anyway, in case a change slipped past every event
//! (made by another process on SQLite, say). What buyers add (reviews, favourites) and photos
//! being processed are not on cards; they are read per request.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::{products::product_visible, sales, texts};
use crate::{
    auth::Caller,
    cache::Stamp,
    entities::{
        makers, product_images, product_makers, product_translations, product_variants, products,
        shops,
    },
    error::{AppError, AppResult},
    state::AppState,
};

/// A card is read again after this long, whatever the events said.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// Cards beyond this empty the store rather than grow it: about 9 KB each on the demo
/// catalogue (reading all 2,000 grows the heap by 19 MB), so at most some 45 MB; a catalogue
/// larger than this keeps its most browsed products by reading them again.
const MAX_CARDS: usize = 5_000;

/// One product as browsing shows it.
#[derive(Debug)]
pub struct Card {
    pub product: products::Model,
    /// Shared by the cards of one read: a shop's story is not copied per product.
    pub shop: Arc<shops::Model>,
    /// Ordered by language.
    pub translations: Vec<product_translations::Model>,
    /// Ordered by position.
    pub variants: Vec<product_variants::Model>,
    /// Ordered by position.
    pub images: Vec<product_images::Model>,
    /// Each maker's part, in credit order, with the maker.
    pub makers: Vec<(product_makers::Model, Arc<makers::Model>)>,
    /// Sale offers live now or starting later (see [`Card::offers_at`]).
    offers: Vec<sales::Offer>,
}

impl Card {
    /// The offers live at `now`: sales start and end by the clock, not by a change.
    pub fn offers_at(&self, now: DateTime<Utc>) -> Vec<sales::Offer> {
        self.offers
            .iter()
            .filter(|o| o.starts_at <= now && now < o.ends_at)
            .cloned()
            .collect()
    }
}

struct Entry {
    stamp: Stamp,
    read_at: Instant,
    card: Arc<Card>,
}

/// This server's cards, with an index from addresses (shop slug, product slug) to products.
#[derive(Default)]
pub struct Cards {
    cards: Mutex<HashMap<Uuid, Entry>>,
    /// Addresses change only with the catalogue, so each is kept with its catalogue generation.
    addresses: Mutex<HashMap<(String, String), (u64, Uuid)>>,
}

impl Cards {
    fn current(&self, state: &AppState, id: Uuid) -> Option<Arc<Card>> {
        let mut cards = self.cards.lock().unwrap_or_else(|e| e.into_inner());
        let entry = cards.get_mut(&id)?;
        match state.changes.current(entry.stamp, id) {
            Some(stamp) if entry.read_at.elapsed() < MAX_AGE => {
                entry.stamp = stamp;
                Some(entry.card.clone())
            }
            _ => {
                cards.remove(&id);
                None
            }
        }
    }

    fn keep(&self, stamp: Stamp, read: impl IntoIterator<Item = Arc<Card>>) {
        let read_at = Instant::now();
        let mut cards = self.cards.lock().unwrap_or_else(|e| e.into_inner());
        for card in read {
            if cards.len() >= MAX_CARDS {
                cards.clear();
            }
            cards.insert(
                card.product.id,
                Entry {
                    stamp,
                    read_at,
                    card,
                },
            );
        }
    }
}

/// The cards of `ids` (those that exist), from this server's store where current and from
/// the database for the rest. Says nothing about who may see them: callers chose the ids.
pub async fn cards(state: &AppState, ids: &[Uuid]) -> AppResult<HashMap<Uuid, Arc<Card>>> {
    let store = state.read_models.get::<Cards>();
    let mut found = HashMap::with_capacity(ids.len());
    let mut missing = Vec::new();
    for &id in ids {
        match store.current(state, id) {
            Some(card) => {
                found.insert(id, card);
            }
            None => missing.push(id),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    missing.sort_unstable();
    missing.dedup();
    // Taken before reading: a change committed meanwhile outdates what is read.
    let stamp = state.changes.stamp();
    let read = read_cards(&state.db, &missing).await?;
    store.keep(stamp, read.iter().cloned());
    found.extend(read.into_iter().map(|c| (c.product.id, c)));
    Ok(found)
}

/// The card of the product at `shop_slug`/`slug`, if the caller may see it.
pub async fn card_by_address(
    state: &AppState,
    caller: Caller,
    shop_slug: &str,
    slug: &str,
) -> AppResult<Arc<Card>> {
    let store = state.read_models.get::<Cards>();
    let address = (texts::slug_key(shop_slug), texts::slug_key(slug));
    let generation = state.changes.stamp().catalogue;
    let known = store
        .addresses
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&address)
        .filter(|(at, _)| *at == generation)
        .map(|(_, id)| *id);
    let id = match known {
        Some(id) => id,
        None => {
            let id = super::products::product_by_slug(&state.db, caller, shop_slug, slug)
                .await?
                .id;
            let mut addresses = store.addresses.lock().unwrap_or_else(|e| e.into_inner());
            if addresses.len() >= MAX_CARDS {
                addresses.clear();
            }
            addresses.insert(address, (generation, id));
            id
        }
    };
    card_by_id(state, caller, id).await
}

/// The card of product `id`, if the caller may see it.
pub async fn card_by_id(state: &AppState, caller: Caller, id: Uuid) -> AppResult<Arc<Card>> {
    let not_found = || AppError::NotFound("no such product".into());
    let card = cards(state, &[id])
        .await?
        .remove(&id)
        .ok_or_else(not_found)?;
    product_visible(&card.product, &card.shop, caller)
        .then_some(card)
        .ok_or_else(not_found)
}

/// Reads the cards of `ids` from the database: the products, then everything on them at once.
async fn read_cards(db: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<Vec<Arc<Card>>> {
    let rows = products::Entity::find()
        .filter(products::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut shop_ids: Vec<Uuid> = rows.iter().map(|p| p.shop_id).collect();
    shop_ids.sort_unstable();
    shop_ids.dedup();
    let (shops, translations, variants, images, links, offers) = tokio::try_join!(
        async {
            shops::Entity::find()
                .filter(shops::Column::Id.is_in(shop_ids))
                .all(db)
                .await
                .map_err(AppError::from)
        },
        children::<product_translations::Entity>(
            db,
            ids,
            product_translations::Column::ProductId,
            product_translations::Column::Language,
        ),
        children::<product_variants::Entity>(
            db,
            ids,
            product_variants::Column::ProductId,
            product_variants::Column::Position,
        ),
        children::<product_images::Entity>(
            db,
            ids,
            product_images::Column::ProductId,
            product_images::Column::Position,
        ),
        children::<product_makers::Entity>(
            db,
            ids,
            product_makers::Column::ProductId,
            product_makers::Column::Position,
        ),
        sales::upcoming_offers(db, ids, Utc::now()),
    )?;
    let maker_ids: Vec<Uuid> = links.iter().map(|l| l.maker_id).collect();
    let makers: HashMap<Uuid, Arc<makers::Model>> = if maker_ids.is_empty() {
        HashMap::new()
    } else {
        makers::Entity::find()
            .filter(makers::Column::Id.is_in(maker_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.id, Arc::new(m)))
            .collect()
    };
    let shops: HashMap<Uuid, Arc<shops::Model>> =
        shops.into_iter().map(|s| (s.id, Arc::new(s))).collect();
    let mut translations = group(translations, |t| t.product_id);
    let mut variants = group(variants, |v| v.product_id);
    let mut images = group(images, |i| i.product_id);
    let mut links = group(links, |l| l.product_id);
    let mut offers = offers;
    Ok(rows
        .into_iter()
        .filter_map(|product| {
            let shop = shops.get(&product.shop_id)?.clone();
            let id = product.id;
            Some(Arc::new(Card {
                shop,
                translations: translations.remove(&id).unwrap_or_default(),
                variants: variants.remove(&id).unwrap_or_default(),
                images: images.remove(&id).unwrap_or_default(),
                makers: links
                    .remove(&id)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|l| {
                        let maker = makers.get(&l.maker_id)?.clone();
                        Some((l, maker))
                    })
                    .collect(),
                offers: offers.remove(&id).unwrap_or_default(),
                product,
            }))
        })
        .collect())
}

async fn children<E: EntityTrait>(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
    parent: E::Column,
    order: E::Column,
) -> AppResult<Vec<E::Model>> {
    Ok(E::find()
        .filter(parent.is_in(ids.iter().copied()))
        .order_by_asc(order)
        .all(db)
        .await?)
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut grouped: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(key(&row)).or_default().push(row);
    }
    grouped
}
