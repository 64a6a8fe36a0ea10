//! Stored orders name the images patrol serves as `patrol-media:/media/images/…`
//! (`patrol_domain::media::SERVED_IMAGE_PREFIX`); an answer makes them absolute under the
//! server's public URL at the moment it is sent.
//!
//! The rule is `patrol_domain::media::resolve_into`; a page of `get_order_list` is resolved by
//! the store as it joins the rows (`ListQuery::public_url`), with no second copy.

/// `json` with every served image URL made absolute under `public_url` (no trailing slash).
/// Without any, the bytes are returned as they are, uncopied.
pub fn resolve(json: Vec<u8>, public_url: &str) -> Vec<u8> {
    let prefix = patrol_domain::media::SERVED_IMAGE_PREFIX.as_bytes();
    if memchr::memmem::find(&json, prefix).is_none() {
        return json;
    }
    let mut out = Vec::with_capacity(json.len() + 1024);
    patrol_domain::media::resolve_into(&mut out, &json, public_url);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_images_are_made_absolute_and_nothing_else() {
        let stored = br#"{"desc":"\"patrol-media:/x [\"patrol-media:/y","image_urls":["patrol-media:/media/images/ww/1.jpg","https://a/b.jpg","patrol-media:/media/images/ww/2.png"],"process_list":[{"image_urls":["patrol-media:/media/images/ww/3.jpg"]}]}"#;
        let resolved = resolve(stored.to_vec(), "http://127.0.0.1:8080");
        assert_eq!(
            String::from_utf8(resolved).unwrap(),
            r#"{"desc":"\"patrol-media:/x [\"patrol-media:/y","image_urls":["http://127.0.0.1:8080/media/images/ww/1.jpg","https://a/b.jpg","http://127.0.0.1:8080/media/images/ww/2.png"],"process_list":[{"image_urls":["http://127.0.0.1:8080/media/images/ww/3.jpg"]}]}"#
        );
        let plain = br#"{"image_urls":[]}"#.to_vec();
        assert_eq!(resolve(plain.clone(), "http://x"), plain);
    }

    #[test]
    fn resolved_json_is_still_json() {
        let stored = serde_json::json!({
            "desc": "[\"patrol-media:/media/images/ww/9.jpg\"] ,\"patrol-media:",
            "image_urls": ["patrol-media:/media/images/ww/1.jpg"],
        });
        let resolved = resolve(serde_json::to_vec(&stored).unwrap(), "https://p.example");
        let value: serde_json::Value = serde_json::from_slice(&resolved).unwrap();
        assert_eq!(value["desc"], stored["desc"], "a user's text is left alone");
        assert_eq!(
            value["image_urls"][0],
            "https://p.example/media/images/ww/1.jpg"
        );
    }
}
