//! Media: WeCom's rules for uploads (`media/upload`) and what is kept of each (`media/get`).
//!
//! A file's kind is told by its first bytes, not by its name or the `Content-Type` a client
//! sent: SDKs send no type, `application/octet-stream` or a guess from the extension, and a bare
//! file name.

/// The `type` of an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaType {
    Image,
    Voice,
    Video,
    File,
}

/// Every file is more than 5 bytes (WeCom's rule).
pub const MIN_MEDIA_BYTES: u64 = 6;

/// How long an uploaded media id stays valid: 3 days (WeCom's rule).
pub const MEDIA_LIFETIME: i64 = 3 * 86_400;

/// The longest read of `media/get` without a `Range`, and the longest range: 20 MB (830002
/// past it).
pub const MAX_UNRANGED_BYTES: u64 = 20 * 1024 * 1024;

/// Bytes looked at to tell a file's kind.
pub const SNIFF_BYTES: usize = 12;

impl MediaType {
    /// `image`, `voice`, `video` or `file`.
    pub fn parse(name: &str) -> Option<MediaType> {
        match name {
            "image" => Some(MediaType::Image),
            "voice" => Some(MediaType::Voice),
            "video" => Some(MediaType::Video),
            "file" => Some(MediaType::File),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Voice => "voice",
            MediaType::Video => "video",
            MediaType::File => "file",
        }
    }

    /// The largest upload of this type: image 10 MB (JPG, PNG), voice 2 MB (AMR), video 10 MB
    /// (MP4), file 20 MB.
    pub fn max_bytes(self) -> u64 {
        const MB: u64 = 1024 * 1024;
        match self {
            MediaType::Image | MediaType::Video => 10 * MB,
            MediaType::Voice => 2 * MB,
            MediaType::File => 20 * MB,
        }
    }
}

/// Why an upload is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UploadRejection {
    /// No bytes at all (44001).
    #[error("empty media data")]
    Empty,
    /// 1 to 5 bytes (40006).
    #[error("invalid file size: a file is more than 5 bytes")]
    TooSmall,
    /// Past the type's limit (40009 image, 40011 video, 40006 voice and file).
    #[error("invalid {} size: at most {} bytes", .0.name(), .0.max_bytes())]
    TooLarge(MediaType),
    /// The bytes are not of the type: an image is JPG or PNG, a voice AMR, a video MP4 (40005).
    #[error("invalid file type: {} must be {}", .0.name(), expected_format(*.0))]
    WrongFormat(MediaType),
}

fn expected_format(media_type: MediaType) -> &'static str {
    match media_type {
        MediaType::Image => "JPG or PNG",
        MediaType::Voice => "AMR",
        MediaType::Video => "MP4",
        MediaType::File => "any file",
    }
}

/// The `Content-Type` of an upload of `media_type` that begins with `head` (its first
/// [`SNIFF_BYTES`] bytes, or all of it when shorter), or why it is refused.
pub fn sniff(media_type: MediaType, head: &[u8]) -> Result<&'static str, UploadRejection> {
    let found = format_of(head);
    match (media_type, found) {
        (MediaType::Image, Some(format @ ("image/jpeg" | "image/png")))
        | (MediaType::Voice, Some(format @ "audio/amr"))
        | (MediaType::Video, Some(format @ "video/mp4")) => Ok(format),
        (MediaType::File, found) => Ok(found.unwrap_or("application/octet-stream")),
        (media_type, _) => Err(UploadRejection::WrongFormat(media_type)),
    }
}

/// The format the first bytes say, among those WeCom's types name.
fn format_of(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if head.starts_with(b"#!AMR") {
        Some("audio/amr")
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        Some("video/mp4")
    } else {
        None
    }
}

/// Checks an upload's size once all of it is known.
pub fn check_size(media_type: MediaType, size: u64) -> Result<(), UploadRejection> {
    match size {
        0 => Err(UploadRejection::Empty),
        size if size < MIN_MEDIA_BYTES => Err(UploadRejection::TooSmall),
        size if size > media_type.max_bytes() => Err(UploadRejection::TooLarge(media_type)),
        _ => Ok(()),
    }
}

/// The file extension `media/get` names a file with, from its content type.
pub fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "audio/amr" => "amr",
        "video/mp4" => "mp4",
        _ => "bin",
    }
}

/// An upload's file name as kept: the last path segment, without control characters or quotes,
/// at most 128 characters; `media` when nothing is left.
pub fn file_name(given: Option<&str>) -> String {
    let last = given.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(128)
        .collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() {
        "media".to_owned()
    } else {
        cleaned.to_owned()
    }
}

/// How a stored order names an image patrol serves itself: `patrol-media:/media/images/…`,
/// made absolute (`<public_url>/media/images/…`) each time it is answered, so that the public
/// URL is the server's current one, never the one of the day the order was stored.
pub const SERVED_IMAGE_PREFIX: &str = "patrol-media:";

/// The stored URL of image `media_id` of corp `corpid`, a JPEG or a PNG by `content_type`.
pub fn served_image_url(corpid: &str, media_id: &str, content_type: &str) -> String {
    format!(
        "{SERVED_IMAGE_PREFIX}/media/images/{corpid}/{media_id}.{}",
        extension(content_type)
    )
}

/// Appends `stored` (an order's stored JSON) to `out` with every served image URL made absolute
/// under `public_url` (no trailing slash): what an answer sends.
///
/// In stored JSON an image URL is an element of `image_urls`, so its opening quote follows `[`
/// or `,`. Inside a JSON string a quote is always escaped (`\"`), so `["patrol-media:` and
/// `,"patrol-media:` can only be such an element, never text a user wrote.
pub fn resolve_into(out: &mut Vec<u8>, stored: &[u8], public_url: &str) {
    splice(out, stored, structural_prefixes(stored), public_url);
}

/// `stored` as [`resolve_into`] appends it; without a served image URL, `stored` itself,
/// uncopied.
pub fn resolved(stored: Vec<u8>, public_url: &str) -> Vec<u8> {
    if structural_prefixes(&stored).next().is_none() {
        return stored;
    }
    let mut out = Vec::with_capacity(stored.len() + 1024);
    resolve_into(&mut out, &stored, public_url);
    out
}

/// Appends `stored` to `out` with `public_url` in place of the prefix at each of `starts`
/// (ascending offsets where the prefix stands).
fn splice(out: &mut Vec<u8>, stored: &[u8], starts: impl Iterator<Item = usize>, public_url: &str) {
    let prefix = SERVED_IMAGE_PREFIX.len();
    let mut copied = 0;
    for at in starts {
        out.extend_from_slice(&stored[copied..at]);
        out.extend_from_slice(public_url.as_bytes());
        copied = at + prefix;
    }
    out.extend_from_slice(&stored[copied..]);
}

/// Where the served image URLs of a stored body start (the offsets of their prefix), packed as
/// little-endian `u32`s: what a store keeps beside the body, so that an answer splices the
/// public URL in without scanning ([`resolve_at`]). Empty when the body has none.
pub fn served_offsets(stored: &[u8]) -> Vec<u8> {
    let mut offsets = Vec::new();
    for at in structural_prefixes(stored) {
        // Bodies are far below 4 GiB; a larger one is simply never spliced.
        if let Ok(at) = u32::try_from(at) {
            offsets.extend_from_slice(&at.to_le_bytes());
        }
    }
    offsets
}

/// [`resolve_into`] at the offsets [`served_offsets`] gave for `stored`. Appends nothing and
/// answers `false` when they do not fit the body (the caller then scans).
pub fn resolve_at(out: &mut Vec<u8>, stored: &[u8], offsets: &[u8], public_url: &str) -> bool {
    let prefix = SERVED_IMAGE_PREFIX.as_bytes();
    if !offsets.len().is_multiple_of(4) {
        return false;
    }
    let starts = offsets
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    // Checked before anything is appended: ascending, each where the prefix stands.
    let mut previous = 0;
    let fits = starts.clone().all(|at| {
        let fits = at >= previous
            && stored
                .get(at..)
                .is_some_and(|rest| rest.starts_with(prefix));
        previous = at + prefix.len();
        fits
    });
    if fits {
        splice(out, stored, starts, public_url);
    }
    fits
}

/// The offsets of the served-image prefixes of `stored` that open an element of an array.
fn structural_prefixes(stored: &[u8]) -> impl Iterator<Item = usize> + '_ {
    // Built once: a finder's tables cost more than scanning one order.
    static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(SERVED_IMAGE_PREFIX.as_bytes()));
    // Before the prefix the opening quote, before that `[` or `,`.
    FINDER
        .find_iter(stored)
        .filter(|&at| at >= 2 && stored[at - 1] == b'"' && matches!(stored[at - 2], b'[' | b','))
}

/// Whether `url` is a stored URL of a served image: the prefix, `/media/images/`, a corpid, `/`,
/// a media id and an extension, all of ASCII letters, digits, `-`, `_`, `.` or `@`.
pub fn is_served_image_url(url: &str) -> bool {
    let Some(path) = url
        .strip_prefix(SERVED_IMAGE_PREFIX)
        .and_then(|rest| rest.strip_prefix("/media/images/"))
    else {
        return false;
    };
    let Some((corpid, file)) = path.split_once('/') else {
        return false;
    };
    let fine = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    };
    fine(corpid) && fine(file) && file.contains('.')
}

/// A medium kept for a corp: its bytes are a blob named by their BLAKE3 hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFile {
    pub media_id: String,
    pub media_type: MediaType,
    pub blob: [u8; 32],
    pub size: u64,
    pub file_name: String,
    pub content_type: String,
    pub created_at: i64,
    /// `None`: it never expires (the demo's and seeded datasets' media).
    pub expires_at: Option<i64>,
}

impl MediaFile {
    /// Whether `media/get` still serves it at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|expires_at| now < expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_told_by_their_first_bytes() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F'];
        assert_eq!(sniff(MediaType::Image, &jpeg), Ok("image/jpeg"));
        assert_eq!(
            sniff(MediaType::Image, b"\x89PNG\r\n\x1a\n...."),
            Ok("image/png")
        );
        assert_eq!(
            sniff(MediaType::Image, b"GIF89a......"),
            Err(UploadRejection::WrongFormat(MediaType::Image))
        );
        assert_eq!(sniff(MediaType::Voice, b"#!AMR\n......"), Ok("audio/amr"));
        assert_eq!(
            sniff(MediaType::Video, b"\0\0\0\x18ftypmp42"),
            Ok("video/mp4")
        );
        assert_eq!(
            sniff(MediaType::Video, &jpeg),
            Err(UploadRejection::WrongFormat(MediaType::Video))
        );
        assert_eq!(
            sniff(MediaType::File, b"%PDF-1.7"),
            Ok("application/octet-stream")
        );
        assert_eq!(sniff(MediaType::File, &jpeg), Ok("image/jpeg"));
    }

    #[test]
    fn sizes_follow_wecoms_limits() {
        assert_eq!(check_size(MediaType::Image, 0), Err(UploadRejection::Empty));
        assert_eq!(
            check_size(MediaType::File, 5),
            Err(UploadRejection::TooSmall)
        );
        assert_eq!(check_size(MediaType::File, 6), Ok(()));
        assert_eq!(check_size(MediaType::Voice, 2 * 1024 * 1024), Ok(()));
        assert_eq!(
            check_size(MediaType::Voice, 2 * 1024 * 1024 + 1),
            Err(UploadRejection::TooLarge(MediaType::Voice))
        );
    }

    #[test]
    fn file_names_keep_their_last_segment_only() {
        assert_eq!(file_name(Some("/tmp/photos/a.jpg")), "a.jpg");
        assert_eq!(file_name(Some("C:\\x\\b.png")), "b.png");
        assert_eq!(file_name(Some("a\"b\r\n.jpg")), "ab.jpg");
        assert_eq!(file_name(None), "media");
        assert_eq!(file_name(Some("  ")), "media");
    }

    #[test]
    fn served_image_urls_are_recognized() {
        let url = served_image_url("wwdemo", "3abc", "image/png");
        assert_eq!(url, "patrol-media:/media/images/wwdemo/3abc.png");
        assert!(is_served_image_url(&url));
        for not in [
            "https://x/media/images/a/b.jpg",
            "patrol-media:/media/images/a/",
            "patrol-media:/media/images/a/b",
            "patrol-media:/media/images/a b/c.jpg",
            "patrol-media:/other/a/b.jpg",
            "patrol-media:/media/images/a/b/c.jpg",
        ] {
            assert!(!is_served_image_url(not), "{not}");
        }
    }

    #[test]
    fn served_images_are_made_absolute_and_nothing_else() {
        let stored = br#"{"desc":"\"patrol-media:/x [\"patrol-media:/y","image_urls":["patrol-media:/media/images/ww/1.jpg","https://a/b.jpg","patrol-media:/media/images/ww/2.png"],"process_list":[{"image_urls":["patrol-media:/media/images/ww/3.jpg"]}]}"#;
        let answered = resolved(stored.to_vec(), "http://127.0.0.1:8080");
        assert_eq!(
            String::from_utf8(answered).unwrap(),
            r#"{"desc":"\"patrol-media:/x [\"patrol-media:/y","image_urls":["http://127.0.0.1:8080/media/images/ww/1.jpg","https://a/b.jpg","http://127.0.0.1:8080/media/images/ww/2.png"],"process_list":[{"image_urls":["http://127.0.0.1:8080/media/images/ww/3.jpg"]}]}"#
        );
        let plain = br#"{"image_urls":[]}"#.to_vec();
        assert_eq!(resolved(plain.clone(), "http://x"), plain);
    }

    #[test]
    fn resolved_json_is_still_json() {
        let stored = serde_json::json!({
            "desc": "[\"patrol-media:/media/images/ww/9.jpg\"] ,\"patrol-media:",
            "image_urls": ["patrol-media:/media/images/ww/1.jpg"],
        });
        let answered = resolved(serde_json::to_vec(&stored).unwrap(), "https://p.example");
        let value: serde_json::Value = serde_json::from_slice(&answered).unwrap();
        assert_eq!(value["desc"], stored["desc"], "a user's text is left alone");
        assert_eq!(
            value["image_urls"][0],
            "https://p.example/media/images/ww/1.jpg"
        );
    }

    #[test]
    fn stored_offsets_splice_as_a_scan_does() {
        let stored = br#"{"desc":"[\"patrol-media:/x","image_urls":["patrol-media:/media/images/w/1.jpg","https://a/b.jpg"],"s":[{"image_urls":["patrol-media:/media/images/w/2.png"]}]}"#;
        let offsets = served_offsets(stored);
        assert_eq!(offsets.len(), 8, "two served images, not the text");
        let (mut scanned, mut spliced) = (Vec::new(), Vec::new());
        resolve_into(&mut scanned, stored, "http://p");
        assert!(resolve_at(&mut spliced, stored, &offsets, "http://p"));
        assert_eq!(scanned, spliced);
        assert!(
            String::from_utf8(spliced)
                .unwrap()
                .contains(r#"["http://p/media/images/w/1.jpg","#)
        );
        // Offsets that do not fit the body are refused, appending nothing.
        let mut out = Vec::new();
        assert!(!resolve_at(&mut out, stored, &[1, 0, 0, 0], "http://p"));
        assert!(!resolve_at(&mut out, stored, &[1, 0, 0], "http://p"));
        assert!(out.is_empty());
        assert!(served_offsets(br#"{"image_urls":[]}"#).is_empty());
    }

    #[test]
    fn media_without_an_expiry_never_expire() {
        let mut media = MediaFile {
            media_id: "m".into(),
            media_type: MediaType::Image,
            blob: [0; 32],
            size: 6,
            file_name: "a.jpg".into(),
            content_type: "image/jpeg".into(),
            created_at: 0,
            expires_at: None,
        };
        assert!(media.is_live(i64::MAX));
        media.expires_at = Some(MEDIA_LIFETIME);
        assert!(media.is_live(MEDIA_LIFETIME - 1));
        assert!(!media.is_live(MEDIA_LIFETIME));
    }
}
