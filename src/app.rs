//! The shared application state and the server's life: build, serve, shut down.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use crate::state::AppState;

use anyhow::Context as _;
use sea_orm::DbBackend;
use tokio::net::TcpListener;

use crate::{config::Settings, db, error::AppResult, events::EventBus, graphql, http};

/// Connects, migrates and builds the state.
pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    let mut db = db::connect(&settings.database)
        .await
        .context("connecting to the database")?;
    db::migrate(&db).await.context("applying migrations")?;
    let queries = Arc::new(AtomicU64::new(0));
    let counter = queries.clone();
    db.set_metric_callback(move |info| {
        counter.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("db_queries_total", "failed" => if info.failed { "true" } else { "false" })
            .increment(1);
    });
    let events = match db.get_database_backend() {
        DbBackend::Postgres => EventBus::postgres(db.clone(), &settings.database.url)
            .await
            .context("listening for events on PostgreSQL")?,
        _ => EventBus::local(),
    };
    let mut state = AppState::new(db, settings)?;
    state.queries = queries;
    state.events = events;
    Ok(state)
}

/// Serves on an already bound listener until `shutdown` completes, then drains requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let schemas = graphql::Schemas::build(&state.settings.graphql, state.clone());
    let sweeper = spawn_sweeper(
        state.clone(),
        Duration::from_secs(state.settings.orders.expiry_sweep_secs.max(1)),
    );
    let forgetting = spawn_cache_listener(state.clone());
    let telling = spawn_cache_broadcaster(state.clone());
    let mailer = crate::notifications::Mailer::from_settings(&state.settings.mail)
        .context("configuring mail")?;
    if state.settings.mode == crate::config::Mode::Production {
        if state.settings.mail.transport == crate::config::MailTransport::File {
            tracing::warn!(dir = %state.settings.mail.outbox_dir, "production mail is written to files, not sent: set DARKHAN_MAIL__TRANSPORT=smtp");
        }
        if state.settings.public.web_base_url.contains("localhost") {
            tracing::warn!("links in emails point at localhost: set DARKHAN_PUBLIC__WEB_BASE_URL");
        }
    }
    let posting = spawn_outbox_worker(state.clone(), mailer);
    let tidying = spawn_media_sweeper(state.clone());
    let counting = spawn_analytics_flusher(state.clone());
    let tabulating = spawn_statistics_drain(state.clone());
    let closing = state.closing.clone();
    let last_flush = state.clone();
    let router = http::router(state, schemas).context("loading persisted queries")?;
    let shutdown = async move {
        shutdown.await;
        closing.send_replace(true);
    };
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving")?;
    sweeper.abort();
    forgetting.abort();
    telling.abort();
    posting.abort();
    tidying.abort();
    counting.abort();
    tabulating.abort();
    // What was counted since the last flush is written before the process goes.
    if let Err(e) = crate::distribution::analytics::flush(&last_flush).await {
        tracing::warn!(error = ?e, "writing the last counted views failed");
    }
    Ok(())
}

/// Writes counted views and additions to carts every `distribution.analytics_flush_secs`.
fn spawn_analytics_flusher(state: AppState) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(state.settings.distribution.analytics_flush_secs.max(1));
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = crate::distribution::analytics::flush(&state).await {
                tracing::warn!(error = ?e, "writing counted views failed; kept for the next try");
            }
        }
    })
}

/// Loads this server's copy of the statistics, then recomputes orders that changed into the
/// market statistics every `statistics.drain_interval_ms`. Nothing is lost if it stops: the
/// queue is in the database.
fn spawn_statistics_drain(state: AppState) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_millis(state.settings.statistics.drain_interval_ms.max(50));
    tokio::spawn(async move {
        if let Err(e) = crate::statistics::warm(&state).await {
            tracing::warn!(error = ?e, "loading the market statistics failed; loaded when asked");
        }
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = crate::statistics::cube::drain(&state).await {
                tracing::warn!(error = ?e, "recomputing market statistics failed; retried");
            }
        }
    })
}

/// One sweep of the background work: unpaid orders past their window are cancelled (their
/// stock returns) and their card payments lowered or cancelled so they cannot be paid
/// afterwards; refunds and payout transfers Stripe could not be asked for are sent again;
/// listings follow sales that began or ended by themselves. Safe on several servers at once.
/// Returns how many orders this sweep cancelled.
pub async fn sweep(state: &AppState) -> AppResult<usize> {
    if let Err(e) = crate::catalog::sales::refresh_due(state).await {
        tracing::warn!(error = ?e, "re-sorting products of started or ended sales failed");
    }
    let age = chrono::Duration::seconds(60);
    if let Err(e) = crate::payments::resubmit_stale(state, age).await {
        tracing::warn!(error = ?e, "resubmitting to Stripe failed");
    }
    let expired = crate::orders::expiry::expire_due(state).await?;
    for checkout in expired.checkouts {
        crate::payments::card::resync(state, checkout).await;
    }
    match crate::orders::expiry::remind_due(state).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(reminded = n, "bank-transfer reminders queued"),
        Err(e) => tracing::warn!(error = ?e, "queuing payment reminders failed"),
    }
    if expired.cancelled > 0 {
        // Each cancellation forgot the cached answers showing its products (`lifecycle::apply`).
        tracing::info!(cancelled = expired.cancelled, "expired unpaid orders");
    }
    Ok(expired.cancelled)
}

/// Removes uploads never completed and photos nothing refers to, every
/// `media.sweep_interval_secs`.
fn spawn_media_sweeper(state: AppState) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_secs(state.settings.media.sweep_interval_secs.max(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match crate::media::sweep(&state).await {
                Ok(swept) if swept != crate::media::Swept::default() => {
                    tracing::info!(
                        pending = swept.pending,
                        unattached = swept.unattached,
                        "media swept"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = ?e, "media sweep failed"),
            }
        }
    })
}

/// Empties this server's response cache when another server reports a catalogue change (its
/// own changes were applied at once; hearing them again would only empty the cache twice).
fn spawn_cache_listener(state: AppState) -> tokio::task::JoinHandle<()> {
    use tokio::sync::broadcast::error::RecvError;
    let mut events = state.events.subscribe();
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(crate::events::DomainEvent::CatalogueChanged { origin })
                    if origin != state.server_id =>
                {
                    state.forget_catalogue()
                }
                Ok(crate::events::DomainEvent::StockChanged { origin, products })
                    if origin != state.server_id =>
                {
                    state.forget_stock(&products)
                }
                Ok(_) => {}
                // Missed events may have been changes: forget, to be safe.
                Err(RecvError::Lagged(_)) => state.forget_catalogue(),
                Err(RecvError::Closed) => return,
            }
        }
    })
}

/// Tells the other servers of catalogue and stock changes at most every 100 ms: one event for
/// however many changes happened in between.
fn spawn_cache_broadcaster(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let stock: Vec<uuid::Uuid> =
                std::mem::take(&mut *state.stock_dirty.lock().unwrap_or_else(|e| e.into_inner()))
                    .into_iter()
                    .collect();
            // A whole-catalogue change covers stock too; so many products that the event
            // would not fit a NOTIFY payload (8,000 bytes) are sent as one too.
            let everything = state.catalogue_dirty.swap(false, Ordering::AcqRel)
                || stock.len() > MAX_STOCK_EVENT;
            let event = if everything {
                Some(crate::events::DomainEvent::CatalogueChanged {
                    origin: state.server_id,
                })
            } else if stock.is_empty() {
                None
            } else {
                Some(crate::events::DomainEvent::StockChanged {
                    origin: state.server_id,
                    products: stock,
                })
            };
            if let Some(event) = event {
                state.events.publish(event).await;
            }
        }
    })
}

/// Delivers the outbox: every poll interval, batches until none is left.
fn spawn_outbox_worker(
    state: AppState,
    mailer: crate::notifications::Mailer,
) -> tokio::task::JoinHandle<()> {
    let every = Duration::from_millis(state.settings.notifications.poll_interval_ms.max(10));
    let batch = usize::try_from(state.settings.notifications.batch_size).unwrap_or(usize::MAX);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            loop {
                match crate::notifications::worker::deliver_due(&state, &mailer).await {
                    Ok(n) if n >= batch => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = ?e, "delivering notifications failed");
                        break;
                    }
                }
            }
        }
    })
}

/// Products one stock event names at most (39 bytes each in JSON).
const MAX_STOCK_EVENT: usize = 150;

/// Runs `sweep` every `every` until the process ends.
fn spawn_sweeper(state: AppState, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = sweep(&state).await {
                tracing::warn!(error = ?e, "expiring orders failed");
            }
        }
    })
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
