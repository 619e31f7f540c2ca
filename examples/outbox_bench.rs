//! Outbox benchmark, run by `scripts/bench`: queues N messages (a welcome to each of N
//! accounts, as registrations would) and lets the delivery worker send them all to a local
//! SMTP server, the way a server does. Prints messages sent per second.
//!
//!   cargo run --release --example outbox_bench -- sqlite:///tmp/o.db?mode=rwc 2525 2000
//!
//! Port 0 writes `.eml` files instead (to tell the worker's own cost from the SMTP server's).

use std::time::Instant;

use darkhan::{
    config::Settings,
    entities::{notifications, users},
    notifications::{Mailer, worker},
    outbox::{self, Kind, Notice},
};
use figment::providers::Serialized;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "sqlite://data/outbox-bench.db?mode=rwc".into());
    let port: u16 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(2525);
    let count: usize = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(2000);
    let figment = Settings::figment("bench")
        .merge(Serialized::default("database.url", &url))
        .merge(Serialized::default(
            "mail.transport",
            if port == 0 { "file" } else { "smtp" },
        ))
        .merge(Serialized::default(
            "mail.outbox_dir",
            std::env::temp_dir()
                .join("darkhan-outbox-bench")
                .display()
                .to_string(),
        ))
        .merge(Serialized::default("mail.smtp_host", "127.0.0.1"))
        .merge(Serialized::default("mail.smtp_port", port))
        .merge(Serialized::default("mail.smtp_security", "none"))
        .merge(Serialized::default("notifications.batch_size", 100))
        .merge(Serialized::default("log.filter", "warn"));
    let settings = Settings::from_figment(figment)?;
    let mailer = Mailer::from_settings(&settings.mail)?;
    let state = darkhan::app::build_state(settings).await?;

    let now = chrono::Utc::now();
    let run = uuid::Uuid::now_v7();
    let mut notices = Vec::with_capacity(count);
    for i in 0..count {
        let user = users::ActiveModel {
            id: Set(uuid::Uuid::now_v7()),
            email: Set(format!("bench-{run}-{i}@example.de")),
            password_hash: Set("-".into()),
            display_name: Set(format!("Buyer {i}")),
            role: Set(users::Role::Buyer),
            country: Set("DE".into()),
            preferred_language: Set(if i % 2 == 0 { "en" } else { "mn" }.into()),
            preferred_currency: Set("EUR".into()),
            email_verified_at: Set(Some(now)),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&state.db)
        .await?;
        notices.push(Notice::new(
            Kind::Welcome,
            user.id,
            user.id,
            serde_json::json!({}),
        ));
    }
    outbox::enqueue(&state.db, notices)
        .await
        .map_err(|e| anyhow::anyhow!("queuing: {}", e.message()))?;

    let started = Instant::now();
    loop {
        let handled = worker::deliver_due(&state, &mailer)
            .await
            .map_err(|e| anyhow::anyhow!("delivering: {}", e.message()))?;
        if handled == 0 {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let sent = notifications::Entity::find()
        .filter(notifications::Column::EmailStatus.eq(notifications::EmailStatus::Sent))
        .count(&state.db)
        .await?;
    let pending = notifications::Entity::find()
        .filter(notifications::Column::EmailStatus.ne(notifications::EmailStatus::Sent))
        .count(&state.db)
        .await?;
    println!(
        "  outbox to {:<12} {:>10.0} messages/s   ({sent} sent, {pending} not sent, {elapsed:.2} s)",
        if port == 0 { ".eml files" } else { "SMTP" },
        count as f64 / elapsed
    );
    Ok(())
}
