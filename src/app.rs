//! The shared application state and the server's life: build, serve, shut down.

use std::{sync::Arc, time::Duration};

use anyhow::Context as _;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::{
    accounts::throttle::Throttle, auth::TokenKeys, config::Settings, db, events::EventBus, graphql,
    http,
};

/// Everything a request needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub keys: TokenKeys,
    pub login_throttle: Arc<Throttle>,
    pub events: EventBus,
}

impl AppState {
    pub fn new(db: DatabaseConnection, settings: Settings) -> anyhow::Result<Self> {
        Ok(Self {
            keys: TokenKeys::new(&settings.auth).context("loading the JWT secret")?,
            login_throttle: Arc::new(Throttle::new(Duration::from_secs(
                settings.auth.login_failure_window_secs,
            ))),
            events: EventBus::default(),
            settings: Arc::new(settings),
            db,
        })
    }
}

/// Connects, migrates and builds the state.
pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    let db = db::connect(&settings.database)
        .await
        .context("connecting to the database")?;
    db::migrate(&db).await.context("applying migrations")?;
    AppState::new(db, settings)
}

/// Serves on an already bound listener until `shutdown` completes, then drains requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let schema = graphql::build_schema(&state.settings.graphql, Some(state.clone()));
    let router = http::router(state, schema);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .context("serving")
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
