//! Bounded CPU work off the async runtime: at most `workers` jobs run at once on blocking
//! threads, at most `queue` more wait, and beyond that the caller is told to come back later
//! (`TOO_MANY_REQUESTS` with how long, from the recent time a job took).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Instant,
};

use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

#[derive(Debug)]
pub struct WorkPool {
    running: Semaphore,
    /// Jobs running or waiting.
    admitted: AtomicUsize,
    capacity: usize,
    workers: usize,
    /// A moving average of a job's duration, in milliseconds.
    average_ms: AtomicU64,
}

/// Gives the admission back however the job ends (finished, failed or its request dropped).
struct Admitted<'a>(&'a AtomicUsize);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl WorkPool {
    pub fn new(workers: usize, queue: usize) -> Arc<Self> {
        let workers = workers.max(1);
        Arc::new(Self {
            running: Semaphore::new(workers),
            admitted: AtomicUsize::new(0),
            capacity: workers + queue,
            workers,
            average_ms: AtomicU64::new(1_000),
        })
    }

    /// Runs `job` on a blocking thread once a worker is free, or refuses at once when the
    /// queue is full.
    pub async fn run<T, F>(&self, job: F) -> AppResult<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            return Err(AppError::TooManyRequests {
                retry_after_secs: self.retry_after_secs(),
            });
        }
        let _admitted = Admitted(&self.admitted);
        let _permit = self
            .running
            .acquire()
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("work pool closed")))?;
        let started = Instant::now();
        let result = tokio::task::spawn_blocking(job)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("background job failed: {e}")))?;
        let took = started.elapsed().as_millis() as u64;
        let before = self.average_ms.load(Ordering::Relaxed);
        self.average_ms
            .store((before * 7 + took) / 8, Ordering::Relaxed);
        Ok(result)
    }

    /// About how long until a place frees up: the queue ahead, worked off by every worker.
    fn retry_after_secs(&self) -> u64 {
        let ahead = self.capacity as u64;
        let per_job = self.average_ms.load(Ordering::Relaxed).max(100);
        (ahead * per_job / self.workers as u64)
            .div_ceil(1_000)
            .max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn refuses_beyond_workers_and_queue_then_recovers() {
        let pool = WorkPool::new(1, 1);
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(std::sync::Mutex::new(hold));
        let first = {
            let pool = pool.clone();
            let hold = hold.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = hold.lock().map(|h| h.recv());
                })
                .await
            })
        };
        let second = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|| 2).await })
        };
        while pool.admitted.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        let refused = pool.run(|| 3).await;
        assert!(matches!(
            refused,
            Err(AppError::TooManyRequests { retry_after_secs }) if retry_after_secs >= 1
        ));
        release.send(()).expect("release");
        assert!(first.await.expect("joined").is_ok());
        assert_eq!(second.await.expect("joined").ok(), Some(2));
        assert_eq!(pool.run(|| 4).await.ok(), Some(4));
    }
}
