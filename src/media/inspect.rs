//! What an uploaded file is, judged by its bytes alone (never its name or declared type),
//! and whether it may be decoded: format, still or animated, and the size its header
//! declares, all read before a single pixel is decoded.

use std::io::Cursor;

use image::{ImageFormat, ImageReader};

use crate::error::{AppError, AppResult};

/// The formats accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Jpeg,
    Png,
    WebP,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::WebP => "WEBP",
        }
    }

    fn image_format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::WebP => ImageFormat::WebP,
        }
    }
}

/// The limits a file is checked against.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub max_pixels: u64,
}

/// The shortest side a photo may have, and how much longer than wide (or wide than long) it
/// may be: a 1×100,000 strip is no photo and would make absurd renditions.
pub const MIN_SIDE: u32 = 16;
pub const MAX_ASPECT: u32 = 10;

/// What the header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub format: Format,
    pub width: u32,
    pub height: u32,
}

pub(super) fn unsupported(message: impl Into<String>) -> AppError {
    AppError::refused("UNSUPPORTED_MEDIA", message).with_detail("field", "file")
}

pub(super) fn damaged() -> AppError {
    AppError::refused(
        "INVALID_IMAGE",
        "the image is damaged or incomplete; upload the file again",
    )
    .with_detail("field", "file")
}

/// The error for a file over the size limit.
pub fn too_big(limit: u64) -> AppError {
    AppError::refused(
        "PAYLOAD_TOO_LARGE",
        format!(
            "the file is larger than {} MB",
            limit.div_ceil(1024 * 1024).max(1)
        ),
    )
    .with_detail("field", "file")
    .with_detail("maxBytes", limit)
}

const ACCEPTED: &str = "upload a JPEG, PNG or WebP photo";

/// The format, by the file's first bytes.
pub fn sniff(bytes: &[u8]) -> AppResult<Format> {
    if bytes.is_empty() {
        return Err(
            AppError::refused("INVALID_IMAGE", "the file is empty").with_detail("field", "file")
        );
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(Format::WebP);
    }
    if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        return Err(unsupported(format!(
            "GIF files are not accepted; {ACCEPTED}"
        )));
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        let brand = &bytes[8..12];
        if [
            b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis",
        ]
        .iter()
        .any(|b| brand == *b)
        {
            return Err(unsupported(
                "HEIC photos cannot be read yet; export the photo as JPEG (on an iPhone: \
                 Settings › Camera › Formats › Most Compatible, or share it as JPEG) and upload \
                 that",
            ));
        }
        if brand == b"avif" || brand == b"avis" {
            return Err(unsupported(format!(
                "AVIF files are not accepted; {ACCEPTED}"
            )));
        }
    }
    let what = if bytes.starts_with(b"%PDF") {
        "a PDF document"
    } else if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        "a ZIP archive"
    } else {
        "not an image we can read"
    };
    Err(unsupported(format!("the file is {what}; {ACCEPTED}")))
}

/// Whether a still format holds an animation: an animated WebP (VP8X with its animation
/// flag) or an animated PNG (an `acTL` chunk before the image data). Animations are refused,
/// not cut to their first frame: the seller should choose the picture buyers see.
fn animated(format: Format, bytes: &[u8]) -> bool {
    match format {
        Format::Jpeg => false,
        Format::WebP => bytes.len() > 20 && &bytes[12..16] == b"VP8X" && bytes[20] & 0x02 != 0,
        Format::Png => {
            let mut at = 8;
            while at + 8 <= bytes.len() {
                let length =
                    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
                        as usize;
                match &bytes[at + 4..at + 8] {
                    b"acTL" => return true,
                    b"IDAT" | b"IEND" => return false,
                    _ => {}
                }
                at = at.saturating_add(12).saturating_add(length);
            }
            false
        }
    }
}

/// Whether a JPEG reaches its end-of-image marker after its first scan. Decoders fill what a
/// cut-off file lacks with grey and say nothing; an upload interrupted halfway must not be
/// published like that. (An embedded EXIF thumbnail has its own end marker, but it comes
/// before the first scan.)
fn jpeg_complete(bytes: &[u8]) -> bool {
    let mut at = 2;
    // Walk the segments up to the first scan.
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        if marker == 0xFF {
            at += 1;
            continue;
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        if marker == 0xDA {
            let data = &bytes[(at + 2 + length).min(bytes.len())..];
            return data.windows(2).any(|w| w == [0xFF, 0xD9]);
        }
        at += 2 + length;
    }
    false
}

/// Checks a whole file against the limits from its header, without decoding it.
pub fn inspect(bytes: &[u8], limits: &Limits) -> AppResult<Header> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(too_big(limits.max_bytes));
    }
    let format = sniff(bytes)?;
    if animated(format, bytes) {
        return Err(unsupported(
            "animated images are not accepted; upload a still photo",
        ));
    }
    if format == Format::Jpeg && !jpeg_complete(bytes) {
        return Err(damaged());
    }
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format.image_format())
        .into_dimensions()
        .map_err(|_| damaged())?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(AppError::refused(
            "IMAGE_TOO_LARGE",
            format!(
                "the image is {width}×{height} pixels; at most {} megapixels are accepted",
                limits.max_pixels / 1_000_000
            ),
        )
        .with_detail("field", "file"));
    }
    let (short, long) = (width.min(height), width.max(height));
    if short < MIN_SIDE || long > short.saturating_mul(MAX_ASPECT) {
        return Err(AppError::refused(
            "INVALID_IMAGE",
            format!(
                "the image is {width}×{height} pixels; a photo needs at least {MIN_SIDE} pixels \
                 on each side and at most a {MAX_ASPECT}:1 ratio"
            ),
        )
        .with_detail("field", "file"));
    }
    Ok(Header {
        format,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_bytes: 1 << 20,
        max_pixels: 50_000_000,
    };

    fn code(result: AppResult<impl std::fmt::Debug>) -> &'static str {
        result.expect_err("refused").code()
    }

    fn png(width: u32, height: u32) -> Vec<u8> {
        let mut out = Vec::new();
        image::RgbImage::new(width, height)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .expect("png");
        out
    }

    #[test]
    fn knows_formats_by_their_bytes_alone() {
        assert_eq!(sniff(&png(20, 20)).ok(), Some(Format::Png));
        assert_eq!(code(sniff(b"")), "INVALID_IMAGE");
        assert_eq!(code(sniff(b"%PDF-1.7 ...")), "UNSUPPORTED_MEDIA");
        assert_eq!(code(sniff(b"PK\x03\x04zipzipzip")), "UNSUPPORTED_MEDIA");
        assert_eq!(code(sniff(b"GIF89a......")), "UNSUPPORTED_MEDIA");
        let heic = sniff(b"\0\0\0\x18ftypheic\0\0\0\0").expect_err("refused");
        assert!(heic.message().contains("JPEG"), "{}", heic.message());
    }

    #[test]
    fn reads_the_size_from_the_header_and_refuses_bombs_and_strips() {
        assert_eq!(
            inspect(&png(40, 30), &LIMITS).ok(),
            Some(Header {
                format: Format::Png,
                width: 40,
                height: 30
            })
        );
        assert_eq!(code(inspect(&png(2000, 16), &LIMITS)), "INVALID_IMAGE");
        assert_eq!(code(inspect(&png(8, 8), &LIMITS)), "INVALID_IMAGE");
        // A JPEG header declaring 30,000×30,000 pixels over a few bytes of data.
        let mut bomb = Vec::new();
        image::RgbImage::new(20, 20)
            .write_to(&mut Cursor::new(&mut bomb), ImageFormat::Jpeg)
            .expect("jpeg");
        let sof = bomb
            .windows(2)
            .position(|w| w == [0xFF, 0xC0])
            .expect("a baseline frame header");
        bomb[sof + 5..sof + 7].copy_from_slice(&30_000u16.to_be_bytes());
        bomb[sof + 7..sof + 9].copy_from_slice(&30_000u16.to_be_bytes());
        assert_eq!(code(inspect(&bomb, &LIMITS)), "IMAGE_TOO_LARGE");
        let small = Limits {
            max_bytes: 10,
            ..LIMITS
        };
        assert_eq!(code(inspect(&png(20, 20), &small)), "PAYLOAD_TOO_LARGE");
    }

    #[test]
    fn a_cut_off_jpeg_is_damaged() {
        let mut jpeg = Vec::new();
        image::RgbImage::from_fn(64, 64, |x, y| image::Rgb([x as u8 * 4, y as u8 * 4, 90]))
            .write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg)
            .expect("jpeg");
        assert!(inspect(&jpeg, &LIMITS).is_ok());
        assert_eq!(
            code(inspect(&jpeg[..jpeg.len() - 40], &LIMITS)),
            "INVALID_IMAGE"
        );
    }

    #[test]
    fn refuses_animations() {
        let mut webp = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0\x02\0\0\0".to_vec();
        webp.extend_from_slice(&[0; 16]);
        assert_eq!(code(inspect(&webp, &LIMITS)), "UNSUPPORTED_MEDIA");
        let mut apng = png(20, 20);
        // An acTL chunk slipped in right after IHDR (8 + 25 bytes).
        let actl = [
            0, 0, 0, 8, b'a', b'c', b'T', b'L', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        apng.splice(33..33, actl);
        assert_eq!(code(inspect(&apng, &LIMITS)), "UNSUPPORTED_MEDIA");
    }
}
