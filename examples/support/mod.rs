//! What the benchmark programs share: GraphQL calls, signed-up buyers, percentiles.

use std::time::Duration;

use serde_json::{Value, json};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

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
