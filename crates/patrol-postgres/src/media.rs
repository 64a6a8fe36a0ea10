//! What is kept of uploaded media, in PostgreSQL.

use patrol_domain::media::{MediaFile, MediaType};
use patrol_store::{Result, StoreError};

use crate::PostgresStore;
use crate::error::Error;

#[async_trait::async_trait]
impl patrol_store::MediaStore for PostgresStore {
    async fn create_media(&self, corp_key: i64, media: MediaFile) -> Result<()> {
        let size = i64::try_from(media.size)
            .map_err(|_| StoreError::Conflict(format!("a medium of {} bytes", media.size)))?;
        let inserted = self
            .client()
            .await?
            .execute(
                "INSERT INTO media (corp_id, media_id, media_type, blob, size, file_name,
                                    content_type, created_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (corp_id, media_id) DO NOTHING",
                &[
                    &corp_key,
                    &media.media_id,
                    &media.media_type.name(),
                    &media.blob.to_vec(),
                    &size,
                    &media.file_name,
                    &media.content_type,
                    &media.created_at,
                    &media.expires_at,
                ],
            )
            .await
            .map_err(Error::from)?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!(
                "media {} already exists",
                media.media_id
            )));
        }
        Ok(())
    }

    async fn media(&self, corp_key: i64, media_id: &str) -> Result<Option<MediaFile>> {
        // PostgreSQL's text holds no U+0000: no media id of the corp does either.
        if media_id.contains('\0') {
            return Ok(None);
        }
        let row = self
            .client()
            .await?
            .query_opt(
                "SELECT media_type, blob, size, file_name, content_type, created_at, expires_at
                 FROM media WHERE corp_id = $1 AND media_id = $2",
                &[&corp_key, &media_id],
            )
            .await
            .map_err(Error::from)?;
        let Some(row) = row else {
            return Ok(None);
        };
        let corrupt = |what: &str| StoreError::Corrupt(format!("media {media_id}: {what}"));
        let media_type: String = row.get(0);
        let blob: Vec<u8> = row.get(1);
        let size: i64 = row.get(2);
        Ok(Some(MediaFile {
            media_id: media_id.to_owned(),
            media_type: MediaType::parse(&media_type).ok_or_else(|| corrupt("unknown type"))?,
            blob: blob
                .try_into()
                .map_err(|_| corrupt("a blob id not of 32 bytes"))?,
            size: u64::try_from(size).map_err(|_| corrupt("a negative size"))?,
            file_name: row.get(3),
            content_type: row.get(4),
            created_at: row.get(5),
            expires_at: row.get(6),
        }))
    }
}
