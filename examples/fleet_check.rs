//! The journeys of a marketplace, through a load balancer in front of several Darkhan
//! servers on one PostgreSQL (run by `scripts/fleet`): every request may land on another
//! server, so anything a server kept to itself would show. Prints one line per journey and
//! exits non-zero if any failed.
//!
//!   cargo run --release --example fleet_check -- http://127.0.0.1:18200 \
//!     http://127.0.0.1:18201,http://127.0.0.1:18202,http://127.0.0.1:18203 \
//!     18299 whsec_fleet /tmp/fleet/outbox admin@fleet.mn admin-password-123

use std::{
    path::Path,
    time::{Duration, Instant},
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

mod support;

use support::{Error, buyers, gql, intent, now, signature, stand_in};

struct Fleet {
    http: reqwest::Client,
    /// The load balancer's GraphQL endpoint.
    url: String,
    base: String,
    servers: Vec<String>,
    secret: String,
}

impl Fleet {
    async fn gql(&self, token: Option<&str>, query: &str, vars: Value) -> Result<Value, Error> {
        gql(&self.http, &self.url, token, query, vars).await
    }
}

fn data<'a>(v: &'a Value, field: &str) -> Result<&'a Value, Error> {
    if v.get("errors").is_some() {
        return Err(format!("{field}: {}", v["errors"]).into());
    }
    Ok(&v["data"][field])
}

fn check(ok: bool, what: impl Into<String>) -> Result<(), Error> {
    if ok { Ok(()) } else { Err(what.into().into()) }
}

/// The newest verification link sent to `email`, from the outbox folder every server writes.
async fn verification_token(outbox: &Path, email: &str) -> Result<String, Error> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        for entry in std::fs::read_dir(outbox)?.flatten() {
            let raw = std::fs::read(entry.path())?;
            // A message still being written (it ends with its closing boundary) waits.
            if !raw.trim_ascii_end().ends_with(b"--") {
                continue;
            }
            let Some(message) = mail_parser::MessageParser::default().parse(&raw) else {
                continue;
            };
            let to_them = message
                .to()
                .is_some_and(|a| a.iter().any(|a| a.address() == Some(email)));
            let text = message.body_text(0).unwrap_or_default();
            if let (true, Some(at)) = (to_them, text.find("verify-email?token=")) {
                let token: String = text[at + 19..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                return Ok(token);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("no verification email to {email}").into())
}

struct Shop {
    token: String,
    email: String,
    id: String,
}

async fn artisan(f: &Fleet, outbox: &Path) -> Result<Shop, Error> {
    let email = format!("fleet-{}@example.mn", std::process::id());
    let r = f.gql(None, "mutation($e: String!) { register(input: { email: $e, password: \"fleet-password-123\", displayName: \"Saraa\", role: ARTISAN, country: \"MN\", preferredLanguage: \"mn\", preferredCurrency: \"MNT\" }) { accessToken } }", json!({ "e": email })).await?;
    let token = data(&r, "register")?["accessToken"]
        .as_str()
        .ok_or("no token")?
        .to_owned();
    let verify = verification_token(outbox, &email).await?;
    let r = f
        .gql(
            None,
            "mutation($t: String!) { verifyEmail(input: { token: $t }) { user { emailVerified } } }",
            json!({ "t": verify }),
        )
        .await?;
    check(
        data(&r, "verifyEmail")?["user"]["emailVerified"] == true,
        "not verified",
    )?;
    let slug = format!("fleet{}", std::process::id());
    let r = f.gql(Some(&token), "mutation($s: String!) { createShop(input: { slug: $s, name: \"Fleet Felt\", country: \"MN\", region: \"Khentii\", settlementCurrency: \"MNT\", defaultLanguage: \"mn\", story: [] }) { shop { id } } }", json!({ "s": slug })).await?;
    let id = data(&r, "createShop")?["shop"]["id"]
        .as_str()
        .ok_or("no shop")?
        .to_owned();
    let r = f.gql(Some(&token), "mutation($s: ID!) { saveShippingProfile(input: { shopId: $s, name: \"Parcels\", zones: [{ name: \"World\", firstItem: \"10000\", additionalItem: \"0\", minDays: 5, maxDays: 9 }] }) { profile { id } } }", json!({ "s": id })).await?;
    data(&r, "saveShippingProfile")?;
    Ok(Shop { token, email, id })
}

/// A published product with `stock` units; returns (product id, variant id).
async fn product(
    f: &Fleet,
    shop: &Shop,
    slug: &str,
    stock: i32,
) -> Result<(String, String), Error> {
    let r = f.gql(Some(&shop.token), "mutation($i: CreateProductInput!) { createProduct(input: $i) { product { id variants { id } } } }", json!({ "i": {
        "shopId": shop.id, "slug": slug, "price": "37000",
        "translations": [{ "language": "mn", "title": "Эсгий", "description": "Гар урлал" }, { "language": "en", "title": "Felt", "description": "Handmade" }],
        "variants": [{ "sku": slug.to_uppercase(), "stock": stock }] } })).await?;
    let p = &data(&r, "createProduct")?["product"];
    let id = p["id"].as_str().ok_or("no product")?.to_owned();
    let variant = p["variants"][0]["id"]
        .as_str()
        .ok_or("no variant")?
        .to_owned();
    let r = f
        .gql(
            Some(&shop.token),
            "mutation($id: ID!) { publishProduct(input: { productId: $id }) { product { status } } }",
            json!({ "id": id }),
        )
        .await?;
    data(&r, "publishProduct")?;
    Ok((id, variant))
}

async fn stock(f: &Fleet, product: &str) -> Result<i64, Error> {
    let r = f
        .gql(
            None,
            "query($id: ID!) { product(id: $id) { variants { stock } } }",
            json!({ "id": product }),
        )
        .await?;
    data(&r, "product")?["variants"][0]["stock"]
        .as_i64()
        .ok_or_else(|| "no stock".into())
}

/// Fifty buyers race for five units through the balancer: exactly five orders.
async fn race(f: &Fleet, variant: &str, product: &str) -> Result<Vec<(String, Value)>, Error> {
    let buyers = buyers(&f.http, &f.url, 50, "race").await?;
    let tasks = buyers.into_iter().enumerate().map(|(i, (token, address))| {
        let (http, url, variant) = (f.http.clone(), f.url.clone(), variant.to_owned());
        tokio::spawn(async move {
            let _ = gql(&http, &url, Some(&token), "mutation($v: ID!) { addToCart(input: { variantId: $v, quantity: 1 }) { cart { currency } } }", json!({ "v": variant })).await;
            let r = gql(&http, &url, Some(&token), "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { checkoutId total { amount } orders { id } payment { paymentIntentId } } }",
                json!({ "i": { "addressId": address, "currency": "MNT", "paymentMethod": "CARD", "idempotencyKey": format!("race-{i}") } })).await;
            (token, r)
        })
    });
    let (mut placed, mut sold_out, mut other) = (Vec::new(), 0, Vec::new());
    for task in futures_util::future::join_all(tasks).await {
        let (token, r) = task?;
        let r = r?;
        match r["errors"][0]["extensions"]["code"].as_str() {
            None => placed.push((token, r["data"]["placeOrder"].clone())),
            Some("OUT_OF_STOCK") => sold_out += 1,
            Some(code) => other.push(code.to_owned()),
        }
    }
    check(
        placed.len() == 5 && sold_out == 45 && other.is_empty(),
        format!(
            "{} placed, {sold_out} sold out, others {other:?}",
            placed.len()
        ),
    )?;
    check(stock(f, product).await? == 0, "stock is not 0")?;
    Ok(placed)
}

/// Every payment's webhook, delivered three times to every server at once: each booked once.
async fn webhooks(f: &Fleet, placed: &[(String, Value)], shop: &Shop) -> Result<(), Error> {
    let mut sends = Vec::new();
    for (i, (_, p)) in placed.iter().enumerate() {
        let amount: i64 = p["total"]["amount"]
            .as_str()
            .unwrap_or("0")
            .replace('.', "")
            .parse()
            .unwrap_or(0);
        let object = intent(
            p["payment"]["paymentIntentId"].as_str().unwrap_or(""),
            amount,
            "mnt",
            "succeeded",
            p["checkoutId"].as_str().unwrap_or(""),
        );
        let body = json!({ "id": format!("evt_fleet_{}_{i}", std::process::id()), "object": "event", "created": now(),
            "data": { "object": object }, "livemode": false, "pending_webhooks": 1, "type": "payment_intent.succeeded" }).to_string();
        for server in &f.servers {
            for _ in 0..3 {
                let (http, url, body, secret) = (
                    f.http.clone(),
                    format!("{server}/webhooks/stripe"),
                    body.clone(),
                    f.secret.clone(),
                );
                sends.push(tokio::spawn(async move {
                    http.post(url)
                        .header("stripe-signature", signature(&body, &secret))
                        .body(body)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                }));
            }
        }
    }
    for send in futures_util::future::join_all(sends).await {
        let status = send??;
        check(status < 300, format!("a webhook answered {status}"))?;
    }
    for (token, p) in placed {
        let r = f
            .gql(
                Some(token),
                "query($id: ID!) { order(id: $id) { status } }",
                json!({ "id": p["orders"][0]["id"] }),
            )
            .await?;
        check(
            data(&r, "order")?["status"] == "PAID",
            "an order is not PAID",
        )?;
    }
    let r = f
        .gql(
            Some(&shop.token),
            "{ shopFinances { ledger { kind } } }",
            json!({}),
        )
        .await?;
    let sales = data(&r, "shopFinances")?["ledger"]
        .as_array()
        .map_or(0, |l| l.iter().filter(|e| e["kind"] == "SALE").count());
    check(sales == 5, format!("{sales} sales booked for 5 payments"))
}

/// A buyer subscribed through the balancer hears of a change made through it.
async fn subscription(f: &Fleet, buyer: &str, order: &Value, shop: &Shop) -> Result<(), Error> {
    let ws_url = format!("{}/graphql/ws", f.base.replace("http://", "ws://"));
    let mut request = ws_url.into_client_request()?;
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", "graphql-transport-ws".parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    let send = |v: Value| Message::Text(v.to_string().into());
    ws.send(send(json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {buyer}") } })))
        .await?;
    next_text(&mut ws).await?;
    ws.send(send(json!({ "id": "1", "type": "subscribe", "payload": { "query": "subscription { orderUpdated { status } }" } })))
        .await?;
    ws.send(send(json!({ "type": "ping" }))).await?;
    next_text(&mut ws).await?;
    let started = Instant::now();
    let r = f.gql(Some(&shop.token), "mutation($o: ID!) { markOrderShipped(input: { orderId: $o, carrier: \"DHL\", trackingNumber: \"JD0001\" }) { order { status } } }", json!({ "o": order })).await?;
    data(&r, "markOrderShipped")?;
    let text = tokio::time::timeout(Duration::from_secs(3), next_text(&mut ws))
        .await
        .map_err(|_| "no orderUpdated within 3 s")??;
    check(text.contains("SHIPPED"), format!("unexpected {text}"))?;
    println!(
        "    (orderUpdated arrived {} ms after the change)",
        started.elapsed().as_millis()
    );
    Ok(())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame (pings are skipped).
async fn next_text(ws: &mut Socket) -> Result<String, Error> {
    loop {
        match ws.next().await.ok_or("socket closed")?? {
            Message::Text(t) => return Ok(t.as_str().to_owned()),
            Message::Close(frame) => return Err(format!("closed: {frame:?}").into()),
            _ => continue,
        }
    }
}

/// Five wrong passwords are allowed in all, whichever servers they reach.
async fn throttle(f: &Fleet, email: &str) -> Result<(), Error> {
    let mut codes = Vec::new();
    for _ in 0..6 {
        let r = f.gql(None, "mutation($e: String!) { login(input: { email: $e, password: \"not-the-password\" }) { accessToken } }", json!({ "e": email })).await?;
        codes.push(
            r["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
        );
    }
    check(
        codes[..5].iter().all(|c| c == "UNAUTHENTICATED") && codes[5] == "TOO_MANY_REQUESTS",
        format!("{codes:?}"),
    )
}

/// A price change made through one server is served by every server within a second,
/// although each had the old answer cached.
async fn cache(f: &Fleet, shop: &Shop, product: &str) -> Result<(), Error> {
    let read = || {
        let url = format!(
            "{}?query={}",
            f.url,
            urlencode(&format!(
                "{{ product(id: \"{product}\") {{ price {{ amount }} }} }}"
            ))
        );
        let http = f.http.clone();
        async move {
            let v: Value = http.get(url).send().await?.json().await?;
            Ok::<_, Error>(v["data"]["product"]["price"]["amount"].clone())
        }
    };
    let before = read().await?;
    for _ in 0..5 {
        check(
            read().await? == before,
            "servers disagree before the change",
        )?;
    }
    let r = f.gql(Some(&shop.token), "mutation($id: ID!) { updateProduct(input: { productId: $id, price: \"41000\" }) { product { id } } }", json!({ "id": product })).await?;
    data(&r, "updateProduct")?;
    let changed = Instant::now();
    loop {
        let mut fresh = true;
        for _ in 0..6 {
            fresh &= read().await? != before;
        }
        if fresh {
            println!(
                "    (every server served the new price {} ms after the change)",
                changed.elapsed().as_millis()
            );
            return Ok(());
        }
        check(
            changed.elapsed() < Duration::from_secs(1),
            "a server served the old price after 1 s",
        )?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An unpaid bank-transfer order expires (the servers run with a window of 0 hours) and its
/// stock comes back, swept by whichever server gets there first.
async fn expiry(f: &Fleet, shop: &Shop) -> Result<(), Error> {
    let (product, variant) = product(f, shop, "expiring", 3).await?;
    let buyer = buyers(&f.http, &f.url, 1, "expiry").await?.remove(0);
    f.gql(Some(&buyer.0), "mutation($v: ID!) { addToCart(input: { variantId: $v, quantity: 2 }) { cart { currency } } }", json!({ "v": variant })).await?;
    let r = f.gql(Some(&buyer.0), "mutation($i: PlaceOrderInput!) { placeOrder(input: $i) { orders { id } } }",
        json!({ "i": { "addressId": buyer.1, "currency": "MNT", "paymentMethod": "BANK_TRANSFER", "idempotencyKey": "expiry-1" } })).await?;
    let order = data(&r, "placeOrder")?["orders"][0]["id"].clone();
    check(stock(f, &product).await? == 1, "stock not taken")?;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = f
            .gql(
                Some(&buyer.0),
                "query($id: ID!) { order(id: $id) { status } }",
                json!({ "id": order }),
            )
            .await?;
        if data(&r, "order")?["status"] == "CANCELLED" {
            break;
        }
        check(Instant::now() < deadline, "the order did not expire")?;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    check(stock(f, &product).await? == 3, "stock did not come back")
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    support::tls();
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let base = arg(1, "http://127.0.0.1:18200");
    let servers: Vec<String> = arg(2, "").split(',').map(str::to_owned).collect();
    let stripe_port: u16 = arg(3, "18299").parse()?;
    let secret = arg(4, "whsec_fleet");
    let outbox = std::path::PathBuf::from(arg(5, "data/outbox"));
    stand_in(stripe_port).await?;
    let f = Fleet {
        http: reqwest::Client::new(),
        url: format!("{base}/graphql"),
        base,
        servers,
        secret,
    };
    let mut failed = 0;
    let mut report = |name: &str, result: Result<(), Error>| match result {
        Ok(()) => println!("  PASS  {name}"),
        Err(e) => {
            failed += 1;
            println!("  FAIL  {name}: {e}");
        }
    };

    let shop = match artisan(&f, &outbox).await {
        Ok(shop) => {
            report(
                "an artisan registers, verifies by email and opens a shop",
                Ok(()),
            );
            shop
        }
        Err(e) => {
            report(
                "an artisan registers, verifies by email and opens a shop",
                Err(e),
            );
            std::process::exit(1);
        }
    };
    let (rug, rug_variant) = product(&f, &shop, "rug", 5).await?;
    match race(&f, &rug_variant, &rug).await {
        Ok(placed) => {
            report("50 buyers race for 5 units: 5 orders, 0 oversold", Ok(()));
            report(
                "each payment's webhook, sent 9 times across the servers, is booked once",
                webhooks(&f, &placed, &shop).await,
            );
            report(
                "orderUpdated reaches a subscriber through the balancer",
                subscription(&f, &placed[0].0, &placed[0].1["orders"][0]["id"], &shop).await,
            );
        }
        Err(e) => report("50 buyers race for 5 units: 5 orders, 0 oversold", Err(e)),
    }
    report(
        "the login throttle counts across servers",
        throttle(&f, &shop.email).await,
    );
    report(
        "a catalogue change reaches every server's cache within 1 s",
        cache(&f, &shop, &rug).await,
    );
    report(
        "unpaid orders expire and their stock returns",
        expiry(&f, &shop).await,
    );
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
