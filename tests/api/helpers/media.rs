//! Photos as phones make them (EXIF orientation, a GPS position, an XMP packet), uploads as
//! web and mobile clients send them, a real S3-compatible server (moto), and checks that
//! what is published carries no metadata.

use std::{io::Cursor, path::Path, time::Duration};

use serde_json::{Value, json};

use super::{Reply, TestApp, mail::free_port, reply};

pub const UPLOAD: &str = "mutation($input: UploadImageInput!) { uploadImage(input: $input) { photo { id purpose status storedBytes sourceFormat image { photoId url(width: 300) srcset placeholder dominantColor width height } } } }";

/// Where a phone was when it took the photo: the artisan's workshop, which must not leak.
pub const LATITUDE: [u32; 3] = [47, 55, 12];

/// A JPEG `width`×`height` (as stored), left half red and right half blue, whose EXIF says
/// "rotate 90° clockwise to view" and carries a GPS position, followed by an XMP packet.
pub fn phone_jpeg(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        // Some texture, so the encoders have something to do.
        let n = ((x * 7 + y * 13) % 16) as u8;
        if x < width / 2 {
            image::Rgb([230 - n, 20 + n, 20])
        } else {
            image::Rgb([20, 20 + n, 230 - n])
        }
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
        .encode_image(&picture)
        .expect("jpeg");
    let mut segments = app1(&[b"Exif\0\0".as_slice(), &exif_tiff()].concat());
    segments.extend(app1(
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><exif:GPSLatitude>47,55.2N</exif:GPSLatitude></x:xmpmeta>",
    ));
    jpeg.splice(2..2, segments);
    jpeg
}

fn app1(payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xE1];
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A big-endian TIFF: IFD0 with Orientation = 6 and a pointer to a GPS IFD holding
/// latitude and longitude.
fn exif_tiff() -> Vec<u8> {
    let mut t = b"MM\0\x2a\0\0\0\x08".to_vec();
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&kind.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    // IFD0 at 8: two entries (2 + 2×12 + 4 = 30 bytes), so the GPS IFD starts at 38.
    t.extend_from_slice(&2u16.to_be_bytes());
    entry(&mut t, 0x0112, 3, 1, [0, 6, 0, 0]);
    entry(&mut t, 0x8825, 4, 1, 38u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD at 38: four entries (2 + 4×12 + 4 = 54 bytes); rationals follow at 92.
    t.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, [b'N', 0, 0, 0]);
    entry(&mut t, 0x0002, 5, 3, 92u32.to_be_bytes());
    entry(&mut t, 0x0003, 2, 2, [b'E', 0, 0, 0]);
    entry(&mut t, 0x0004, 5, 3, 116u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    for value in LATITUDE.into_iter().chain([106, 55, 3]) {
        t.extend_from_slice(&value.to_be_bytes());
        t.extend_from_slice(&1u32.to_be_bytes());
    }
    t
}

/// A plain PNG.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_pixel(width, height, image::Rgb([40, 120, 60]))
        .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .expect("png");
    out
}

/// Whether a published file still carries metadata: EXIF or XMP anywhere, an APP1 segment
/// before a JPEG's image data, or an EXIF or XMP chunk in a WebP.
pub fn carries_metadata(bytes: &[u8]) -> bool {
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    if has(b"Exif\0\0") || has(b"xmpmeta") || has(b"http://ns.adobe.com/xap") {
        return true;
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        let mut at = 2;
        while at + 4 <= bytes.len() && bytes[at] == 0xFF {
            let marker = bytes[at + 1];
            if marker == 0xDA {
                break;
            }
            if marker == 0xE1 {
                return true;
            }
            at += 2 + u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        }
    }
    if bytes.starts_with(b"RIFF") {
        let mut at = 12;
        while at + 8 <= bytes.len() {
            let id = &bytes[at..at + 4];
            if id == b"EXIF" || id == b"XMP " {
                return true;
            }
            let size =
                u32::from_le_bytes([bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]])
                    as usize;
            at += 8 + size + size % 2;
        }
    }
    false
}

/// One file part of a multipart request.
pub struct FilePart {
    pub name: &'static str,
    pub filename: &'static str,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl TestApp {
    /// Sends a GraphQL multipart request as Apollo's upload link does.
    pub async fn multipart(
        &self,
        token: Option<&str>,
        operations: Value,
        map: Value,
        files: Vec<FilePart>,
        preflight: bool,
    ) -> Reply {
        let mut form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", map.to_string());
        for file in files {
            let part = reqwest::multipart::Part::bytes(file.bytes)
                .file_name(file.filename)
                .mime_str(file.content_type)
                .expect("mime");
            form = form.part(file.name, part);
        }
        let mut req = self
            .http
            .post(self.url("/graphql"))
            .header("accept", "application/graphql-response+json")
            .multipart(form);
        if preflight {
            req = req.header("apollo-require-preflight", "true");
        }
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        reply(req.send().await.expect("request")).await
    }

    /// Uploads one photo for a shop through `uploadImage`.
    pub async fn upload_photo(
        &self,
        token: &str,
        shop: &str,
        purpose: &str,
        filename: &'static str,
        bytes: Vec<u8>,
    ) -> Reply {
        self.multipart(
            Some(token),
            json!({ "query": UPLOAD, "variables": { "input": { "shopId": shop, "purpose": purpose, "file": null } } }),
            json!({ "0": ["variables.input.file"] }),
            vec![FilePart {
                name: "0",
                filename,
                content_type: "image/jpeg",
                bytes,
            }],
            true,
        )
        .await
    }

    /// GETs a rendition by the path of its public address.
    pub async fn media(&self, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
        let path = &url[url.find("/media/").expect("a /media address")..];
        let mut req = self.http.get(self.url(path));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.expect("media request")
    }

    /// Every file under this server's local media folder.
    pub fn stored_files(&self) -> Vec<std::path::PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
            if let Ok(entries) = std::fs::read_dir(dir) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        walk(&path, out);
                    } else {
                        out.push(path);
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(self.media_dir.path(), &mut out);
        out
    }
}

/// A real S3-compatible server (moto in server mode) with one bucket, stopped on drop.
pub struct S3Server {
    child: std::process::Child,
    pub endpoint: String,
    pub bucket: &'static str,
}

impl S3Server {
    pub async fn start() -> Self {
        // This client may be the first of the process: give reqwest its TLS provider.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port();
        let python = std::env::var("DARKHAN_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let child = std::process::Command::new(python)
            .args([
                "-m",
                "moto.server",
                "-H",
                "127.0.0.1",
                "-p",
                &port.to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python -m moto.server (pip install 'moto[server]')");
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let bucket = "darkhan-test";
        // moto accepts an unsigned bucket creation.
        loop {
            match http.put(format!("{endpoint}/{bucket}")).send().await {
                Ok(r) if r.status().is_success() => break,
                _ => {
                    assert!(
                        tokio::time::Instant::now() < deadline,
                        "moto did not start on {port}"
                    );
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        Self {
            child,
            endpoint,
            bucket,
        }
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
