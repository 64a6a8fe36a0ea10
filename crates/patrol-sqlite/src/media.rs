//! What is kept of uploaded media, in SQLite.

use patrol_domain::media::{MediaFile, MediaType};
use patrol_store::StoreError;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::Result;

/// See [`patrol_store::MediaStore::create_media`].
pub(crate) fn create_media(tx: &Transaction<'_>, corp_key: i64, media: MediaFile) -> Result<()> {
    let size = i64::try_from(media.size)
        .map_err(|_| StoreError::Conflict(format!("a medium of {} bytes", media.size)))?;
    let inserted = tx.execute(
        "INSERT OR IGNORE INTO media (corp_id, media_id, media_type, blob, size, file_name,
                                      content_type, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            corp_key,
            media.media_id,
            media.media_type.name(),
            media.blob.as_slice(),
            size,
            media.file_name,
            media.content_type,
            media.created_at,
            media.expires_at,
        ],
    )?;
    if inserted == 0 {
        return Err(
            StoreError::Conflict(format!("media {} already exists", media.media_id)).into(),
        );
    }
    Ok(())
}

/// See [`patrol_store::MediaStore::media`].
pub(crate) fn media(conn: &Connection, corp_key: i64, media_id: &str) -> Result<Option<MediaFile>> {
    let row = conn
        .prepare_cached(
            "SELECT media_type, blob, size, file_name, content_type, created_at, expires_at
             FROM media WHERE corp_id = ?1 AND media_id = ?2",
        )?
        .query_row(params![corp_key, media_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Vec<u8>>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<i64>>(6)?,
            ))
        })
        .optional()?;
    let Some((media_type, blob, size, file_name, content_type, created_at, expires_at)) = row
    else {
        return Ok(None);
    };
    let corrupt = |what: &str| StoreError::Corrupt(format!("media {media_id}: {what}"));
    Ok(Some(MediaFile {
        media_id: media_id.to_owned(),
        media_type: MediaType::parse(&media_type).ok_or_else(|| corrupt("unknown type"))?,
        blob: blob
            .try_into()
            .map_err(|_| corrupt("a blob id not of 32 bytes"))?,
        size: u64::try_from(size).map_err(|_| corrupt("a negative size"))?,
        file_name,
        content_type,
        created_at,
        expires_at,
    }))
}
