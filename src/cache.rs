//! A short-lived cache of anonymous GraphQL query responses.
//!
//! The public catalogue is read far more than it is written, and the same pages are asked for
//! by many visitors. Responses to anonymous queries that succeeded are kept for a few seconds
//! (`graphql.response_cache_ttl_ms`, 0 turns it off). A change to the catalogue empties the
//! cache (`invalidate`); a change of stock forgets only the responses that showed those
//! products, or that filtered by stock (`invalidate_products`): each response records what it
//! read in a `ReadSet`. Other servers hear of both through the event bus. Nothing is cached
//! for signed-in callers or for responses with errors, and checkout re-reads prices and stock
//! from the database, so a cached page never sells anything at a stale price.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::body::Bytes;
use uuid::Uuid;

/// What one response read, for precise invalidation: the products it showed, and whether
/// stock decided which products it listed.
#[derive(Clone, Default)]
pub struct ReadSet(std::sync::Arc<Mutex<Read>>);

#[derive(Default)]
struct Read {
    products: Vec<Uuid>,
    by_stock: bool,
    /// The answer belongs to whoever holds a secret in the request (a guest cart's token).
    private: bool,
}

impl ReadSet {
    /// Records products the response shows; `by_stock` when stock chose them.
    pub fn products(&self, ids: impl IntoIterator<Item = Uuid>, by_stock: bool) {
        let mut read = self.0.lock().unwrap_or_else(|e| e.into_inner());
        read.products.extend(ids);
        read.by_stock |= by_stock;
    }

    /// Marks the answer as one person's (a guest cart read by its token): never shared.
    pub fn private(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).private = true;
    }

    pub fn is_private(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).private
    }

    fn take(&self) -> Read {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Entries beyond this clear the cache rather than grow it.
const MAX_ENTRIES: usize = 10_000;
/// Larger responses are not kept.
const MAX_BODY: usize = 256 * 1024;
/// Longer keys (the document with its variables) are not kept: anyone may send a megabyte
/// of variables, and ten thousand such keys would hold ten gigabytes.
const MAX_KEY: usize = 16 * 1024;
/// Keys and bodies beyond this many bytes in all clear the cache rather than grow it.
const MAX_BYTES: usize = 64 * 1024 * 1024;

/// A stored response.
#[derive(Clone)]
pub struct Cached {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Bytes,
}

struct Entry {
    response: Cached,
    stored: Instant,
    /// The catalogue generation it was computed in.
    generation: u64,
    /// Sorted product ids the response showed.
    products: Vec<Uuid>,
    by_stock: bool,
    /// Someone is recomputing this expired entry; others keep getting it meanwhile.
    refreshing: bool,
}

pub struct ResponseCache {
    ttl: Duration,
    /// The server's change log, which tells whether a response is still current.
    changes: std::sync::Arc<Changes>,
    entries: Mutex<Store>,
}

/// The kept responses, and the bytes their keys and bodies take.
#[derive(Default)]
struct Store {
    map: HashMap<String, Entry>,
    bytes: usize,
}

impl Store {
    fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }
}

fn size(key: &str, entry: &Entry) -> usize {
    key.len() + entry.response.body.len()
}

impl ResponseCache {
    pub fn new(ttl: Duration, changes: std::sync::Arc<Changes>) -> Self {
        Self {
            ttl,
            changes,
            entries: Mutex::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.ttl.is_zero()
    }

    /// The response for `key`, if fresh. When it has just expired, the first caller gets
    /// `None` and recomputes while the others are served the expired copy for up to one more
    /// TTL, so a popular page costs one recomputation instead of one per waiting client.
    pub fn get(&self, key: &str) -> Option<Cached> {
        if !self.enabled() {
            return None;
        }
        let generation = self.changes.stamp().catalogue;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.map.get_mut(key)?;
        if entry.generation != generation {
            return None;
        }
        let age = entry.stored.elapsed();
        if age < self.ttl || (entry.refreshing && age < self.ttl * 2) {
            return Some(entry.response.clone());
        }
        entry.refreshing = true;
        None
    }

    /// Keeps a response computed from a read at `stamp` (taken before it), with what it read;
    /// if data it shows changed since, the response may be stale already and is dropped.
    pub fn put(&self, key: String, stamp: Stamp, read: &ReadSet, response: Cached) {
        if !self.enabled() || response.body.len() > MAX_BODY || key.len() > MAX_KEY {
            return;
        }
        let Read {
            mut products,
            by_stock,
            private,
        } = read.take();
        if private {
            return;
        }
        products.sort_unstable();
        products.dedup();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.changes.stamp();
        if now.catalogue != stamp.catalogue || (by_stock && now.stock != stamp.stock) {
            return;
        }
        if !products
            .iter()
            .all(|p| self.changes.current(stamp, *p).is_some())
        {
            return;
        }
        let entry = Entry {
            response,
            stored: Instant::now(),
            generation: stamp.catalogue,
            products,
            by_stock,
            refreshing: false,
        };
        // A response replacing its own older copy gives back that copy's bytes.
        let replaced = entries.map.get(&key).map_or(0, |old| size(&key, old));
        let bytes = entries.bytes.saturating_sub(replaced) + size(&key, &entry);
        if entries.map.len() >= MAX_ENTRIES || bytes > MAX_BYTES {
            entries.clear();
            entries.bytes = size(&key, &entry);
        } else {
            entries.bytes = bytes;
        }
        entries.map.insert(key, entry);
    }

    /// Forgets the responses that showed any of `products`, or listed products by stock: their
    /// stock changed. Everything else stays.
    pub fn invalidate_products(&self, products: &[Uuid]) {
        if products.is_empty() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.map.retain(|_, e| {
            !e.by_stock && !products.iter().any(|p| e.products.binary_search(p).is_ok())
        });
        entries.bytes = entries.map.iter().map(|(k, e)| size(k, e)).sum();
    }

    /// Forgets everything: data has changed (and `Changes` has counted it, so nothing computed
    /// before is kept after).
    pub fn invalidate(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

/// What changed, and when, for the per-server copies of catalogue data that live longer than
/// a response (the catalogue's product cards, exchange rates): a copy takes a [`Stamp`] before
/// it reads the database and is shown again only while nothing it showed has changed since.
/// Whole-catalogue changes count in one generation; stock changes are logged by product, so a
/// checkout outdates only the copies of the products it sold.
#[derive(Default)]
pub struct Changes {
    catalogue: AtomicU64,
    stock: AtomicU64,
    /// The latest stock changes, oldest first: each with the `stock` count it took.
    log: Mutex<std::collections::VecDeque<(u64, Vec<Uuid>)>>,
}

/// The moment a copy was read at, as [`Changes`] counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub catalogue: u64,
    stock: u64,
}

/// Stock changes remembered; a copy older than all of them is read again.
const STOCK_LOG: usize = 4096;

impl Changes {
    /// Now, for a copy about to be read.
    pub fn stamp(&self) -> Stamp {
        // Stock first: a change between the two reads then makes the copy look older, never
        // newer, than it is.
        let stock = self.stock.load(Ordering::Acquire);
        Stamp {
            catalogue: self.catalogue.load(Ordering::Acquire),
            stock,
        }
    }

    pub fn catalogue_changed(&self) {
        self.catalogue.fetch_add(1, Ordering::AcqRel);
    }

    pub fn stock_changed(&self, products: &[Uuid]) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let count = self.stock.fetch_add(1, Ordering::AcqRel) + 1;
        log.push_back((count, products.to_vec()));
        while log.len() > STOCK_LOG {
            log.pop_front();
        }
    }

    /// Whether a copy of `product` read at `stamp` is still current: the stamp it is current
    /// at now (to keep, so the next check is quick), or `None` when it must be read again.
    pub fn current(&self, stamp: Stamp, product: Uuid) -> Option<Stamp> {
        let now = self.stamp();
        if now.catalogue != stamp.catalogue {
            return None;
        }
        if now.stock == stamp.stock {
            return Some(stamp);
        }
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        // Forgotten changes might have touched it.
        if log
            .front()
            .is_none_or(|(count, _)| *count > stamp.stock + 1)
        {
            return None;
        }
        let touched = log
            .iter()
            .filter(|(count, _)| *count > stamp.stock && *count <= now.stock)
            .any(|(_, products)| products.contains(&product));
        (!touched).then_some(now)
    }
}

/// One copy of data that changes only with the catalogue (exchange rates, the category
/// tree), shared by a server's requests: current while the catalogue generation it was read in
/// lasts, and for at most [`SNAPSHOT_MAX_AGE`] in case news of a change was missed.
pub struct Snapshot<T>(Mutex<Option<(u64, Instant, std::sync::Arc<T>)>>);

/// How long a snapshot is trusted without news of a change.
const SNAPSHOT_MAX_AGE: Duration = Duration::from_secs(10);

impl<T> Default for Snapshot<T> {
    fn default() -> Self {
        Self(Mutex::new(None))
    }
}

impl<T> Snapshot<T> {
    /// The current copy, or a new one from `read`.
    pub async fn get_or_read<E, F>(
        &self,
        changes: &Changes,
        read: impl FnOnce() -> F,
    ) -> Result<std::sync::Arc<T>, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        // Taken before reading: a change committed meanwhile outdates what is read.
        let generation = changes.stamp().catalogue;
        if let Some((at, read_at, copy)) = self.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && *at == generation
            && read_at.elapsed() < SNAPSHOT_MAX_AGE
        {
            return Ok(copy.clone());
        }
        let copy = std::sync::Arc::new(read().await?);
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((generation, Instant::now(), copy.clone()));
        Ok(copy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cache and the change log it reads, told of changes as `AppState::forget_*` tells
    /// them.
    fn cache(ttl: Duration) -> (ResponseCache, std::sync::Arc<Changes>) {
        let changes = std::sync::Arc::new(Changes::default());
        (ResponseCache::new(ttl, changes.clone()), changes)
    }

    fn response(body: &'static str) -> Cached {
        Cached {
            status: 200,
            content_type: "application/json",
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn serves_until_invalidated_or_expired() {
        let (cache, changes) = cache(Duration::from_millis(50));
        let g = changes.stamp();
        cache.put("k".into(), g, &ReadSet::default(), response("a"));
        assert_eq!(
            cache.get("k").map(|c| c.body),
            Some(Bytes::from_static(b"a"))
        );
        changes.catalogue_changed();
        cache.invalidate();
        assert!(cache.get("k").is_none());
        // A response computed before a write is not stored after it.
        cache.put("k".into(), g, &ReadSet::default(), response("stale"));
        assert!(cache.get("k").is_none());
        cache.put(
            "k".into(),
            changes.stamp(),
            &ReadSet::default(),
            response("b"),
        );
        std::thread::sleep(Duration::from_millis(60));
        assert!(
            cache.get("k").is_none(),
            "expired: the first caller recomputes"
        );
        assert!(
            cache.get("k").is_some(),
            "the others get the old copy meanwhile"
        );
        std::thread::sleep(Duration::from_millis(50));
        assert!(cache.get("k").is_none(), "but not forever");
    }

    #[test]
    fn a_stock_change_forgets_only_what_showed_the_product() {
        let (cache, changes) = cache(Duration::from_secs(60));
        let (rug, ring) = (Uuid::now_v7(), Uuid::now_v7());
        let read = |ids: Vec<Uuid>, by_stock| {
            let r = ReadSet::default();
            r.products(ids, by_stock);
            r
        };
        let g = changes.stamp();
        cache.put("rug".into(), g, &read(vec![rug], false), response("rug"));
        cache.put("ring".into(), g, &read(vec![ring], false), response("ring"));
        cache.put(
            "in stock".into(),
            g,
            &read(vec![ring], true),
            response("list"),
        );
        cache.put("rates".into(), g, &ReadSet::default(), response("rates"));
        changes.stock_changed(&[rug]);
        cache.invalidate_products(&[rug]);
        assert!(cache.get("rug").is_none());
        assert!(
            cache.get("in stock").is_none(),
            "stock chose what it listed"
        );
        assert!(cache.get("ring").is_some());
        assert!(cache.get("rates").is_some());
        // Computed before the stock change: showing products, it may be stale.
        cache.put("rug".into(), g, &read(vec![rug], false), response("stale"));
        assert!(cache.get("rug").is_none());
        cache.put(
            "about".into(),
            g,
            &ReadSet::default(),
            response("no products"),
        );
        assert!(cache.get("about").is_some());
    }

    #[test]
    fn what_the_cache_holds_is_bounded_in_bytes() {
        let (cache, changes) = cache(Duration::from_secs(60));
        let put = |key: String, body: Bytes| {
            let response = Cached {
                status: 200,
                content_type: "application/json",
                body,
            };
            cache.put(key, changes.stamp(), &ReadSet::default(), response);
        };
        // A megabyte of variables makes a key that is answered but never kept.
        let long = "v".repeat(MAX_KEY + 1);
        put(long.clone(), Bytes::from_static(b"a"));
        assert!(cache.get(&long).is_none());
        let body = Bytes::from(vec![b'x'; MAX_BODY]);
        let fit = MAX_BYTES / (MAX_BODY + 8);
        for i in 0..fit {
            put(format!("k{i:06}"), body.clone());
        }
        assert!(cache.get("k000000").is_some(), "{fit} bodies fit");
        // Replacing an entry counts its bytes once.
        put("k000000".into(), body.clone());
        put(format!("k{fit:06}"), body.clone());
        assert!(cache.get("k000000").is_none(), "over the budget: emptied");
        assert!(cache.get(&format!("k{fit:06}")).is_some());
    }

    #[test]
    fn zero_ttl_disables() {
        let (cache, changes) = cache(Duration::ZERO);
        cache.put(
            "k".into(),
            changes.stamp(),
            &ReadSet::default(),
            response("a"),
        );
        assert!(cache.get("k").is_none());
    }

    #[test]
    fn a_copy_is_current_until_what_it_showed_changes() {
        let changes = Changes::default();
        let (rug, ring) = (Uuid::now_v7(), Uuid::now_v7());
        let read = changes.stamp();
        assert_eq!(changes.current(read, rug), Some(read));
        changes.stock_changed(&[ring]);
        let later = changes.current(read, rug).expect("the rug did not change");
        assert_ne!(
            later, read,
            "the stamp moves on, so the next check is quick"
        );
        assert_eq!(changes.current(read, ring), None, "the ring's stock moved");
        assert_eq!(changes.current(later, rug), Some(later));
        changes.catalogue_changed();
        assert_eq!(changes.current(later, rug), None);
        // Older than every remembered stock change: read again.
        let old = changes.stamp();
        for _ in 0..=STOCK_LOG {
            changes.stock_changed(&[ring]);
        }
        assert_eq!(changes.current(old, rug), None);
        assert!(changes.current(changes.stamp(), rug).is_some());
    }
}
