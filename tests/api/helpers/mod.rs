//! Starting servers and speaking to them; fixtures by domain in the files beside this one.

pub mod accounts;
pub mod catalog;
pub mod mail;
pub mod media;
pub mod orders;
pub mod payments;
pub mod stripe;

use std::net::SocketAddr;

use darkhan::{app, config::Settings};
use figment::{Figment, providers::Serialized};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// Names the PostgreSQL server tests run against; unset means SQLite temp files.
pub const PG_ENV: &str = "DARKHAN_TEST_DATABASE_URL";

pub const PASSWORD: &str = "felt-and-silver-42";

/// A running server with its own database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    pub state: darkhan::state::AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
    _mail: tempfile::TempDir,
    /// Where this server keeps photos with local storage.
    pub media_dir: tempfile::TempDir,
}

/// A GraphQL answer as the client saw it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Value,
}

impl Reply {
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// The `extensions.code` of the first error, or "" when there is none.
    pub fn code(&self) -> &str {
        self.body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or("")
    }

    pub fn field(&self) -> &str {
        self.body["errors"][0]["extensions"]["field"]
            .as_str()
            .unwrap_or("")
    }

    /// The data, asserting the reply carries no errors.
    pub fn expect_data(&self) -> &Value {
        assert!(
            self.body.get("errors").is_none(),
            "unexpected errors: {}",
            self.body
        );
        self.data()
    }
}

/// A signed-in test user.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|f| f).await
    }

    /// A server whose SQL statements are counted by the tests: the counter is the server's,
    /// so background work is slowed down to stay out of the window, and the response cache is
    /// off so that a read asked again runs again. Count the least of a few asks: a background
    /// statement can only add to a count.
    pub async fn spawn_counted() -> Self {
        Self::spawn_with(|f| {
            f.merge(Serialized::default("graphql.response_cache_ttl_ms", 0))
                .merge(Serialized::default("notifications.poll_interval_ms", 1_000))
                .merge(Serialized::default("orders.expiry_sweep_secs", 3_600))
        })
        .await
    }

    /// The least number of SQL statements one of five asks of `query` cost on this server
    /// (see [`TestApp::spawn_counted`]), and the last answer's data. The server's own tickers
    /// (statistics, notifications) run statements too; on a busy machine one can land in
    /// two asks of three (seen once on PostgreSQL in a full run).
    pub async fn least_statements(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u64, Value) {
        let queries = &self.state.queries;
        let (mut least, mut last) = (u64::MAX, Value::Null);
        for _ in 0..5 {
            let before = queries.load(std::sync::atomic::Ordering::SeqCst);
            last = self
                .gql(token, query, variables.clone())
                .await
                .expect_data()
                .clone();
            least = least.min(queries.load(std::sync::atomic::Ordering::SeqCst) - before);
        }
        (least, last)
    }

    /// Starts a server whose settings `tune` may change.
    pub async fn spawn_with(tune: impl FnOnce(Figment) -> Figment) -> Self {
        let (url, dir) = fresh_database().await;
        Self::spawn_on(url, dir, tune).await
    }

    /// `n` servers started at the same moment on one fresh database, as a fleet is deployed.
    pub async fn spawn_fleet(n: usize) -> Vec<Self> {
        let (url, dir) = fresh_database().await;
        let mut dir = Some(dir);
        let starts = (0..n).map(|i| {
            let keep = if i == 0 { dir.take().flatten() } else { None };
            Self::spawn_on(url.clone(), keep, |f| f)
        });
        futures_util::future::join_all(starts).await
    }

    /// A second server on this one's database, as behind a load balancer. It writes its
    /// mail where this one does, since either may deliver a message.
    pub async fn sibling(&self) -> Self {
        let outbox = self.state.settings.mail.outbox_dir.clone();
        Self::spawn_on(self.state.settings.database.url.clone(), None, move |f| {
            f.merge(Serialized::default("mail.outbox_dir", outbox))
        })
        .await
    }

    async fn spawn_on(
        url: String,
        dir: Option<tempfile::TempDir>,
        tune: impl FnOnce(Figment) -> Figment,
    ) -> Self {
        let mail = tempfile::tempdir().expect("mail tempdir");
        let media_dir = tempfile::tempdir().expect("media tempdir");
        let figment = Settings::figment("test")
            .merge(Serialized::default(
                "media.local_dir",
                media_dir.path().display().to_string(),
            ))
            .merge(Serialized::default("database.url", url))
            .merge(Serialized::default("server.port", 0))
            .merge(Serialized::default(
                "mail.outbox_dir",
                mail.path().display().to_string(),
            ));
        // `tune` may point the mail elsewhere (a sibling's outbox, an SMTP server).
        let settings = Settings::from_figment(tune(figment)).expect("test settings");
        let state = app::build_state(settings).await.expect("state");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = oneshot::channel::<()>();
        let serve_state = state.clone();
        let server = tokio::spawn(async move {
            let _ = app::serve(listener, serve_state, async {
                let _ = rx.await;
            })
            .await;
        });
        Self {
            addr,
            http: reqwest::Client::new(),
            state,
            shutdown: Some(tx),
            server: Some(server),
            _dir: dir,
            _mail: mail,
            media_dir,
        }
    }

    /// Signals shutdown, as SIGTERM does, and waits up to `limit` for the server to finish.
    pub async fn stop(&mut self, limit: std::time::Duration) -> bool {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(server) => tokio::time::timeout(limit, server).await.is_ok(),
            None => true,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a GraphQL request as a modern client would.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Reply {
        let mut req = self
            .http
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        reply(req.send().await.expect("request")).await
    }
}

pub async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let text = res.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        content_type,
        body,
    }
}

/// A database no other test uses: a SQLite file in a temp folder, or a new PostgreSQL
/// database on the server named by `DARKHAN_TEST_DATABASE_URL`.
async fn fresh_database() -> (String, Option<tempfile::TempDir>) {
    match std::env::var(PG_ENV) {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("darkhan_t_{}", uuid::Uuid::now_v7().simple());
            let admin = Database::connect(&admin_url).await.expect("postgres admin");
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await
                .expect("create database");
            admin.close().await.ok();
            (replace_database(&admin_url, &name), None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("darkhan.db");
            (format!("sqlite://{}?mode=rwc", path.display()), Some(dir))
        }
    }
}

/// `postgres://u@h:p/db?x` with another database name.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}
