//! A local stand-in for api.stripe.com that the real async-stripe client talks to. It checks
//! what arrives (path, form fields, `Authorization`, `Idempotency-Key`), answers with
//! Stripe-shaped JSON, replays answers for a repeated idempotency key as Stripe does, and
//! records every request for the tests to inspect. Webhooks are signed here with our own
//! HMAC-SHA256, exactly as Stripe documents, not with the library under test.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    routing::{get, post},
};
use figment::{Figment, providers::Serialized};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::TestApp;

pub const SECRET_KEY: &str = "sk_test_darkhan_fake_0123456789";
pub const WEBHOOK_SECRET: &str = "whsec_darkhan_fake_0123456789";

/// One request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: &'static str,
    pub path: String,
    pub form: HashMap<String, String>,
    pub idempotency_key: Option<String>,
    /// True when the key was seen before and the stored answer was replayed.
    pub replayed: bool,
}

#[derive(Default)]
struct Inner {
    seen: Vec<Seen>,
    replies: HashMap<String, Value>,
    intents: HashMap<String, Value>,
    next: u64,
    fail_transfers: bool,
    /// Money-moving calls answer 500 without doing anything, as in an outage.
    outage: bool,
}

#[derive(Clone)]
pub struct FakeStripe {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

type Shared = Arc<Mutex<Inner>>;
type Answer = (StatusCode, Json<Value>);

impl FakeStripe {
    pub async fn start() -> Self {
        let inner: Shared = Arc::default();
        let router = Router::new()
            .route("/v1/payment_intents", post(create_intent))
            .route(
                "/v1/payment_intents/{id}",
                get(retrieve_intent).post(update_intent),
            )
            .route("/v1/payment_intents/{id}/cancel", post(cancel_intent))
            .route("/v1/refunds", post(create_refund))
            .route("/v1/accounts", post(create_account))
            .route("/v1/account_links", post(create_link))
            .route("/v1/transfers", post(create_transfer))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind fake stripe");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self { url, inner }
    }

    /// Settings that point the server at this fake with both secrets set.
    pub fn configure(&self, figment: Figment) -> Figment {
        figment
            .merge(Serialized::default("stripe.secret_key", SECRET_KEY))
            .merge(Serialized::default("stripe.webhook_secret", WEBHOOK_SECRET))
            .merge(Serialized::default("stripe.api_base", self.url.clone()))
            .merge(Serialized::default(
                "stripe.publishable_key",
                "pk_test_fake",
            ))
            .merge(Serialized::default("payments.holding_days", 0))
    }

    /// A server on a fresh database using this fake.
    pub async fn app(&self) -> TestApp {
        let me = self.clone();
        TestApp::spawn_with(move |f| me.configure(f)).await
    }

    pub fn seen(&self, method: &str, path: &str) -> Vec<Seen> {
        self.lock()
            .seen
            .iter()
            .filter(|s| s.method == method && s.path == path)
            .cloned()
            .collect()
    }

    /// Requests that actually created something (not idempotent replays).
    pub fn created(&self, path: &str) -> Vec<Seen> {
        self.seen("POST", path)
            .into_iter()
            .filter(|s| !s.replayed)
            .collect()
    }

    /// Stripe cancels an intent (e.g. from the dashboard).
    pub fn cancel_intent(&self, id: &str) {
        if let Some(pi) = self.lock().intents.get_mut(id) {
            pi["status"] = json!("canceled");
        }
    }

    pub fn fail_transfers(&self, fail: bool) {
        self.lock().fail_transfers = fail;
    }

    pub fn outage(&self, down: bool) {
        self.lock().outage = down;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("fake stripe lock")
    }
}

fn stripe_error(status: StatusCode, kind: &str, message: &str) -> Answer {
    (
        status,
        Json(json!({ "error": { "type": kind, "message": message } })),
    )
}

/// Checks the secret key and records the request; replays a stored answer for a known key.
fn admit(
    inner: &Shared,
    headers: &HeaderMap,
    method: &'static str,
    path: String,
    form: HashMap<String, String>,
    needs_key: bool,
) -> Result<Option<String>, Answer> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if auth != format!("Bearer {SECRET_KEY}") {
        return Err(stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key provided",
        ));
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut inner = inner.lock().expect("lock");
    let replay = key
        .as_ref()
        .and_then(|k| inner.replies.get(&format!("{path} {k}")).cloned());
    inner.seen.push(Seen {
        method,
        path: path.clone(),
        form,
        idempotency_key: key.clone(),
        replayed: replay.is_some(),
    });
    if needs_key && inner.outage {
        return Err(stripe_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "api_error",
            "An unknown error occurred",
        ));
    }
    if needs_key && key.is_none() {
        return Err(stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "this fake demands an Idempotency-Key on money-moving requests",
        ));
    }
    if let Some(reply) = replay {
        return Err((StatusCode::OK, Json(reply)));
    }
    Ok(key)
}

fn remember(inner: &Shared, path: &str, key: Option<String>, reply: &Value) {
    if let Some(k) = key {
        inner
            .lock()
            .expect("lock")
            .replies
            .insert(format!("{path} {k}"), reply.clone());
    }
}

fn next_id(inner: &Shared, prefix: &str) -> String {
    let mut inner = inner.lock().expect("lock");
    inner.next += 1;
    format!("{prefix}_fake{:04}", inner.next)
}

fn metadata(form: &HashMap<String, String>) -> Value {
    let map: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("metadata[")
                .and_then(|k| k.strip_suffix(']'))
                .map(|k| (k.to_owned(), json!(v)))
        })
        .collect();
    Value::Object(map)
}

/// A PaymentIntent as Stripe shapes it.
pub fn intent_json(id: &str, amount: i64, currency: &str, status: &str, checkout: &str) -> Value {
    json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_received": if status == "succeeded" { amount } else { 0 },
        "capture_method": "automatic_async", "confirmation_method": "automatic",
        "client_secret": format!("{id}_secret_{}", id.len() * 7919),
        "created": now(), "currency": currency, "livemode": false,
        "metadata": { "checkout_id": checkout }, "payment_method_types": ["card"],
        "status": status, "transfer_group": checkout,
        "automatic_payment_methods": { "enabled": true }
    })
}

async fn create_intent(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Answer {
    let key = match admit(
        &inner,
        &headers,
        "POST",
        "/v1/payment_intents".into(),
        form.clone(),
        true,
    ) {
        Ok(k) => k,
        Err(a) => return a,
    };
    let (Some(amount), Some(currency)) = (
        form.get("amount").and_then(|a| a.parse::<i64>().ok()),
        form.get("currency"),
    ) else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "amount and currency are required",
        );
    };
    let id = next_id(&inner, "pi");
    let mut pi = intent_json(&id, amount, currency, "requires_payment_method", "");
    pi["metadata"] = metadata(&form);
    pi["transfer_group"] = json!(form.get("transfer_group"));
    inner
        .lock()
        .expect("lock")
        .intents
        .insert(id.clone(), pi.clone());
    remember(&inner, "/v1/payment_intents", key, &pi);
    (StatusCode::OK, Json(pi))
}

async fn retrieve_intent(
    State(inner): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Answer {
    if let Err(a) = admit(
        &inner,
        &headers,
        "GET",
        format!("/v1/payment_intents/{id}"),
        HashMap::new(),
        false,
    ) {
        return a;
    }
    match inner.lock().expect("lock").intents.get(&id) {
        Some(pi) => (StatusCode::OK, Json(pi.clone())),
        None => stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "No such payment_intent",
        ),
    }
}

async fn update_intent(
    State(inner): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Answer {
    let path = format!("/v1/payment_intents/{id}");
    let amount = form.get("amount").and_then(|a| a.parse::<i64>().ok());
    change_intent(&inner, &id, path, &headers, form, |pi| {
        if pi["status"] == "succeeded" || pi["status"] == "canceled" {
            return Err(stripe_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "This PaymentIntent can no longer be updated",
            ));
        }
        if let Some(amount) = amount {
            pi["amount"] = json!(amount);
        }
        Ok(())
    })
}

async fn cancel_intent(
    State(inner): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Answer {
    let path = format!("/v1/payment_intents/{id}/cancel");
    change_intent(&inner, &id, path, &headers, form, |pi| {
        pi["status"] = json!("canceled");
        Ok(())
    })
}

/// Applies `change` to a stored intent and answers with it, idempotently.
fn change_intent(
    inner: &Shared,
    id: &str,
    path: String,
    headers: &HeaderMap,
    form: HashMap<String, String>,
    change: impl FnOnce(&mut Value) -> Result<(), Answer>,
) -> Answer {
    let key = match admit(inner, headers, "POST", path.clone(), form, false) {
        Ok(k) => k,
        Err(a) => return a,
    };
    let mut guard = inner.lock().expect("lock");
    let Some(pi) = guard.intents.get_mut(id) else {
        return stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            "No such payment_intent",
        );
    };
    if let Err(refused) = change(pi) {
        return refused;
    }
    let pi = pi.clone();
    drop(guard);
    remember(inner, &path, key, &pi);
    (StatusCode::OK, Json(pi))
}

async fn create_refund(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Answer {
    let key = match admit(
        &inner,
        &headers,
        "POST",
        "/v1/refunds".into(),
        form.clone(),
        true,
    ) {
        Ok(k) => k,
        Err(a) => return a,
    };
    let pi = form.get("payment_intent").cloned().unwrap_or_default();
    let Some(intent) = inner.lock().expect("lock").intents.get(&pi).cloned() else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "No such payment_intent",
        );
    };
    let amount = form
        .get("amount")
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or(intent["amount"].as_i64().unwrap_or(0));
    let id = next_id(&inner, "re");
    let refund = json!({
        "id": id, "object": "refund", "amount": amount, "created": now(),
        "currency": intent["currency"], "payment_intent": pi, "status": "succeeded",
        "metadata": metadata(&form)
    });
    remember(&inner, "/v1/refunds", key, &refund);
    (StatusCode::OK, Json(refund))
}

async fn create_account(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Answer {
    let key = match admit(
        &inner,
        &headers,
        "POST",
        "/v1/accounts".into(),
        form.clone(),
        true,
    ) {
        Ok(k) => k,
        Err(a) => return a,
    };
    if form.get("type").map(String::as_str) != Some("express") {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "type must be express here",
        );
    }
    let id = next_id(&inner, "acct");
    let shop = form.get("metadata[shop_id]").cloned().unwrap_or_default();
    let account = account_json(&id, false, &shop);
    remember(&inner, "/v1/accounts", key, &account);
    (StatusCode::OK, Json(account))
}

pub fn account_json(id: &str, payouts_enabled: bool, shop_id: &str) -> Value {
    json!({
        "id": id, "object": "account", "type": "express", "charges_enabled": payouts_enabled,
        "payouts_enabled": payouts_enabled, "details_submitted": payouts_enabled,
        "metadata": { "shop_id": shop_id }
    })
}

async fn create_link(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Answer {
    if let Err(a) = admit(
        &inner,
        &headers,
        "POST",
        "/v1/account_links".into(),
        form.clone(),
        false,
    ) {
        return a;
    }
    for field in ["account", "type", "return_url", "refresh_url"] {
        if !form.contains_key(field) {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "missing field",
            );
        }
    }
    let account = form.get("account").cloned().unwrap_or_default();
    (
        StatusCode::OK,
        Json(json!({
            "object": "account_link", "created": now(), "expires_at": now() + 300,
            "url": format!("https://connect.stripe.com/setup/e/{account}/fake")
        })),
    )
}

async fn create_transfer(
    State(inner): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Answer {
    let key = match admit(
        &inner,
        &headers,
        "POST",
        "/v1/transfers".into(),
        form.clone(),
        true,
    ) {
        Ok(k) => k,
        Err(a) => return a,
    };
    if inner.lock().expect("lock").fail_transfers {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Insufficient funds in Stripe account",
        );
    }
    let id = next_id(&inner, "tr");
    let transfer = json!({
        "id": id, "object": "transfer",
        "amount": form.get("amount").and_then(|a| a.parse::<i64>().ok()).unwrap_or(0),
        "amount_reversed": 0, "created": now(), "currency": form.get("currency"),
        "destination": form.get("destination"), "livemode": false, "metadata": metadata(&form),
        "reversals": { "object": "list", "data": [], "has_more": false, "url": format!("/v1/transfers/{id}/reversals") },
        "reversed": false, "transfer_group": form.get("transfer_group")
    });
    remember(&inner, "/v1/transfers", key, &transfer);
    (StatusCode::OK, Json(transfer))
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A Stripe event around `object`.
pub fn event(id: &str, kind: &str, object: Value) -> String {
    json!({
        "id": id, "object": "event", "api_version": null, "created": now(),
        "data": { "object": object }, "livemode": false, "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null }, "type": kind
    })
    .to_string()
}

/// `Stripe-Signature` for `body` at time `t`, computed as Stripe documents it:
/// HMAC-SHA256 over `"{t}.{body}"` with the endpoint secret, hex-encoded.
pub fn signature(body: &str, secret: &str, t: i64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("t={t},v1={hex}")
}

impl TestApp {
    /// POSTs a webhook with the given `Stripe-Signature` (none when `None`).
    pub async fn webhook(&self, body: &str, signature: Option<String>) -> (u16, String) {
        let mut req = self
            .http
            .post(self.url("/webhooks/stripe"))
            .header("content-type", "application/json")
            .body(body.to_owned());
        if let Some(sig) = signature {
            req = req.header("stripe-signature", sig);
        }
        let res = req.send().await.expect("webhook");
        (res.status().as_u16(), res.text().await.unwrap_or_default())
    }

    /// Sends an event signed now with the right secret.
    pub async fn signed(&self, body: &str) -> (u16, String) {
        self.webhook(body, Some(signature(body, WEBHOOK_SECRET, now())))
            .await
    }
}
