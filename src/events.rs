//! Domain events fanned out to subscriptions.
//!
//! On SQLite (one server) events go through an in-process broadcast. On PostgreSQL they go
//! through `NOTIFY`, and every server LISTENs and rebroadcasts to its own subscribers, so a
//! change made through one server reaches subscribers connected to any other.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

/// The PostgreSQL channel events travel on.
const CHANNEL: &str = "darkhan_events";

/// Something that happened which live clients may want to hear about. Events carry ids only;
/// subscribers read the current state, so an event is never staler than the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum DomainEvent {
    ProfileUpdated {
        user_id: Uuid,
    },
    OrderUpdated {
        order_id: Uuid,
        buyer_id: Uuid,
        shop_id: Uuid,
    },
    /// Something anonymous readers see may have changed (the catalogue, stock, rates): every
    /// server but `origin` (which did so at once) empties its response cache.
    CatalogueChanged {
        origin: Uuid,
    },
    /// Sessions ended: one sign-in (`family`) or, with `None`, every session of the user.
    /// Live connections opened with those sessions close.
    SessionsRevoked {
        user_id: Uuid,
        family: Option<Uuid>,
    },
    /// The stock of these products changed: every server but `origin` forgets the cached
    /// responses that showed them.
    StockChanged {
        origin: Uuid,
        products: Vec<Uuid>,
    },
    /// A notification reached a user's inbox.
    NotificationAdded {
        user_id: Uuid,
        notification_id: Uuid,
    },
}

/// Publishes events to every subscriber, on this server or, with PostgreSQL, on all of them.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<DomainEvent>,
    notify: Option<DatabaseConnection>,
}

impl EventBus {
    /// Events stay within this process.
    pub fn local() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
            notify: None,
        }
    }

    /// Events travel through PostgreSQL; a task LISTENs on `url` and feeds local subscribers.
    pub async fn postgres(db: DatabaseConnection, url: &str) -> anyhow::Result<Self> {
        let bus = Self {
            sender: broadcast::channel(1024).0,
            notify: Some(db),
        };
        let mut listener = sea_orm::sqlx::postgres::PgListener::connect(url).await?;
        listener.listen(CHANNEL).await?;
        let sender = bus.sender.clone();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(note) => match serde_json::from_str::<DomainEvent>(note.payload()) {
                        Ok(event) => {
                            let _ = sender.send(event);
                        }
                        Err(e) => tracing::warn!(error = %e, "unreadable event"),
                    },
                    // The listener reconnects on the next recv; events sent meanwhile are lost.
                    // Subscribers re-read state, but copies of the catalogue kept here might
                    // have missed a change: they are forgotten, as if one came from elsewhere.
                    Err(e) => {
                        tracing::warn!(error = %e, "event listener lost its connection");
                        let _ = sender.send(DomainEvent::CatalogueChanged {
                            origin: Uuid::nil(),
                        });
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(bus)
    }

    /// Sends an event after its change committed. Subscribers missing is not an error, and a
    /// failed NOTIFY falls back to this server's subscribers rather than failing the change.
    pub async fn publish(&self, event: DomainEvent) {
        if let Some(db) = &self.notify {
            let payload = serde_json::to_string(&event).unwrap_or_default();
            let sent = db
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "SELECT pg_notify($1, $2)",
                    [CHANNEL.into(), payload.into()],
                ))
                .await;
            match sent {
                Ok(_) => return,
                Err(e) => tracing::warn!(error = %e, "NOTIFY failed; delivering locally"),
            }
        }
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }

    /// The events as a stream; a subscriber that falls behind skips what it missed.
    pub fn stream(&self) -> impl futures_util::Stream<Item = DomainEvent> + Send + 'static {
        futures_util::stream::unfold(self.subscribe(), |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok(event) => return Some((event, rx)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }
}
