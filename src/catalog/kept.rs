//! A keyed store of answers read from the catalogue (ranked searches, listings), each good
//! until the catalogue changes.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Instant,
};

use super::cards;

/// Answers this server read from the catalogue by key (a search or a listing with its
/// filter), each with the catalogue generation it was read in and when: good until the
/// catalogue changes, and never longer than a card. A store of `T` is a read model of its own.
pub struct Kept<T>(Mutex<HashMap<String, KeptCopy<T>>>);

/// A kept answer: the catalogue generation it was read in, when, and the answer.
type KeptCopy<T> = (u64, Instant, Arc<T>);

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Self(Mutex::default())
    }
}

/// Answers kept per store (a listing is at most about 13 KB); beyond this the store empties
/// rather than grows.
const MAX_KEPT: usize = 1_000;
/// Longer keys (a search or filter of that length) are answered but not kept, so a client
/// cannot fill the store with megabyte-long searches.
const MAX_KEPT_KEY: usize = 1_024;

impl<T> Kept<T> {
    pub fn get(&self, key: &str, generation: u64) -> Option<Arc<T>> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (at, read_at, value) = kept.get(key)?;
        (*at == generation && read_at.elapsed() < cards::MAX_AGE).then(|| value.clone())
    }

    pub fn keep(&self, key: String, generation: u64, value: Arc<T>) {
        if key.len() > MAX_KEPT_KEY {
            return;
        }
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert(key, (generation, Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use uuid::Uuid;

    use super::{Kept, MAX_KEPT_KEY};

    #[test]
    fn long_searches_are_answered_but_not_kept() {
        let kept = Kept::<Vec<Uuid>>::default();
        let long = "felt ".repeat(MAX_KEPT_KEY);
        kept.keep(long.clone(), 1, Arc::new(vec![Uuid::nil()]));
        assert!(kept.get(&long, 1).is_none());
        kept.keep("felt".into(), 1, Arc::new(vec![Uuid::nil()]));
        assert!(kept.get("felt", 1).is_some());
        assert!(kept.get("felt", 2).is_none(), "the catalogue changed since");
    }
}
