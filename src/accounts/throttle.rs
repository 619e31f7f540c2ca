//! Throttling of failed logins per email and per client address.
//!
//! Kept in memory per server: behind a load balancer each server counts on its own, which
//! multiplies the allowance by the number of servers but never blocks a legitimate user
//! for longer than the window.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Failures of one key within the current window.
struct Window {
    started: Instant,
    failures: u32,
}

/// Counts failures per key in fixed windows.
pub struct Throttle {
    window: Duration,
    entries: Mutex<HashMap<String, Window>>,
}

impl Throttle {
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until the key may try again, if it has used up `limit` failures.
    pub fn blocked_for(&self, key: &str, limit: u32) -> Option<u64> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.get(key)?;
        let elapsed = entry.started.elapsed();
        (entry.failures >= limit && elapsed < self.window)
            .then(|| (self.window - elapsed).as_secs().max(1))
    }

    /// Records one failure.
    pub fn fail(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Bound memory under a flood of distinct keys: drop windows that have ended.
        if entries.len() > 100_000 {
            let window = self.window;
            entries.retain(|_, w| w.started.elapsed() < window);
        }
        let entry = entries.entry(key.to_owned()).or_insert(Window {
            started: Instant::now(),
            failures: 0,
        });
        if entry.started.elapsed() >= self.window {
            entry.started = Instant::now();
            entry.failures = 0;
        }
        entry.failures += 1;
    }

    /// Forgets a key after a success.
    pub fn clear(&self, key: &str) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_and_forgets_on_success() {
        let t = Throttle::new(Duration::from_secs(60));
        for _ in 0..3 {
            assert!(t.blocked_for("a", 3).is_none());
            t.fail("a");
        }
        assert!(t.blocked_for("a", 3).is_some());
        assert!(t.blocked_for("b", 3).is_none());
        t.clear("a");
        assert!(t.blocked_for("a", 3).is_none());
    }

    #[test]
    fn windows_end() {
        let t = Throttle::new(Duration::from_millis(1));
        t.fail("a");
        std::thread::sleep(Duration::from_millis(5));
        assert!(t.blocked_for("a", 1).is_none());
    }
}
