//! The application state every request and job shares: the database, settings, token keys,
//! the event bus, the response cache, the Stripe client, object storage and the CPU pool. Core: it names no domain.

use std::{
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use anyhow::Context as _;
use sea_orm::DatabaseConnection;

use crate::{
    auth::TokenKeys,
    cache::{Changes, ResponseCache, Snapshot},
    config::Settings,
    error::{AppError, AppResult},
    events::EventBus,
    stripe::Gateway,
};

/// Everything a request needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub keys: TokenKeys,
    pub events: EventBus,
    /// SQL statements run since start; tests use it to prove queries are batched.
    pub queries: Arc<AtomicU64>,
    /// Anonymous query responses, checked against `changes` like every other copy.
    pub response_cache: Arc<ResponseCache>,
    /// Turns true when the server begins shutting down, so long-lived WebSockets close
    /// instead of holding the graceful shutdown open forever.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// Set when the catalogue changed here and other servers have not been told yet.
    pub catalogue_dirty: Arc<std::sync::atomic::AtomicBool>,
    /// The exchange rates as last read.
    pub rates: Arc<Snapshot<crate::money::Rates>>,
    /// This process, as the origin of the cache events it broadcasts: it ignores its own.
    pub server_id: uuid::Uuid,
    /// Products whose stock changed here that other servers have not been told of yet.
    pub stock_dirty: Arc<std::sync::Mutex<std::collections::BTreeSet<uuid::Uuid>>>,
    /// Product views and additions to carts counted since the last flush to the rollups.
    pub tally: Arc<crate::rollups::Tally>,
    /// The Stripe client; `None` when no keys are configured (card payments off).
    pub stripe: Option<Arc<Gateway>>,
    /// Where photos are kept: a local folder or an S3 bucket.
    pub storage: Arc<crate::storage::Storage>,
    /// Image processing and other CPU-heavy jobs, bounded so they cannot starve requests.
    pub cpu: Arc<crate::workpool::WorkPool>,
    /// What changed when, for the copies of data kept here beyond one request.
    pub changes: Arc<Changes>,
    /// Such copies, kept by the domains that own them (the catalogue's product cards).
    pub read_models: Arc<ReadModels>,
}

/// Per-server read models, one of each type, made on first use. Core keeps them without
/// knowing what they hold; each is checked against [`Changes`] by its owner.
#[derive(Default)]
pub struct ReadModels(
    std::sync::Mutex<
        std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>,
    >,
);

impl ReadModels {
    pub fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut models = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let model = models
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        // The entry was made for T, under T's TypeId.
        model
            .downcast::<T>()
            .unwrap_or_else(|_| Arc::new(T::default()))
    }
}

impl AppState {
    pub fn new(db: DatabaseConnection, settings: Settings) -> anyhow::Result<Self> {
        let changes = Arc::new(Changes::default());
        Ok(Self {
            keys: TokenKeys::new(&settings.auth).context("loading the JWT secret")?,
            events: EventBus::local(),
            queries: Arc::new(AtomicU64::new(0)),
            closing: Arc::new(tokio::sync::watch::channel(false).0),
            catalogue_dirty: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            stock_dirty: Arc::default(),
            tally: Arc::default(),
            rates: Arc::default(),
            server_id: uuid::Uuid::now_v7(),
            read_models: Arc::default(),
            stripe: Gateway::from_settings(&settings.stripe)
                .context("configuring Stripe")?
                .map(Arc::new),
            storage: Arc::new(
                crate::storage::Storage::from_settings(&settings.media)
                    .context("configuring media storage")?,
            ),
            cpu: crate::workpool::WorkPool::new(
                match settings.media.processing_workers {
                    0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
                    n => n,
                },
                settings.media.processing_queue,
            ),
            response_cache: Arc::new(ResponseCache::new(
                Duration::from_millis(settings.graphql.response_cache_ttl_ms),
                changes.clone(),
            )),
            changes,
            settings: Arc::new(settings),
            db,
        })
    }
}

impl AppState {
    /// After a change anonymous readers may see: this server's response cache empties at
    /// once, and every other server's when the next broadcast reaches it. Broadcasts are
    /// coalesced (`app::spawn_cache_broadcaster`): under a burst of checkouts one PostgreSQL
    /// `NOTIFY` a tick serves them all, since every `NOTIFY` takes a global lock at commit.
    pub fn catalogue_changed(&self) {
        self.forget_catalogue();
        self.catalogue_dirty
            .store(true, std::sync::atomic::Ordering::Release);
    }

    /// After stock changed (an order placed, cancelled, expired or reinstated): this server
    /// forgets the cached responses that showed those products at once, the others when the
    /// next broadcast reaches them. The rest of the cache stays.
    pub fn stock_changed(&self, products: impl IntoIterator<Item = uuid::Uuid>) {
        let products: Vec<uuid::Uuid> = products.into_iter().collect();
        if products.is_empty() {
            return;
        }
        self.forget_stock(&products);
        self.stock_dirty
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(products);
    }

    /// What this server keeps of the catalogue is outdated (a change here, or news of one
    /// from another server): cached responses, product cards and rates.
    pub fn forget_catalogue(&self) {
        self.changes.catalogue_changed();
        self.response_cache.invalidate();
    }

    /// What this server keeps of these products' stock is outdated.
    pub fn forget_stock(&self, products: &[uuid::Uuid]) {
        self.changes.stock_changed(products);
        self.response_cache.invalidate_products(products);
    }

    /// The exchange rates for showing prices: read once and shared by this server's requests
    /// until a catalogue change (rates are set through the catalogue) or 10 s have passed,
    /// instead of one query per request. Checkout reads its own rates, in its transaction.
    pub async fn exchange_rates(&self) -> AppResult<Arc<crate::money::Rates>> {
        self.rates
            .get_or_read(&self.changes, || crate::money::Rates::load(&self.db))
            .await
    }

    /// The Stripe gateway, or `PAYMENT_METHOD_UNAVAILABLE` when no keys are configured.
    pub fn stripe(&self) -> AppResult<&Gateway> {
        self.stripe.as_deref().ok_or_else(|| {
            AppError::refused(
                "PAYMENT_METHOD_UNAVAILABLE",
                "card payments are not configured on this server; choose BANK_TRANSFER",
            )
        })
    }
}
