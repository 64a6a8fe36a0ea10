//! The files of a database, private to the user patrol runs as: the database, its WAL and
//! shared-memory index (SQLite gives those the database file's mode), and the lock file are
//! created with mode 0600 in a directory created with mode 0700, and an existing file readable
//! by others is tightened to 0600 when the store opens it. The cursor key and the token key
//! live in the database, so no other local user can read them.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

/// The mode of every file patrol creates for a database.
#[cfg(unix)]
pub(crate) const FILE_MODE: u32 = 0o600;

/// The files SQLite keeps beside a database.
pub(crate) fn companions(database: &Path) -> [PathBuf; 3] {
    ["-wal", "-shm", "-journal"].map(|suffix| beside(database, suffix))
}

/// The file named as `database` with `suffix` appended (`-wal`, `-lock`…).
pub(crate) fn beside(database: &Path, suffix: &str) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Opens with `options`, creating the file (if the options create) with mode 0600.
pub(crate) fn open_private(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    let file = options.open(path)?;
    tighten(path);
    Ok(file)
}

/// Creates a directory and its missing parents with mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates the database file with mode 0600 when it is missing (SQLite then opens it, and
/// gives its WAL and shared-memory files the same mode), and tightens the database and the
/// files beside it when another user may read them.
pub(crate) fn prepare_database(database: &Path) -> io::Result<()> {
    match open_private(OpenOptions::new().write(true).create_new(true), database) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => tighten(database),
        Err(e) => return Err(e),
    }
    for file in companions(database) {
        if file.exists() {
            tighten(&file);
        }
    }
    Ok(())
}

/// Sets a file's mode to 0600 when group or others have any access to it.
fn tighten(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Ok(metadata) = std::fs::metadata(path) else {
            return;
        };
        let mode = metadata.permissions().mode();
        if mode & 0o077 == 0 {
            return;
        }
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE)) {
            Ok(()) => tracing::info!(
                path = %path.display(),
                from = format!("{:o}", mode & 0o777),
                "made the database file private (mode 600)"
            ),
            Err(error) => tracing::warn!(
                path = %path.display(),
                %error,
                "the database file is readable by other users and its mode cannot be changed"
            ),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Removes a database and the files beside it (not its lock); missing files are fine.
pub(crate) fn remove_database(database: &Path) -> io::Result<()> {
    for file in std::iter::once(database.to_owned()).chain(companions(database)) {
        match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot remove {}: {e}", file.display()),
                ));
            }
        }
    }
    Ok(())
}
