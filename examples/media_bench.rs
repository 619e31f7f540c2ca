//! Photo benchmark, run by `scripts/media-bench`:
//!
//! 1. `process FILE`: one 12-megapixel phone photo through the whole pipeline (checks, decode,
//!    orientation, every rendition in WebP and JPEG, placeholder, colour) on this thread, and
//!    this process's peak RSS (run in a fresh process so the peak is the pipeline's).
//! 2. `uploads URL CLIENTS SECONDS FILE`: signs up an artisan with a shop and uploads FILE
//!    through GraphQL multipart from CLIENTS concurrent clients for SECONDS; prints uploads/s
//!    and latency, then the address of a rendition of about 50 KB for `wrk`.
//! 3. `make FILE`: writes a 4000×3000 test photo (texture and noise, so it compresses like a
//!    photograph, with an EXIF block).
//!
//!   cargo run --release --example media_bench -- process photo.jpg

use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;

use support::{Error, gql, percentile};

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn make(path: &str) -> Result<(), Error> {
    let mut seed: u32 = 0x9E37_79B9;
    let picture = image::RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 24) as i32 - 12;
        let wave = (((x as f32 / 37.0).sin() + (y as f32 / 23.0).cos()) * 40.0) as i32;
        let c = |base: i32| (base + wave + noise).clamp(0, 255) as u8;
        image::Rgb([
            c(150 + (x / 40) as i32 % 60),
            c(90 + (y / 50) as i32 % 50),
            c(60),
        ])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 88).encode_image(&picture)?;
    // An EXIF block with orientation 6, as a phone held upright writes.
    let tiff = b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0";
    let mut segment = vec![0xFF, 0xE1];
    segment.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(tiff);
    jpeg.splice(2..2, segment);
    std::fs::write(path, &jpeg)?;
    println!("wrote {path}: {} KB", jpeg.len() / 1024);
    Ok(())
}

fn process(path: &str) -> Result<(), Error> {
    use darkhan::media::{inspect, process};
    let bytes = std::fs::read(path)?;
    let before = peak_rss_mb();
    let limits = inspect::Limits {
        max_bytes: 20 << 20,
        max_pixels: 50_000_000,
    };
    let plan = process::Plan {
        widths: vec![160, 480, 960, 1600],
        jpeg_quality: 82,
        webp_quality: 80.0,
    };
    let mut times = Vec::new();
    let mut out_bytes = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let header = inspect::inspect(&bytes, &limits).map_err(|e| e.message())?;
        let done = process::process(&bytes, header, &plan).map_err(|e| e.message())?;
        times.push(started.elapsed());
        out_bytes = done.renditions.iter().map(|r| r.bytes.len()).sum::<usize>();
    }
    times.sort();
    println!(
        "12 MP JPEG ({} KB) to 4 widths × WebP+JPEG, placeholder and colour, one thread: best {:.0} ms, median {:.0} ms; renditions {} KB; peak RSS {:.0} MB (before processing {:.0} MB)",
        bytes.len() / 1024,
        times[0].as_secs_f64() * 1000.0,
        times[1].as_secs_f64() * 1000.0,
        out_bytes / 1024,
        peak_rss_mb(),
        before
    );
    Ok(())
}

async fn uploads(url: &str, clients: usize, seconds: u64, path: &str) -> Result<(), Error> {
    let http = reqwest::Client::new();
    let email = format!("bench-media-{}@example.mn", std::process::id());
    let r = gql(&http, url, None, "mutation($e: String!) { register(input: { email: $e, password: \"bench-password-123\", displayName: \"Bench\", role: ARTISAN, country: \"MN\", preferredLanguage: \"mn\", preferredCurrency: \"MNT\" }) { accessToken } }", json!({ "e": email })).await?;
    let token = r["data"]["register"]["accessToken"]
        .as_str()
        .ok_or("register failed")?
        .to_owned();
    let slug = format!("bench-media-{}", std::process::id());
    let r = gql(&http, url, Some(&token), "mutation($s: String!) { createShop(input: { slug: $s, name: \"Bench\", country: \"MN\", region: \"Ulaanbaatar\", settlementCurrency: \"MNT\", defaultLanguage: \"mn\", story: [] }) { shop { id } } }", json!({ "s": slug })).await?;
    let shop = r["data"]["createShop"]["shop"]["id"]
        .as_str()
        .ok_or_else(|| format!("createShop failed: {r}"))?
        .to_owned();
    let file = std::fs::read(path)?;
    let query = "mutation($input: UploadImageInput!) { uploadImage(input: $input) { photo { id storedBytes image { srcset } } } }";
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks = (0..clients).map(|_| {
        let (http, url, token, shop, file) = (
            http.clone(),
            url.to_owned(),
            token.clone(),
            shop.clone(),
            file.clone(),
        );
        tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut busy = 0u64;
            let mut last: Option<Value> = None;
            while Instant::now() < deadline {
                let operations = json!({ "query": query, "variables": { "input": { "shopId": shop, "purpose": "PRODUCT", "file": null } } });
                let form = reqwest::multipart::Form::new()
                    .text("operations", operations.to_string())
                    .text("map", r#"{"0":["variables.input.file"]}"#)
                    .part(
                        "0",
                        reqwest::multipart::Part::bytes(file.clone()).file_name("photo.jpg"),
                    );
                let t = Instant::now();
                let r: Value = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("apollo-require-preflight", "true")
                    .multipart(form)
                    .send()
                    .await?
                    .json()
                    .await?;
                if r["errors"][0]["extensions"]["code"] == "TOO_MANY_REQUESTS" {
                    busy += 1;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                if r.get("errors").is_some() {
                    return Err(format!("upload failed: {r}").into());
                }
                latencies.push(t.elapsed());
                last = Some(r);
            }
            Ok::<_, Error>((latencies, busy, last))
        })
    });
    let mut latencies = Vec::new();
    let mut busy = 0;
    let mut sample = None;
    for task in futures_util::future::join_all(tasks).await {
        let (l, b, last) = task??;
        latencies.extend(l);
        busy += b;
        sample = sample.or(last);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    println!(
        "uploads ({} KB each, {clients} clients): {:.2}/s, p50 {:.0} ms, p99 {:.0} ms, {} told to retry later",
        file.len() / 1024,
        latencies.len() as f64 / elapsed,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        busy
    );
    // The rendition nearest 50 KB, for the serving benchmark.
    let srcset = sample
        .as_ref()
        .and_then(|r| r["data"]["uploadImage"]["photo"]["image"]["srcset"].as_str())
        .unwrap_or_default()
        .to_owned();
    let mut best: Option<(u64, String)> = None;
    for candidate in srcset.split(", ") {
        let Some(address) = candidate.split(' ').next() else {
            continue;
        };
        for address in [address.to_owned(), address.replace(".webp", ".jpg")] {
            let size = http.get(&address).send().await?.bytes().await?.len() as u64;
            let distance = size.abs_diff(50_000);
            if best.as_ref().is_none_or(|(d, _)| distance < *d) {
                best = Some((distance, address));
            }
        }
    }
    if let Some((_, address)) = best {
        let size = http.get(&address).send().await?.bytes().await?.len();
        println!("RENDITION {address} {size}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    support::tls();
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("make") => make(args.get(2).ok_or("make FILE")?),
        Some("process") => process(args.get(2).ok_or("process FILE")?),
        Some("uploads") => {
            let url = args.get(2).ok_or("uploads URL CLIENTS SECONDS FILE")?;
            let clients = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(4);
            let seconds = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(10);
            uploads(url, clients, seconds, args.get(5).ok_or("FILE")?).await
        }
        _ => Err(
            "usage: media_bench make FILE | process FILE | uploads URL CLIENTS SECONDS FILE".into(),
        ),
    }
}
