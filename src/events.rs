//! Domain events fanned out to subscriptions. In-process broadcast for one server; a
//! PostgreSQL LISTEN/NOTIFY relay joins it when several servers share one database.

use tokio::sync::broadcast;

use crate::entities::users;

/// Something that happened which live clients may want to hear about.
#[derive(Debug, Clone)]
pub enum DomainEvent {
    ProfileUpdated(users::Model),
}

/// Publishes events to every subscriber of this process.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<DomainEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl EventBus {
    /// Sends to current subscribers; no subscriber is not an error.
    pub fn publish(&self, event: DomainEvent) {
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }
}
