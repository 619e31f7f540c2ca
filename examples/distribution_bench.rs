//! Distribution benchmark, run by `scripts/distribution-bench` on the demo catalogue (50
//! shops, 2,000 products):
//!
//! - `generate <database-url> [views] [orders]`: a year of analytics: `views` view events
//!   (default 1,000,000) written as stored events and rolled up through `darkhan::rollups`,
//!   and `orders` paid orders (default 100,000) rolled up as the orders domain books them.
//!   Orders are generated as their rollup rows only: what analytics queries read.
//! - `measure <base-url> <seconds>`: `shopAnalytics` latency for the busiest shop over 30
//!   days, a year by day and two years by week; the Google feed for Germany (2,000 products):
//!   time to first byte, full download, and a revalidation; and what counting views costs a
//!   product page: pages per second with and without `countView`.

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use darkhan::{
    entities::{analytics_events, products, shops},
    rollups::{self, Counts, Event, Key},
};
use sea_orm::{Database, EntityTrait, PaginatorTrait, QueryOrder};
use serde_json::json;
use uuid::Uuid;

mod support;

use support::{Error, gql, percentile};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const COUNTRIES: [&str; 8] = ["DE", "US", "JP", "KR", "FR", "GB", "MN", ""];
const CHANNELS: [&str; 5] = ["direct", "instagram", "google", "facebook", "t.co"];

async fn generate(url: &str, views: u64, orders: u64) -> Result<(), Error> {
    let db = Database::connect(url).await?;
    let products = products::Entity::find()
        .order_by_asc(products::Column::Id)
        .all(&db)
        .await?;
    if products.is_empty() {
        return Err("no products: seed the demo catalogue first".into());
    }
    let shop_count = shops::Entity::find().all(&db).await?.len();
    let today = Utc::now().date_naive();
    let mut rng = Lcg(14);
    // Skewed towards the first products (and so the first shops), as real traffic is.
    let pick = |rng: &mut Lcg| {
        let a = rng.below(products.len() as u64);
        let b = rng.below(products.len() as u64);
        &products[a.min(b) as usize]
    };
    let day = |rng: &mut Lcg| today - chrono::Duration::days(rng.below(365) as i64);
    let started = Instant::now();
    let batch = 2_000u64;
    let mut written = 0;
    while written < views {
        let n = batch.min(views - written);
        let mut events = Vec::with_capacity(n as usize);
        let mut rows = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let p = pick(&mut rng);
            let key = Key {
                shop_id: p.shop_id,
                product_id: p.id,
                day: day(&mut rng),
                country: COUNTRIES[rng.below(8) as usize].to_owned(),
                channel: CHANNELS[rng.below(5) as usize].to_owned(),
            };
            let event = if rng.below(10) == 0 {
                Event::AddToCart
            } else {
                Event::View
            };
            events.push(sea_orm::IntoActiveModel::into_active_model(
                analytics_events::Model {
                    id: Uuid::now_v7(),
                    kind: event.as_str().to_owned(),
                    shop_id: key.shop_id,
                    product_id: key.product_id,
                    day: rollups::day_text(key.day),
                    country: key.country.clone(),
                    channel: key.channel.clone(),
                    count: 1,
                    recorded_at: Utc::now(),
                },
            ));
            rows.push((key, event.counts(1)));
        }
        for chunk in events.chunks(500) {
            analytics_events::Entity::insert_many(chunk.to_vec())
                .exec(&db)
                .await?;
        }
        rollups::add(&db, rows)
            .await
            .map_err(|e| format!("writing rollups: {e:?}"))?;
        written += n;
    }
    println!(
        "  {views} view events over {} products of {shop_count} shops in {:.0} s",
        products.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let mut written = 0;
    while written < orders {
        let n = batch.min(orders - written);
        let mut rows = Vec::with_capacity(2 * n as usize);
        for _ in 0..n {
            let p = pick(&mut rng);
            let key = |product_id| Key {
                shop_id: p.shop_id,
                product_id,
                day: today - chrono::Duration::days((p.price_minor as u64 % 365) as i64),
                country: COUNTRIES[(p.price_minor as u64 % 7) as usize].to_owned(),
                channel: CHANNELS[(p.price_minor as u64 % 5) as usize].to_owned(),
            };
            let units = 1 + rng.below(3) as i64;
            rows.push((
                key(Uuid::nil()),
                Counts {
                    orders: 1,
                    revenue_minor: p.price_minor * units + 4_000_000,
                    ..Counts::default()
                },
            ));
            rows.push((
                key(p.id),
                Counts {
                    product_orders: 1,
                    units,
                    product_revenue_minor: p.price_minor * units,
                    ..Counts::default()
                },
            ));
        }
        rollups::add(&db, rows)
            .await
            .map_err(|e| format!("writing rollups: {e:?}"))?;
        written += n;
    }
    let rollup_rows = darkhan::entities::analytics_daily::Entity::find()
        .count(&db)
        .await?;
    println!(
        "  {orders} paid orders in {:.0} s; {rollup_rows} rollup rows",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn timed(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    vars: serde_json::Value,
    runs: usize,
) -> Result<Vec<Duration>, Error> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        let r = gql(http, url, Some(token), query, vars.clone()).await?;
        if r.get("errors").is_some() {
            return Err(format!("query failed: {r}").into());
        }
        times.push(started.elapsed());
    }
    times.sort();
    Ok(times)
}

/// Product pages per second for `seconds` from 32 clients (the response cache is off), the
/// page's read counting its view or not.
async fn pages_per_second(base: &str, counted: bool, seconds: u64) -> Result<f64, Error> {
    let count = if counted {
        ", countView: { country: \"DE\" }"
    } else {
        ""
    };
    let query = format!(
        "{{ product(shopSlug: \"khentii-1\", slug: \"morin-khuur-37\", language: \"en\", currency: \"USD\"{count}) {{ id title description price {{ amount currencyCode }} variants {{ sku stock price {{ amount }} }} images {{ url }} }} }}"
    );
    let page = reqwest::Url::parse_with_params(&format!("{base}/graphql"), [("query", query)])?;
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let http = reqwest::Client::new();
        let page = page.clone();
        tasks.push(tokio::spawn(async move {
            let mut pages = 0u64;
            while Instant::now() < until {
                let ok = http
                    .get(page.clone())
                    .header("user-agent", "Mozilla/5.0 (bench)")
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                if ok {
                    pages += 1;
                }
            }
            pages
        }));
    }
    let mut total = 0;
    for t in tasks {
        total += t.await?;
    }
    Ok(total as f64 / seconds as f64)
}

async fn measure(base: &str, seconds: u64) -> Result<(), Error> {
    let http = reqwest::Client::new();
    let url = format!("{base}/graphql");
    let r = gql(&http, &url, None, "mutation { login(input: { email: \"artisan1@demo.darkhan.mn\", password: \"darkhan-demo-password\" }) { accessToken } }", json!({})).await?;
    let token = r["data"]["login"]["accessToken"]
        .as_str()
        .ok_or_else(|| format!("demo login failed: {r}"))?
        .to_owned();
    let r = gql(&http, &url, Some(&token), "{ myShop { id } }", json!({})).await?;
    let shop = r["data"]["myShop"]["id"]
        .as_str()
        .ok_or_else(|| format!("no shop: {r}"))?
        .to_owned();
    let today = Utc::now().date_naive();
    let q = "query($s: ID!, $from: NaiveDate!, $to: NaiveDate!, $g: AnalyticsGranularity) { shopAnalytics(shopId: $s, from: $from, to: $to, granularity: $g) {
        totals { views addToCarts orders units revenue { amount } conversionRate } previous { views orders }
        series { start figures { views orders revenue { amount } } }
        byCountry { key figures { views orders } } byChannel { key figures { views orders } }
        topProducts { product { slug } figures { units revenue { amount } } } } }";
    let day = |n: i64| -> NaiveDate { today - chrono::Duration::days(n) };
    for (label, from, g) in [
        ("30 days by day", day(29), "DAY"),
        ("a year by day", day(364), "DAY"),
        ("two years by week", day(729), "WEEK"),
    ] {
        let vars = json!({ "s": shop, "from": from.to_string(), "to": today.to_string(), "g": g });
        let times = timed(&http, &url, &token, q, vars, 40).await?;
        println!(
            "  shopAnalytics, {label:<18} p50 {:6.1} ms   p99 {:6.1} ms",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }

    let feed = format!("{base}/feeds/google/DE/en.xml");
    let mut first = Vec::new();
    let mut whole = Vec::new();
    let mut bytes = 0;
    let mut etag = String::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut res = http.get(&feed).send().await?;
        etag = res
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let mut n = 0;
        let mut seen_first = false;
        while let Some(chunk) = res.chunk().await? {
            if !seen_first {
                first.push(started.elapsed());
                seen_first = true;
            }
            n += chunk.len();
        }
        whole.push(started.elapsed());
        bytes = n;
    }
    first.sort();
    whole.sort();
    let items = {
        let body = http.get(&feed).send().await?.text().await?;
        body.matches("<item>").count()
    };
    let started = Instant::now();
    let status = http
        .get(&feed)
        .header("if-none-match", &etag)
        .send()
        .await?
        .status();
    println!(
        "  Google feed DE/en: {items} items, {} KB; first byte p50 {:.1} ms, whole feed p50 {:.1} ms; revalidation {} in {:.1} ms",
        bytes / 1024,
        percentile(&first, 0.5),
        percentile(&whole, 0.5),
        status.as_u16(),
        started.elapsed().as_secs_f64() * 1000.0
    );

    let alone = pages_per_second(base, false, seconds).await?;
    let counted = pages_per_second(base, true, seconds).await?;
    println!(
        "  product pages/s: {alone:.0} not counted, {counted:.0} counting their views ({:+.1} %)",
        (counted / alone - 1.0) * 100.0
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    support::tls();
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    match arg(1, "").as_str() {
        "generate" => {
            generate(
                &arg(2, "sqlite://data/bench.db"),
                arg(3, "1000000").parse()?,
                arg(4, "100000").parse()?,
            )
            .await
        }
        "measure" => measure(&arg(2, "http://127.0.0.1:18090"), arg(3, "10").parse()?).await,
        _ => Err("usage: distribution_bench generate <db-url> [views] [orders] | measure <base-url> [seconds]".into()),
    }
}
