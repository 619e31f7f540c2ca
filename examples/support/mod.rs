//! What the benchmark programs share: GraphQL calls, signed-up buyers, percentiles, and a
//! Stripe stand-in with Stripe's webhook signing.

#![allow(dead_code)] // each program uses its own part

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{Form, Json, Router, routing::post};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// reqwest is built without a TLS provider of its own (the server's S3 client brings ring):
/// every benchmark installs it before its first client.
pub fn tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

pub async fn gql(
    http: &reqwest::Client,
    url: &str,
    token: Option<&str>,
    query: &str,
    vars: Value,
) -> Result<Value, Error> {
    let mut req = http
        .post(url)
        .json(&json!({ "query": query, "variables": vars }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    Ok(req.send().await?.json().await?)
}

/// `n` new buyers in Berlin, each with (access token, address id); `tag` keeps their emails
/// apart from other runs.
pub async fn buyers(
    http: &reqwest::Client,
    url: &str,
    n: usize,
    tag: &str,
) -> Result<Vec<(String, String)>, Error> {
    let mut buyers = Vec::with_capacity(n);
    for w in 0..n {
        let email = format!("{tag}{w}-{}@example.de", std::process::id());
        let r = gql(http, url, None, "mutation($e: String!) { register(input: { email: $e, password: \"bench-password-123\", displayName: \"Bench\", role: BUYER, country: \"DE\", preferredLanguage: \"en\", preferredCurrency: \"EUR\" }) { accessToken } }", json!({ "e": email })).await?;
        let token = r["data"]["register"]["accessToken"]
            .as_str()
            .ok_or("register failed")?
            .to_owned();
        let r = gql(http, url, Some(&token), "mutation { addAddress(input: { name: \"B\", line1: \"Torstraße 1\", city: \"Berlin\", country: \"DE\" }) { address { id } } }", json!({})).await?;
        let address = r["data"]["addAddress"]["address"]["id"]
            .as_str()
            .ok_or("address failed")?
            .to_owned();
        buyers.push((token, address));
    }
    Ok(buyers)
}

/// The `p` percentile of sorted latencies, in milliseconds.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A PaymentIntent with the fields async-stripe requires.
pub fn intent(id: &str, amount: i64, currency: &str, status: &str, checkout: &str) -> Value {
    json!({
        "id": id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_received": if status == "succeeded" { amount } else { 0 },
        "capture_method": "automatic_async", "confirmation_method": "automatic",
        "client_secret": format!("{id}_secret_bench"), "created": now(), "currency": currency,
        "livemode": false, "metadata": { "checkout_id": checkout },
        "payment_method_types": ["card"], "status": status
    })
}

pub async fn stand_in(port: u16) -> Result<(), Error> {
    let next = Arc::new(AtomicU64::new(0));
    let app = Router::new().route(
        "/v1/payment_intents",
        post(move |Form(form): Form<HashMap<String, String>>| {
            let n = next.fetch_add(1, Ordering::Relaxed);
            async move {
                let amount = form.get("amount").and_then(|a| a.parse().ok()).unwrap_or(0);
                let currency = form.get("currency").cloned().unwrap_or_default();
                let checkout = form
                    .get("metadata[checkout_id]")
                    .cloned()
                    .unwrap_or_default();
                let id = format!("pi_bench{n}");
                Json(intent(
                    &id,
                    amount,
                    &currency,
                    "requires_payment_method",
                    &checkout,
                ))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(())
}

pub fn signature(body: &str, secret: &str) -> String {
    let t = now();
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
