//! Card-payment benchmark, run by `scripts/bench` against a server on the demo catalogue
//! whose Stripe API base points at the stand-in this program serves (it answers PaymentIntent
//! creation only, like Stripe would, instantly). Phase one: buyers place CARD checkouts for a
//! fixed time (`placeOrder` including the PaymentIntent round trip). Phase two: every
//! checkout's `payment_intent.succeeded` is sent, signed as Stripe signs, concurrently, and
//! each must answer "processed" (orders PAID, ledger written). Prints rates and latencies.
//!
//!   cargo run --release --example payment_bench -- http://127.0.0.1:18088/graphql 32 10 18099 whsec_bench

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

mod support;

use support::{Error, buyers, gql, intent, now, percentile, signature, stand_in};

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
    let port: u16 = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(18099);
    let secret = args.get(5).cloned().unwrap_or_else(|| "whsec_bench".into());
    stand_in(port).await?;
    let http = reqwest::Client::new();
    let hook = url.replace("/graphql", "/webhooks/stripe");

    // Variants in stock from the newest 500 products.
    let (mut stocked, mut after) = (Vec::<String>::new(), Value::Null);
    for _ in 0..5 {
        let query = "query($a: String) { products(first: 100, after: $a) { pageInfo { endCursor } edges { node { variants { id stock } } } } }";
        let r = gql(&http, &url, None, query, json!({ "a": after })).await?;
        let page = &r["data"]["products"];
        for edge in page["edges"].as_array().cloned().unwrap_or_default() {
            for v in edge["node"]["variants"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                if v["stock"].as_i64().unwrap_or(0) > 0 {
                    stocked.extend(v["id"].as_str().map(str::to_owned));
                }
            }
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let buyers = buyers(&http, &url, workers, "pay").await?;

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let tasks = buyers.into_iter().enumerate().map(|(w, (token, address))| {
        let (http, url, stocked) = (http.clone(), url.clone(), stocked.clone());
        tokio::spawn(async move {
            let (mut placed, mut latencies, mut sold_out, mut errors) =
                (Vec::new(), Vec::new(), 0u64, 0u64);
            let mut n = 0usize;
            while Instant::now() < deadline && !stocked.is_empty() {
                let variant = &stocked[(w * 997 + n * 31) % stocked.len()];
                n += 1;
                let _ = gql(&http, &url, Some(&token), "mutation($v: ID!) { setCartQuantity(input: { variantId: $v, quantity: 1 }) { cart { currency } } }", json!({ "v": variant })).await;
                let started = Instant::now();
                let r = gql(&http, &url, Some(&token), "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { checkoutId total { amount } payment { paymentIntentId } } }", json!({ "i": { "addressId": address, "currency": "EUR", "paymentMethod": "CARD", "idempotencyKey": format!("p{w}-{n}") } })).await;
                let took = started.elapsed();
                match r {
                    Ok(v) if v["data"]["placeOrder"]["payment"]["paymentIntentId"].is_string() => {
                        latencies.push(took);
                        placed.push(v["data"]["placeOrder"].clone());
                    }
                    other => {
                        let code = other.ok().map(|v| v["errors"][0]["extensions"]["code"].clone());
                        if code == Some(json!("OUT_OF_STOCK")) {
                            sold_out += 1;
                        } else {
                            errors += 1;
                        }
                        let _ = gql(&http, &url, Some(&token), "mutation($v: ID!) { setCartQuantity(input: { variantId: $v, quantity: 0 }) { cart { currency } } }", json!({ "v": variant })).await;
                    }
                }
            }
            (placed, latencies, sold_out, errors)
        })
    });
    let (mut placed, mut latencies, mut sold_out, mut errors) = (Vec::new(), Vec::new(), 0, 0);
    for task in futures_util::future::join_all(tasks).await {
        let (p, l, s, e) = task?;
        placed.extend(p);
        latencies.extend(l);
        sold_out += s;
        errors += e;
    }
    latencies.sort();
    println!(
        "  card checkouts ({workers} buyers)  {:7.1} /s   p50 {:6.1}ms   p99 {:6.1}ms   placed {}   sold out {sold_out}   errors {errors}",
        placed.len() as f64 / seconds as f64,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        placed.len(),
    );

    // Phase two: Stripe says every one of them succeeded.
    let bodies: Vec<String> = placed
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let amount: i64 = p["total"]["amount"].as_str().unwrap_or("0").replace('.', "").parse().unwrap_or(0);
            let object = intent(p["payment"]["paymentIntentId"].as_str().unwrap_or(""), amount, "eur", "succeeded", p["checkoutId"].as_str().unwrap_or(""));
            json!({ "id": format!("evt_bench_{}_{i}", std::process::id()), "object": "event", "created": now(),
                "data": { "object": object }, "livemode": false, "pending_webhooks": 1, "type": "payment_intent.succeeded" }).to_string()
        })
        .collect();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let started = Instant::now();
    let senders = (0..workers).map(|_| {
        let (http, hook, secret, queue) =
            (http.clone(), hook.clone(), secret.clone(), queue.clone());
        tokio::spawn(async move {
            let (mut latencies, mut failed) = (Vec::new(), 0u64);
            while let Some(body) = queue.lock().ok().and_then(|mut q| q.pop()) {
                let t = Instant::now();
                let r = http
                    .post(&hook)
                    .header("stripe-signature", signature(&body, &secret))
                    .body(body)
                    .send()
                    .await;
                // Each must have paid its orders: "processed", not "ignored" or an error.
                let text = match r {
                    Ok(res) if res.status().is_success() => res.text().await.unwrap_or_default(),
                    _ => String::new(),
                };
                if text.contains("processed") {
                    latencies.push(t.elapsed());
                } else {
                    failed += 1;
                }
            }
            (latencies, failed)
        })
    });
    let (mut hooks, mut failed) = (Vec::new(), 0);
    for task in futures_util::future::join_all(senders).await {
        let (l, f) = task?;
        hooks.extend(l);
        failed += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    hooks.sort();
    println!(
        "  payment_intent.succeeded webhooks  {:7.1} /s   p50 {:6.1}ms   p99 {:6.1}ms   sent {}   failed {failed}",
        hooks.len() as f64 / elapsed,
        percentile(&hooks, 0.50),
        percentile(&hooks, 0.99),
        hooks.len(),
    );
    Ok(())
}
