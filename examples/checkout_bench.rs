//! Checkout benchmark, run by `scripts/bench` against a server on the demo catalogue:
//! buyers with single-line carts place orders concurrently for a fixed time. Most orders are
//! for variants spread over the catalogue; every tenth is for one of five "hot" variants, so
//! buyers also race for the last units. Prints orders placed per second, checkout attempts
//! per second (placed or refused), p50/p99 latency of `placeOrder`, how many were refused as
//! OUT_OF_STOCK, and whether any stock went negative.
//!
//!   cargo run --release --example checkout_bench -- http://127.0.0.1:18088/graphql 32 10

use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;

use support::{Error, buyers, gql, percentile};

/// Every variant with its stock, over all product pages.
async fn variants(http: &reqwest::Client, url: &str) -> Result<Vec<(String, i64)>, Error> {
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let r = gql(http, url, None, "query($a: String) { products(first: 100, after: $a) { pageInfo { hasNextPage endCursor } edges { node { variants { id stock } } } } }", json!({ "a": after })).await?;
        let page = &r["data"]["products"];
        for edge in page["edges"].as_array().cloned().unwrap_or_default() {
            for v in edge["node"]["variants"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                out.push((
                    v["id"].as_str().unwrap_or_default().to_owned(),
                    v["stock"].as_i64().unwrap_or(0),
                ));
            }
        }
        if page["pageInfo"]["hasNextPage"] != true {
            return Ok(out);
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    support::tls();
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| "http://127.0.0.1:18088/graphql".into());
    let workers: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(32);
    let seconds: u64 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(10);
    let http = reqwest::Client::new();

    let stocked: Vec<String> = variants(&http, &url)
        .await?
        .into_iter()
        .filter(|v| v.1 > 0)
        .map(|v| v.0)
        .collect();
    let hot: Vec<String> = stocked.iter().take(5).cloned().collect();
    let buyers = buyers(&http, &url, workers, "bench").await?;

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks = buyers.into_iter().enumerate().map(|(w, (token, address))| {
        let (http, url, stocked, hot) = (http.clone(), url.clone(), stocked.clone(), hot.clone());
        tokio::spawn(async move {
            let (mut latencies, mut sold_out, mut errors) = (Vec::new(), 0u64, 0u64);
            let mut n = 0usize;
            while Instant::now() < deadline && !stocked.is_empty() {
                let variant = if n.is_multiple_of(10) {
                    &hot[n / 10 % hot.len()]
                } else {
                    &stocked[(w * 997 + n * 31) % stocked.len()]
                };
                n += 1;
                let add = gql(&http, &url, Some(&token), "mutation($v: ID!) { setCartQuantity(input: { variantId: $v, quantity: 1 }) { cart { currency } } }", json!({ "v": variant })).await;
                if add.is_err() {
                    errors += 1;
                    continue;
                }
                let started = Instant::now();
                let r = gql(&http, &url, Some(&token), "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { checkoutId } }", json!({ "i": { "addressId": address, "currency": "EUR", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": format!("w{w}-{n}") } })).await;
                let took = started.elapsed();
                match r {
                    Ok(v) if v["data"]["placeOrder"]["checkoutId"].is_string() => latencies.push(took),
                    Ok(v) if v["errors"][0]["extensions"]["code"] == "OUT_OF_STOCK" => {
                        sold_out += 1;
                        // Take the sold-out line out so the next round starts clean.
                        let _ = gql(&http, &url, Some(&token), "mutation($v: ID!) { setCartQuantity(input: { variantId: $v, quantity: 0 }) { cart { currency } } }", json!({ "v": variant })).await;
                    }
                    _ => errors += 1,
                }
            }
            (latencies, sold_out, errors)
        })
    });
    let mut latencies = Vec::new();
    let (mut sold_out, mut errors) = (0, 0);
    for task in futures_util::future::join_all(tasks).await {
        let (l, s, e) = task?;
        latencies.extend(l);
        sold_out += s;
        errors += e;
    }
    latencies.sort();
    let negative = variants(&http, &url)
        .await?
        .iter()
        .filter(|v| v.1 < 0)
        .count();
    let placed = latencies.len() as u64;
    println!(
        "  checkouts ({workers} buyers)  {:7.1} orders/s ({} attempts/s)   p50 {:6.1}ms   p99 {:6.1}ms   placed {placed}   sold out {sold_out}   errors {errors}   variants below zero: {negative}",
        placed as f64 / seconds as f64,
        ((placed + sold_out) as f64 / seconds as f64).round(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
    Ok(())
}
