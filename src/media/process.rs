//! Turning a checked upload into what is published: decoded under limits, turned upright
//! from its EXIF orientation, resized to the configured widths and encoded anew in WebP and
//! JPEG. Nothing of the original file is copied: its EXIF (with any GPS position), XMP and
//! other metadata are simply never written. Pure and CPU-bound: run it on the work pool.

use std::io::Cursor;

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer, images::Image};
use image::{DynamicImage, ImageDecoder, ImageReader};

use super::inspect::{Header, damaged};
use crate::error::{AppError, AppResult};

/// An encoding of a rendition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    WebP,
    Jpeg,
}

impl Encoding {
    pub const ALL: [Self; 2] = [Self::WebP, Self::Jpeg];

    pub fn extension(self) -> &'static str {
        match self {
            Self::WebP => "webp",
            Self::Jpeg => "jpg",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::WebP => "image/webp",
            Self::Jpeg => "image/jpeg",
        }
    }
}

/// How renditions are made.
#[derive(Debug, Clone)]
pub struct Plan {
    pub widths: Vec<u32>,
    pub jpeg_quality: u8,
    pub webp_quality: f32,
}

#[derive(Debug)]
pub struct Rendition {
    pub width: u32,
    pub height: u32,
    pub encoding: Encoding,
    pub bytes: Vec<u8>,
}

/// The processed photo.
#[derive(Debug)]
pub struct Processed {
    /// Upright size.
    pub width: u32,
    pub height: u32,
    pub renditions: Vec<Rendition>,
    /// A ThumbHash of the photo, a few dozen bytes that decode to a blurred preview.
    pub placeholder: Vec<u8>,
    pub dominant_color: [u8; 3],
}

/// The widths made for a photo `width` pixels wide: each configured width below it, and the
/// photo's own width when it is no wider than the largest configured one (never upscaled).
pub fn widths_for(width: u32, configured: &[u32]) -> Vec<u32> {
    let mut out: Vec<u32> = configured.iter().copied().filter(|w| *w < width).collect();
    if configured.iter().any(|w| *w >= width) {
        out.push(width);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Decodes, orients, resizes and encodes.
pub fn process(bytes: &[u8], header: Header, plan: &Plan) -> AppResult<Processed> {
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(match header.format {
        super::inspect::Format::Jpeg => image::ImageFormat::Jpeg,
        super::inspect::Format::Png => image::ImageFormat::Png,
        super::inspect::Format::WebP => image::ImageFormat::WebP,
    });
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(header.width);
    limits.max_image_height = Some(header.height);
    // The decoded picture at 8 bytes a pixel (16-bit RGBA) plus the decoder's own buffers.
    limits.max_alloc = Some(u64::from(header.width) * u64::from(header.height) * 8 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|_| damaged())?;
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut picture = DynamicImage::from_decoder(decoder).map_err(|_| damaged())?;
    picture.apply_orientation(orientation);
    let picture = if picture.color().has_alpha() {
        DynamicImage::ImageRgba8(picture.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(picture.into_rgb8())
    };
    let (width, height) = (picture.width(), picture.height());

    let mut resizer = Resizer::new();
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    let mut renditions = Vec::new();
    // Largest first, each smaller one from the one before: far less work than resizing the
    // full photo every time, and no visible difference at these ratios.
    let mut source = picture;
    for target in widths_for(width, &plan.widths).into_iter().rev() {
        let target_height = ((u64::from(height) * u64::from(target) + u64::from(width) / 2)
            / u64::from(width))
        .max(1) as u32;
        let sized = if target == source.width() {
            source
        } else {
            resize(&mut resizer, &options, &source, target, target_height)?
        };
        for encoding in Encoding::ALL {
            renditions.push(Rendition {
                width: target,
                height: target_height,
                encoding,
                bytes: encode(&sized, encoding, plan)?,
            });
        }
        source = sized;
    }
    // ThumbHash works on at most 100×100 pixels.
    let scale = 100.0 / f64::from(source.width().max(source.height()));
    let (tw, th) = if scale < 1.0 {
        (
            ((f64::from(source.width()) * scale).round() as u32).max(1),
            ((f64::from(source.height()) * scale).round() as u32).max(1),
        )
    } else {
        (source.width(), source.height())
    };
    let thumb = resize(&mut resizer, &options, &source, tw, th)?.into_rgba8();
    let placeholder = thumbhash::rgba_to_thumb_hash(tw as usize, th as usize, thumb.as_raw());
    renditions.sort_by_key(|r| (r.width, r.encoding.extension()));
    Ok(Processed {
        width,
        height,
        renditions,
        placeholder,
        dominant_color: dominant_color(thumb.as_raw()),
    })
}

fn resize(
    resizer: &mut Resizer,
    options: &ResizeOptions,
    source: &DynamicImage,
    width: u32,
    height: u32,
) -> AppResult<DynamicImage> {
    let failed = |e: &dyn std::fmt::Display| AppError::Internal(anyhow::anyhow!("resizing: {e}"));
    let pixel = match source {
        DynamicImage::ImageRgba8(_) => fast_image_resize::PixelType::U8x4,
        _ => fast_image_resize::PixelType::U8x3,
    };
    let mut target = Image::new(width, height, pixel);
    resizer
        .resize(source, &mut target, options)
        .map_err(|e| failed(&e))?;
    let buffer = target.into_vec();
    let out = match pixel {
        fast_image_resize::PixelType::U8x4 => {
            image::RgbaImage::from_raw(width, height, buffer).map(DynamicImage::ImageRgba8)
        }
        _ => image::RgbImage::from_raw(width, height, buffer).map(DynamicImage::ImageRgb8),
    };
    out.ok_or_else(|| failed(&"buffer size"))
}

fn encode(picture: &DynamicImage, encoding: Encoding, plan: &Plan) -> AppResult<Vec<u8>> {
    let failed = |e: &dyn std::fmt::Display| AppError::Internal(anyhow::anyhow!("encoding: {e}"));
    let (width, height) = (picture.width(), picture.height());
    match encoding {
        Encoding::WebP => {
            let encoder = match picture {
                DynamicImage::ImageRgba8(rgba) => {
                    webp::Encoder::from_rgba(rgba.as_raw(), width, height)
                }
                DynamicImage::ImageRgb8(rgb) => {
                    webp::Encoder::from_rgb(rgb.as_raw(), width, height)
                }
                _ => return Err(failed(&"unexpected pixel layout")),
            };
            let encoded = encoder
                .encode_simple(false, plan.webp_quality)
                .map_err(|e| failed(&format!("{e:?}")))?;
            Ok(encoded.to_vec())
        }
        Encoding::Jpeg => {
            // JPEG has no transparency: a logo's transparent parts become white.
            let rgb = match picture {
                DynamicImage::ImageRgba8(rgba) => on_white(rgba),
                other => other.to_rgb8(),
            };
            let mut out = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, plan.jpeg_quality)
                .encode_image(&rgb)
                .map_err(|e| failed(&e))?;
            Ok(out)
        }
    }
}

fn on_white(rgba: &image::RgbaImage) -> image::RgbImage {
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let mix = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([mix(r), mix(g), mix(b)])
    })
}

/// The colour most of the (opaque part of the) picture has: pixels are counted in 4,096
/// bins of similar colours, and the fullest bin's average is the answer. An average of all
/// pixels would give the brown-grey of no colour in the picture.
pub fn dominant_color(rgba: &[u8]) -> [u8; 3] {
    let mut bins = vec![(0u32, [0u64; 3]); 4096];
    for px in rgba.chunks_exact(4) {
        if px[3] < 128 {
            continue;
        }
        let bin = (usize::from(px[0] >> 4) << 8)
            | (usize::from(px[1] >> 4) << 4)
            | usize::from(px[2] >> 4);
        let (count, sum) = &mut bins[bin];
        *count += 1;
        for c in 0..3 {
            sum[c] += u64::from(px[c]);
        }
    }
    match bins.iter().max_by_key(|(count, _)| *count) {
        Some((count, sum)) if *count > 0 => {
            let n = u64::from(*count);
            [(sum[0] / n) as u8, (sum[1] / n) as u8, (sum[2] / n) as u8]
        }
        _ => [255, 255, 255],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::inspect::{Format, Limits, inspect};

    #[test]
    fn widths_never_upscale() {
        let widths = [160, 480, 960, 1600];
        assert_eq!(widths_for(4000, &widths), vec![160, 480, 960, 1600]);
        assert_eq!(widths_for(1000, &widths), vec![160, 480, 960, 1000]);
        assert_eq!(widths_for(960, &widths), vec![160, 480, 960]);
        assert_eq!(widths_for(100, &widths), vec![100]);
    }

    #[test]
    fn the_fullest_colour_wins_over_the_average() {
        let mut rgba = Vec::new();
        for i in 0..100 {
            let px = if i < 60 {
                [200, 30, 30, 255]
            } else {
                [20, 20, 220, 255]
            };
            rgba.extend_from_slice(&px);
        }
        rgba.extend_from_slice(&[0, 255, 0, 0]);
        assert_eq!(dominant_color(&rgba), [200, 30, 30]);
    }

    #[test]
    fn renditions_are_upright_and_fresh() {
        // A landscape JPEG whose EXIF says "rotate 90° clockwise to view".
        let picture = image::RgbImage::from_fn(600, 300, |x, _| {
            if x < 300 {
                image::Rgb([250, 10, 10])
            } else {
                image::Rgb([10, 10, 250])
            }
        });
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&picture)
            .expect("jpeg");
        // APP1 Exif with IFD0 holding one entry: Orientation (0x0112) = 6.
        let mut tiff =
            b"MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
        let mut app1 = b"Exif\0\0".to_vec();
        app1.append(&mut tiff);
        let mut segment = vec![0xFF, 0xE1];
        segment.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
        segment.extend_from_slice(&app1);
        jpeg.splice(2..2, segment);
        let limits = Limits {
            max_bytes: 1 << 20,
            max_pixels: 1 << 24,
        };
        let header = inspect(&jpeg, &limits).expect("inspected");
        assert_eq!(header.format, Format::Jpeg);
        let plan = Plan {
            widths: vec![100, 200],
            jpeg_quality: 80,
            webp_quality: 75.0,
        };
        let done = process(&jpeg, header, &plan).expect("processed");
        assert_eq!((done.width, done.height), (300, 600));
        let sizes: Vec<(u32, u32, &str)> = done
            .renditions
            .iter()
            .map(|r| (r.width, r.height, r.encoding.extension()))
            .collect();
        assert_eq!(
            sizes,
            vec![
                (100, 200, "jpg"),
                (100, 200, "webp"),
                (200, 400, "jpg"),
                (200, 400, "webp")
            ]
        );
        for r in &done.renditions {
            assert!(!r.bytes.windows(4).any(|w| w == b"Exif"), "no EXIF left");
            let back = image::load_from_memory(&r.bytes).expect("decodes");
            assert_eq!((back.width(), back.height()), (r.width, r.height));
            // Upright: the red half is now on top.
            let top = back.to_rgb8().get_pixel(r.width / 2, r.height / 8).0;
            assert!(top[0] > 200 && top[2] < 60, "top is red: {top:?}");
        }
        assert!(!done.placeholder.is_empty() && done.placeholder.len() < 40);
    }
}
