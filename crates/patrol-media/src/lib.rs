//! patrol's media blobs: the bytes of uploaded images, voice, videos and files, stored once by
//! their content (BLAKE3) behind the [`BlobStore`] boundary, streamed in and out (never a whole
//! file in memory).
//!
//! What a media id means (its corp, type, name, expiry) is the store's (`patrol_store`); this
//! crate only keeps bytes. Because a blob is named by its content, any number of writers may
//! store the same bytes at once and readers never see a half-written blob: [`FsBlobStore`]
//! writes to a temporary file, syncs it, and renames it into place.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// The name of a blob: the BLAKE3 hash of its bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlobId([u8; 32]);

impl BlobId {
    pub fn from_bytes(bytes: [u8; 32]) -> BlobId {
        BlobId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The id of these bytes.
    pub fn of(bytes: &[u8]) -> BlobId {
        BlobId(*blake3::hash(bytes).as_bytes())
    }

    /// Lowercase hex, 64 characters.
    pub fn to_hex(&self) -> String {
        blake3::Hash::from_bytes(self.0).to_hex().to_string()
    }

    /// Parses 64 hex characters.
    pub fn from_hex(text: &str) -> Option<BlobId> {
        blake3::Hash::from_hex(text)
            .ok()
            .map(|hash| BlobId(*hash.as_bytes()))
    }
}

impl fmt::Debug for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BlobId({})", self.to_hex())
    }
}

impl fmt::Display for BlobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A blob once stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredBlob {
    pub id: BlobId,
    pub size: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The bytes went past the limit the caller set; nothing was stored.
    #[error("more than {max} bytes")]
    TooLarge { max: u64 },
    /// No blob of this id.
    #[error("no blob {0}")]
    NotFound(BlobId),
    /// Reading the upload failed (the client went away, the body was cut); nothing was stored.
    #[error("cannot read the upload: {0}")]
    Read(#[source] io::Error),
    /// The store itself failed.
    #[error("the blob store failed: {0}")]
    Io(#[source] io::Error),
}

/// A reader of (part of) a blob.
pub type BlobReader = Box<dyn AsyncRead + Send + Unpin>;

/// Where media bytes live. Implementations: [`FsBlobStore`] (a directory, the default).
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Stores what `reader` yields, at most `max` bytes ([`BlobError::TooLarge`] past it, and
    /// nothing is stored). The same bytes stored twice are one blob.
    async fn put(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        max: u64,
    ) -> Result<StoredBlob, BlobError>;

    /// Reads `len` bytes of a blob from `start` (the caller keeps within its size).
    async fn open(&self, id: BlobId, start: u64, len: u64) -> Result<BlobReader, BlobError>;

    /// The size of a blob, or `None` when there is none of this id.
    async fn size(&self, id: BlobId) -> Result<Option<u64>, BlobError>;

    /// Removes a blob; `false` when there was none of this id. The caller makes sure no medium
    /// names it any more (a deleted corp's, `DELETE /admin/v1/corps/{corpid}?force=true`).
    async fn remove(&self, id: BlobId) -> Result<bool, BlobError>;
}

/// Blobs as files in a directory: `<root>/<first 2 hex digits>/<64 hex digits>`, written through
/// `<root>/tmp/` and renamed into place once complete and synced. Files are private to their
/// owner (mode 0600, directories 0700), like the database's.
///
/// Several servers may share one such directory (a network file system they all mount): names
/// are contents and renames are atomic, so concurrent writers of the same bytes agree and a
/// reader never sees a partial blob.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    root: PathBuf,
}

/// How old a temporary file must be to be taken for the leftover of a dead upload.
pub const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Bytes copied at a time.
const CHUNK: usize = 64 * 1024;

impl FsBlobStore {
    /// A store in `root`, created (mode 0700) when missing. Temporary files older than
    /// [`STALE_TEMPORARY`] (left by a process that died in the middle of an upload) are removed;
    /// younger ones may be another server's upload in progress.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<FsBlobStore> {
        let root = root.into();
        let tmp = root.join("tmp");
        create_private_dir(&tmp)?;
        for entry in std::fs::read_dir(&tmp)?.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|age| age > STALE_TEMPORARY);
            if stale && let Err(error) = std::fs::remove_file(entry.path()) {
                tracing::warn!(path = %entry.path().display(), %error, "cannot remove a stale temporary blob");
            }
        }
        Ok(FsBlobStore { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, id: BlobId) -> PathBuf {
        let hex = id.to_hex();
        self.root.join(&hex[..2]).join(hex)
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[async_trait::async_trait]
impl BlobStore for FsBlobStore {
    async fn put(
        &self,
        reader: &mut (dyn AsyncRead + Send + Unpin),
        max: u64,
    ) -> Result<StoredBlob, BlobError> {
        let temporary = self
            .root
            .join("tmp")
            .join(format!("{:032x}", rand::random::<u128>()));
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        options.mode(0o600);
        let mut file = options.open(&temporary).await.map_err(BlobError::Io)?;
        // Removed on every early return: only a complete blob is renamed into place.
        let guard = RemoveOnDrop(Some(temporary.clone()));
        let mut hasher = blake3::Hasher::new();
        let mut size: u64 = 0;
        let mut buffer = vec![0u8; CHUNK];
        loop {
            let read = reader.read(&mut buffer).await.map_err(BlobError::Read)?;
            if read == 0 {
                break;
            }
            size += read as u64;
            if size > max {
                return Err(BlobError::TooLarge { max });
            }
            hasher.update(&buffer[..read]);
            file.write_all(&buffer[..read])
                .await
                .map_err(BlobError::Io)?;
        }
        file.sync_all().await.map_err(BlobError::Io)?;
        drop(file);
        let id = BlobId(*hasher.finalize().as_bytes());
        let path = self.path(id);
        let dir = path.parent().expect("a blob's path has a directory");
        let mut builder = tokio::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        builder.mode(0o700);
        builder.create(dir).await.map_err(BlobError::Io)?;
        if tokio::fs::try_exists(&path).await.map_err(BlobError::Io)? {
            // The same bytes are there already: keep the one copy.
            return Ok(StoredBlob { id, size });
        }
        tokio::fs::rename(&temporary, &path)
            .await
            .map_err(BlobError::Io)?;
        guard.disarm();
        // The rename itself survives a power cut once the directory is synced.
        if let Ok(dir) = tokio::fs::File::open(dir).await {
            let _ = dir.sync_all().await;
        }
        Ok(StoredBlob { id, size })
    }

    async fn open(&self, id: BlobId, start: u64, len: u64) -> Result<BlobReader, BlobError> {
        let mut file = match tokio::fs::File::open(self.path(id)).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BlobError::NotFound(id)),
            Err(e) => return Err(BlobError::Io(e)),
        };
        if start > 0 {
            file.seek(io::SeekFrom::Start(start))
                .await
                .map_err(BlobError::Io)?;
        }
        Ok(Box::new(file.take(len)))
    }

    async fn size(&self, id: BlobId) -> Result<Option<u64>, BlobError> {
        match tokio::fs::metadata(self.path(id)).await {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BlobError::Io(e)),
        }
    }

    async fn remove(&self, id: BlobId) -> Result<bool, BlobError> {
        match tokio::fs::remove_file(self.path(id)).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(BlobError::Io(e)),
        }
    }
}

/// Removes a temporary file when dropped, unless disarmed.
struct RemoveOnDrop(Option<PathBuf>);

impl RemoveOnDrop {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take()
            && let Err(error) = std::fs::remove_file(&path)
            && error.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), %error, "cannot remove a temporary blob");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(mut reader: BlobReader) -> Vec<u8> {
        let mut out = Vec::new();
        reader.read_to_end(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn bytes_go_in_and_come_out_whole_or_in_part() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let stored = store.put(&mut bytes.as_slice(), 1 << 20).await.unwrap();
        assert_eq!(
            stored,
            StoredBlob {
                id: BlobId::of(&bytes),
                size: 200_000
            }
        );
        assert_eq!(store.size(stored.id).await.unwrap(), Some(200_000));
        let whole = read_all(store.open(stored.id, 0, 200_000).await.unwrap()).await;
        assert_eq!(whole, bytes);
        let middle = read_all(store.open(stored.id, 70_000, 10).await.unwrap()).await;
        assert_eq!(middle, &bytes[70_000..70_010]);
    }

    #[tokio::test]
    async fn a_removed_blob_is_gone_and_removing_it_again_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let stored = store.put(&mut &b"to remove"[..], 100).await.unwrap();
        assert!(store.remove(stored.id).await.unwrap());
        assert_eq!(store.size(stored.id).await.unwrap(), None);
        assert!(!store.remove(stored.id).await.unwrap());
    }

    #[tokio::test]
    async fn the_same_bytes_are_one_blob_and_too_many_are_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path()).unwrap();
        let (mut first, mut second) = (&b"same bytes"[..], &b"same bytes"[..]);
        let (a, b) = tokio::join!(store.put(&mut first, 100), store.put(&mut second, 100));
        assert_eq!(a.unwrap(), b.unwrap());
        assert!(matches!(
            store.put(&mut &[7u8; 101][..], 100).await,
            Err(BlobError::TooLarge { max: 100 })
        ));
        assert_eq!(store.size(BlobId::of(&[7u8; 101])).await.unwrap(), None);
        // No temporary file is left behind.
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
        let missing = BlobId::of(b"never stored");
        assert!(matches!(
            store.open(missing, 0, 1).await,
            Err(BlobError::NotFound(_))
        ));
    }

    #[test]
    fn only_stale_temporaries_are_swept_at_open() {
        let dir = tempfile::tempdir().unwrap();
        drop(FsBlobStore::open(dir.path()).unwrap());
        let tmp = dir.path().join("tmp");
        let (stale, fresh) = (tmp.join("stale"), tmp.join("fresh"));
        std::fs::write(&stale, b"left by a crash").unwrap();
        std::fs::write(&fresh, b"an upload in progress").unwrap();
        let two_days_ago =
            std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86_400);
        std::fs::File::options()
            .write(true)
            .open(&stale)
            .unwrap()
            .set_modified(two_days_ago)
            .unwrap();
        drop(FsBlobStore::open(dir.path()).unwrap());
        assert!(!stale.exists() && fresh.exists());
    }

    #[test]
    fn ids_round_trip_through_hex() {
        let id = BlobId::of(b"x");
        assert_eq!(BlobId::from_hex(&id.to_hex()), Some(id));
        assert_eq!(BlobId::from_hex("nope"), None);
    }
}
