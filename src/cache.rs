//! A short-lived cache of anonymous GraphQL query responses.
//!
//! The public catalogue is read far more than it is written, and the same pages are asked for
//! by many visitors. Responses to anonymous queries that succeeded are kept for a few seconds
//! (`graphql.response_cache_ttl_ms`, 0 turns it off). Any mutation through this server empties
//! the cache at once; other servers behind the same load balancer serve at most one TTL of
//! staleness. Nothing is cached for signed-in callers or for responses with errors, and
//! checkout re-reads prices and stock from the database, so a cached page never sells
//! anything at a stale price.

use std::{
    collections::HashMap,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::body::Bytes;

/// Entries beyond this clear the cache rather than grow it.
const MAX_ENTRIES: usize = 10_000;
/// Larger responses are not kept.
const MAX_BODY: usize = 256 * 1024;

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
    generation: u64,
    /// Someone is recomputing this expired entry; others keep getting it meanwhile.
    refreshing: bool,
}

pub struct ResponseCache {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl ResponseCache {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
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
        let generation = self.generation.load(Ordering::Acquire);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get_mut(key)?;
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

    /// Keeps a response computed while the cache was at `generation`; if data changed since,
    /// the response may be stale already and is dropped.
    pub fn put(&self, key: String, generation: u64, response: Cached) {
        if !self.enabled() || response.body.len() > MAX_BODY {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if generation != self.generation.load(Ordering::Acquire) {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key,
            Entry {
                response,
                stored: Instant::now(),
                generation,
                refreshing: false,
            },
        );
    }

    /// The generation a response about to be computed belongs to.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Forgets everything: data has changed.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(body: &'static str) -> Cached {
        Cached {
            status: 200,
            content_type: "application/json",
            body: Bytes::from_static(body.as_bytes()),
        }
    }

    #[test]
    fn serves_until_invalidated_or_expired() {
        let cache = ResponseCache::new(Duration::from_millis(50));
        let g = cache.generation();
        cache.put("k".into(), g, response("a"));
        assert_eq!(
            cache.get("k").map(|c| c.body),
            Some(Bytes::from_static(b"a"))
        );
        cache.invalidate();
        assert!(cache.get("k").is_none());
        // A response computed before a write is not stored after it.
        cache.put("k".into(), g, response("stale"));
        assert!(cache.get("k").is_none());
        cache.put("k".into(), cache.generation(), response("b"));
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
    fn zero_ttl_disables() {
        let cache = ResponseCache::new(Duration::ZERO);
        cache.put("k".into(), cache.generation(), response("a"));
        assert!(cache.get("k").is_none());
    }
}
