//! What a poster upload becomes before it is stored: pixels, decoded and encoded again.
//!
//! This module exists because a file that merely *starts* like an image can carry anything
//! after its signature: a PNG header followed by HTML, or a real PNG with a script appended
//! after its last chunk ("polyglot" files). Serving such bytes back, even as `image/png` with
//! `nosniff`, hands an attacker a file on our origin that some clients will treat as a page.
//! So nothing an admin uploads is kept as uploaded: the bytes are decoded with the `image`
//! crate (PNG, JPEG and WebP only), under limits on dimensions and memory so that a
//! decompression bomb is refused instead of exhausting the process, and only the decoded
//! pixels are encoded again, into the full poster and a smaller card rendition for list
//! pages. Metadata, trailing data and anything else that is not pixels is dropped.
//!
//! Everything here is pure and CPU-bound (tens to hundreds of milliseconds for a large
//! upload): callers run it on a blocking thread and never inside a database transaction
//! (`catalogue::prepare_poster`).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::{
    DynamicImage, ImageDecoder, ImageError, ImageFormat, ImageReader, Limits, Rgb, RgbImage,
};
use sha2::{Digest, Sha256};

/// The widest upload we decode, in pixels.
pub const MAX_WIDTH: u32 = 4096;
/// The tallest upload we decode, in pixels (a 2:3 poster at the widest).
pub const MAX_HEIGHT: u32 = 6144;
/// The most memory the decoder may allocate for one upload: an 8-bit RGBA image of the
/// largest dimensions.
pub const MAX_DECODE_BYTES: u64 = MAX_WIDTH as u64 * MAX_HEIGHT as u64 * 4;
/// Width of the card rendition shown on list pages.
pub const CARD_WIDTH: u32 = 342;
/// A poster may be at most this many times as tall as it is wide (beyond that the card
/// rendition, which is always `CARD_WIDTH` wide, would be absurdly tall).
pub const MAX_TALLNESS: u32 = 3;
/// JPEG quality of the full poster (re-encoded photographs stay close to the upload).
const FULL_JPEG_QUALITY: u8 = 90;
/// JPEG quality of the card rendition.
const CARD_JPEG_QUALITY: u8 = 80;
/// What transparent pixels become in a JPEG: the colour the stylesheet puts behind posters
/// (`.poster { background: #2b2d42 }`), so the card looks like the full poster on the page.
const BACKGROUND: [u8; 3] = [0x2b, 0x2d, 0x42];

/// The image types a poster upload may be, told from the bytes (never from a file name or a
/// declared type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosterKind {
    Png,
    Jpeg,
    WebP,
}

impl PosterKind {
    /// The kind the bytes' signature claims, if it is one we accept.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match image::guess_format(bytes).ok()? {
            ImageFormat::Png => Some(Self::Png),
            ImageFormat::Jpeg => Some(Self::Jpeg),
            ImageFormat::WebP => Some(Self::WebP),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
            Self::WebP => "image/webp",
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Png => ImageFormat::Png,
            Self::Jpeg => ImageFormat::Jpeg,
            Self::WebP => ImageFormat::WebP,
        }
    }
}

/// One encoded rendition, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedImage {
    /// `image/png` or `image/jpeg`.
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
    /// SHA-256 of `bytes` (hex): the rendition's ETag.
    pub sha256: String,
}

impl EncodedImage {
    fn new(content_type: &'static str, width: u32, height: u32, bytes: Vec<u8>) -> Self {
        let sha256 = hex::encode(Sha256::digest(&bytes));
        Self {
            content_type,
            width,
            height,
            bytes,
            sha256,
        }
    }
}

/// What an upload becomes: the full poster (the detail page) and the card (list pages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosterImages {
    /// What the upload was.
    pub source: PosterKind,
    /// The whole image at its own size: PNG when the upload was a PNG or has transparency
    /// (lossless, pixels kept exactly), JPEG otherwise.
    pub full: EncodedImage,
    /// `CARD_WIDTH` pixels wide, aspect ratio kept, always JPEG.
    pub card: EncodedImage,
}

/// Why an upload is not a poster. The messages of all but `Encode` are meant for the person
/// who uploaded the file.
#[derive(Debug, thiserror::Error)]
pub enum PosterImageError {
    #[error("The poster must be a PNG, JPEG or WebP image.")]
    NotAnImage,
    #[error(
        "The poster could not be read as a PNG, JPEG or WebP image: the file is damaged or is not really an image."
    )]
    Undecodable,
    #[error("The poster must be at most {} × {} pixels.", MAX_WIDTH, MAX_HEIGHT)]
    TooLarge,
    #[error(
        "The poster must be at most {} times as tall as it is wide.",
        MAX_TALLNESS
    )]
    TooTall,
    /// Encoding our own decoded pixels failed: a bug, not the uploader's fault.
    #[error("the poster could not be encoded: {0}")]
    Encode(String),
}

impl PosterImageError {
    /// True when the upload itself is at fault (the message is for the uploader).
    pub fn is_upload_error(&self) -> bool {
        !matches!(self, Self::Encode(_))
    }
}

fn decode_error(error: ImageError) -> PosterImageError {
    match error {
        ImageError::Limits(_) => PosterImageError::TooLarge,
        _ => PosterImageError::Undecodable,
    }
}

/// Decodes an upload (PNG, JPEG or WebP; EXIF orientation applied), within the limits above.
pub fn decode(bytes: &[u8]) -> Result<(PosterKind, DynamicImage), PosterImageError> {
    let kind = PosterKind::sniff(bytes).ok_or(PosterImageError::NotAnImage)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_WIDTH);
    limits.max_image_height = Some(MAX_HEIGHT);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    reader.limits(limits);
    // `into_decoder` checks the dimensions against the limits before any pixel is read;
    // the size of the output buffer is checked here, as `ImageReader::decode` does.
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    if decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err(PosterImageError::TooLarge);
    }
    let orientation = decoder.orientation().map_err(decode_error)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    image.apply_orientation(orientation);
    if image.width() == 0 || image.height() == 0 {
        return Err(PosterImageError::Undecodable);
    }
    Ok((kind, image))
}

/// The height of the card rendition of a `width` × `height` image, aspect ratio kept.
pub fn card_height(width: u32, height: u32) -> u32 {
    let scaled = (u64::from(height) * u64::from(CARD_WIDTH) + u64::from(width) / 2)
        / u64::from(width.max(1));
    u32::try_from(scaled.max(1)).unwrap_or(u32::MAX)
}

/// Decodes an upload and encodes it again: the full poster and its card rendition.
pub fn process(bytes: &[u8]) -> Result<PosterImages, PosterImageError> {
    let (source, image) = decode(bytes)?;
    let (width, height) = (image.width(), image.height());
    if height > width.saturating_mul(MAX_TALLNESS) {
        return Err(PosterImageError::TooTall);
    }
    let has_alpha = image.color().has_alpha();

    let full = if source == PosterKind::Png || has_alpha {
        let pixels = if has_alpha {
            DynamicImage::ImageRgba8(image.to_rgba8())
        } else {
            DynamicImage::ImageRgb8(image.to_rgb8())
        };
        encode_png(&pixels)?
    } else {
        encode_jpeg(&image.to_rgb8(), FULL_JPEG_QUALITY)?
    };

    let card_pixels = image.resize_exact(
        CARD_WIDTH,
        card_height(width, height),
        FilterType::CatmullRom,
    );
    let card = encode_jpeg(&flatten(&card_pixels), CARD_JPEG_QUALITY)?;
    Ok(PosterImages { source, full, card })
}

/// The image as RGB, transparent pixels blended over `BACKGROUND`.
fn flatten(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend = |c: u8, bg: u8| {
            let (c, bg, a) = (u16::from(c), u16::from(bg), u16::from(a));
            ((c * a + bg * (255 - a) + 127) / 255) as u8
        };
        Rgb([
            blend(r, BACKGROUND[0]),
            blend(g, BACKGROUND[1]),
            blend(b, BACKGROUND[2]),
        ])
    })
}

fn encode_png(image: &DynamicImage) -> Result<EncodedImage, PosterImageError> {
    let mut bytes = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut bytes, CompressionType::Default, PngFilter::Adaptive);
    image
        .write_with_encoder(encoder)
        .map_err(|e| PosterImageError::Encode(e.to_string()))?;
    Ok(EncodedImage::new(
        "image/png",
        image.width(),
        image.height(),
        bytes,
    ))
}

fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<EncodedImage, PosterImageError> {
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, quality)
        .encode_image(image)
        .map_err(|e| PosterImageError::Encode(e.to_string()))?;
    Ok(EncodedImage::new(
        "image/jpeg",
        image.width(),
        image.height(),
        bytes,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::webp::WebPEncoder;
    use image::{GrayImage, Luma, Rgba, RgbaImage};

    fn gradient(width: u32, height: u32) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| {
            Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
        })
    }

    fn png_of(image: &DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    fn jpeg_of(image: &RgbImage) -> Vec<u8> {
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(image)
            .unwrap();
        out
    }

    fn webp_of(image: &DynamicImage) -> Vec<u8> {
        let mut out = Vec::new();
        image
            .write_with_encoder(WebPEncoder::new_lossless(&mut out))
            .unwrap();
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn kinds_come_from_the_bytes() {
        assert_eq!(
            PosterKind::sniff(b"\x89PNG\r\n\x1a\nxxxx"),
            Some(PosterKind::Png)
        );
        assert_eq!(
            PosterKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(PosterKind::Jpeg)
        );
        assert_eq!(
            PosterKind::sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Some(PosterKind::WebP)
        );
        assert_eq!(PosterKind::sniff(b"<svg xmlns="), None);
        assert_eq!(PosterKind::sniff(b"GIF89a\x01\x00\x01\x00"), None);
    }

    #[test]
    fn a_png_keeps_its_pixels_and_gets_a_card_342_wide() {
        let original = DynamicImage::ImageRgb8(gradient(240, 360));
        let images = process(&png_of(&original)).unwrap();
        assert_eq!(images.source, PosterKind::Png);
        assert_eq!(images.full.content_type, "image/png");
        let full = image::load_from_memory(&images.full.bytes).unwrap();
        assert_eq!(full.to_rgb8(), original.to_rgb8(), "lossless");
        assert_eq!(images.card.content_type, "image/jpeg");
        assert_eq!((images.card.width, images.card.height), (342, 513));
        let card =
            image::load_from_memory_with_format(&images.card.bytes, ImageFormat::Jpeg).unwrap();
        assert_eq!((card.width(), card.height()), (342, 513));
    }

    #[test]
    fn anything_after_the_image_is_dropped() {
        let mut polyglot = png_of(&DynamicImage::ImageRgb8(gradient(60, 90)));
        polyglot.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>");
        let images = process(&polyglot).unwrap();
        for bytes in [&images.full.bytes, &images.card.bytes] {
            assert!(!contains(bytes, b"<script"));
            assert!(!contains(bytes, b"<html"));
        }
        assert_ne!(images.full.bytes, polyglot);
    }

    #[test]
    fn a_signature_without_an_image_is_refused() {
        let mut fake = b"\x89PNG\r\n\x1a\n".to_vec();
        fake.extend_from_slice(b"<html><script>alert(1)</script></html>");
        assert!(matches!(process(&fake), Err(PosterImageError::Undecodable)));
        let mut fake_jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0];
        fake_jpeg.extend_from_slice(b"<script>alert(1)</script>");
        assert!(matches!(
            process(&fake_jpeg),
            Err(PosterImageError::Undecodable)
        ));
        assert!(matches!(
            process(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"),
            Err(PosterImageError::NotAnImage)
        ));
        assert!(matches!(process(b""), Err(PosterImageError::NotAnImage)));
    }

    #[test]
    fn jpeg_and_webp_uploads_are_stored_as_jpeg_and_transparency_as_png() {
        let jpeg = process(&jpeg_of(&gradient(400, 600))).unwrap();
        assert_eq!(jpeg.source, PosterKind::Jpeg);
        assert_eq!(jpeg.full.content_type, "image/jpeg");
        assert_eq!((jpeg.full.width, jpeg.full.height), (400, 600));
        assert_eq!((jpeg.card.width, jpeg.card.height), (342, 513));

        let webp = process(&webp_of(&DynamicImage::ImageRgb8(gradient(300, 450)))).unwrap();
        assert_eq!(webp.source, PosterKind::WebP);
        assert_eq!(webp.full.content_type, "image/jpeg");
        image::load_from_memory_with_format(&webp.full.bytes, ImageFormat::Jpeg).unwrap();

        let clear = RgbaImage::from_pixel(100, 150, Rgba([255, 255, 255, 0]));
        let transparent = process(&webp_of(&DynamicImage::ImageRgba8(clear))).unwrap();
        assert_eq!(transparent.full.content_type, "image/png");
        let full = image::load_from_memory(&transparent.full.bytes).unwrap();
        assert!(
            full.color().has_alpha(),
            "transparency is kept in the full poster"
        );
        // The card (JPEG) shows the page's poster background where the image is clear.
        let card = image::load_from_memory(&transparent.card.bytes)
            .unwrap()
            .to_rgb8();
        let [r, g, b] = card.get_pixel(10, 10).0;
        assert!(
            r.abs_diff(BACKGROUND[0]) < 8
                && g.abs_diff(BACKGROUND[1]) < 8
                && b.abs_diff(BACKGROUND[2]) < 8,
            "{r} {g} {b}"
        );
    }

    #[test]
    fn decompression_bombs_are_refused_before_decoding() {
        // Some 130 kB that would decode to 5,000 × 5,000 pixels (25 MB).
        let bomb = DynamicImage::ImageLuma8(GrayImage::from_pixel(5000, 5000, Luma([0])));
        let bytes = png_of(&bomb);
        assert!(bytes.len() < 200_000, "{}", bytes.len());
        assert!(matches!(process(&bytes), Err(PosterImageError::TooLarge)));
        let too_tall = DynamicImage::ImageLuma8(GrayImage::new(10, MAX_HEIGHT + 1));
        assert!(matches!(
            process(&png_of(&too_tall)),
            Err(PosterImageError::TooLarge)
        ));
    }

    #[test]
    fn needle_thin_images_are_refused_and_wide_ones_get_a_short_card() {
        let thin = DynamicImage::ImageRgb8(gradient(10, 31));
        assert!(matches!(
            process(&png_of(&thin)),
            Err(PosterImageError::TooTall)
        ));
        let wide = process(&png_of(&DynamicImage::ImageRgb8(gradient(4000, 2)))).unwrap();
        assert_eq!((wide.card.width, wide.card.height), (342, 1));
        assert_eq!(card_height(240, 360), 513);
        assert_eq!(card_height(1000, 1500), 513);
        assert_eq!(card_height(683, 1024), 513);
    }

    #[test]
    fn only_upload_errors_are_shown_to_the_uploader() {
        assert!(PosterImageError::Undecodable.is_upload_error());
        assert!(!PosterImageError::Encode("x".into()).is_upload_error());
        assert!(
            PosterImageError::TooLarge
                .to_string()
                .contains("4096 × 6144 pixels")
        );
    }
}
