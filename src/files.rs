//! Files the user names: only regular files are read (a FIFO would block a
//! run forever, `/dev/zero` never ends), and only up to a size bound; the
//! advisory `--lock-file`.

use std::fs::TryLockError;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::exit::{Exit, Staged};

/// Why a file the user named cannot be used: a usage error (exit 2), but
/// for a lock another run holds (exit 75).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {flag} {}: {source}", path.display())]
    Unreadable {
        flag: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A FIFO, a device, a socket (or a directory where a file belongs).
    #[error("{flag} {}: {kind}; give a file{}", path.display(), if *writing { " path" } else { "" })]
    NotRegular {
        flag: String,
        path: PathBuf,
        /// `not a regular file (a FIFO)`, `a FIFO`...
        kind: String,
        writing: bool,
    },
    #[error("{flag} {}: {why}", path.display())]
    TooLarge {
        flag: String,
        path: PathBuf,
        why: String,
    },
    #[error("{flag} {}: not UTF-8 text", path.display())]
    NotUtf8 {
        flag: String,
        path: PathBuf,
        #[source]
        source: std::string::FromUtf8Error,
    },
    #[error("cannot open --lock-file {}: {source}", path.display())]
    LockOpen {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("another run holds the lock {}; not running twice at once", path.display())]
    LockHeld { path: PathBuf },
    #[error("cannot lock {}: {source}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Staged for FileError {
    fn exit(&self) -> Exit {
        match self {
            FileError::LockHeld { .. } => Exit::Temporary,
            _ => Exit::Usage,
        }
    }
}

/// The largest configuration file read (`--kafka-config`).
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Opens `path` for reading without blocking (a FIFO with no writer would
/// block a plain `open`) and returns it with its metadata, taken from the
/// open file so that nothing can swap the file in between.
fn open(path: &Path) -> std::io::Result<(std::fs::File, std::fs::Metadata)> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    Ok((file, meta))
}

/// Reads a small regular text file; anything else is a usage error (exit 2)
/// naming `flag`.
pub fn read_config(path: &Path, flag: &str) -> Result<String> {
    let too_large = |why: String| FileError::TooLarge {
        flag: flag.to_string(),
        path: path.to_path_buf(),
        why,
    };
    let cannot = |source: std::io::Error| FileError::Unreadable {
        flag: flag.to_string(),
        path: path.to_path_buf(),
        source,
    };
    let (file, meta) = open(path).map_err(cannot)?;
    if !meta.is_file() {
        return Err(FileError::NotRegular {
            flag: flag.to_string(),
            path: path.to_path_buf(),
            kind: format!("not a regular file ({})", kind(&meta)),
            writing: false,
        }
        .into());
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_large(format!(
            "{} bytes; at most {MAX_CONFIG_BYTES} bytes (1 MiB) are read",
            meta.len()
        ))
        .into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large(format!("larger than {MAX_CONFIG_BYTES} bytes (1 MiB)")).into());
    }
    let text = String::from_utf8(bytes).map_err(|source| FileError::NotUtf8 {
        flag: flag.to_string(),
        path: path.to_path_buf(),
        source,
    })?;
    Ok(text)
}

/// A path we will create or open for writing: absent, or a regular file.
pub fn check_writable(path: &Path, flag: &str) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(FileError::NotRegular {
            flag: flag.to_string(),
            path: path.to_path_buf(),
            kind: format!("not a regular file ({})", kind(&meta)),
            writing: true,
        }
        .into()),
        _ => Ok(()),
    }
}

/// A path a library will read (librdkafka's `ssl.ca.location` and the like):
/// absent (the library says so), a regular file or a directory; a FIFO, a
/// device or a socket would block or never end, and is a usage error.
pub fn check_readable_path(path: &Path, what: &str) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() && !meta.is_dir() => Err(FileError::NotRegular {
            flag: what.to_string(),
            path: path.to_path_buf(),
            kind: kind(&meta).to_string(),
            writing: false,
        }
        .into()),
        _ => Ok(()),
    }
}

/// Reads a regular file of at most `max` bytes, `None` for anything else
/// (absent, a FIFO, a device, too large).
pub fn read_if_small(path: &Path, max: u64) -> Option<String> {
    let (file, meta) = open(path).ok()?;
    if !meta.is_file() || meta.len() > max {
        return None;
    }
    let mut text = String::new();
    file.take(max).read_to_string(&mut text).ok()?;
    Some(text)
}

fn kind(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// Takes the advisory `--lock-file` (publish and backfill share it); another
/// run holding it is a temporary condition (exit 75). Held until dropped.
pub fn lock(path: &Path) -> Result<std::fs::File> {
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|source| FileError::LockOpen {
            path: path.to_path_buf(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(FileError::LockHeld {
            path: path.to_path_buf(),
        }
        .into()),
        Err(TryLockError::Error(source)) => Err(FileError::Lock {
            path: path.to_path_buf(),
            source,
        }
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_small_regular_files_are_read() {
        let dir = std::env::temp_dir().join(format!("eds-kafka-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("client.properties");
        std::fs::write(&file, "a=b\n").unwrap();
        assert_eq!(read_config(&file, "--kafka-config").unwrap(), "a=b\n");
        let big = dir.join("big");
        std::fs::write(&big, vec![b'#'; MAX_CONFIG_BYTES as usize + 1]).unwrap();
        for path in [dir.as_path(), Path::new("/dev/zero"), big.as_path()] {
            let e = read_config(path, "--kafka-config").unwrap_err();
            assert_eq!(crate::failure::exit_of(&e), Exit::Usage, "{path:?}");
            assert!(format!("{e}").contains("--kafka-config"), "{e}");
            let typed = e.chain().find_map(|c| c.downcast_ref::<FileError>());
            let want_large = path == big.as_path();
            assert!(
                matches!(typed, Some(FileError::TooLarge { .. })) == want_large
                    && matches!(typed, Some(FileError::NotRegular { .. })) != want_large,
                "{path:?}: {typed:?}"
            );
        }
        assert!(check_writable(&dir, "--lock-file").is_err());
        assert!(check_writable(&file, "--lock-file").is_ok());
        assert!(check_writable(&dir.join("absent"), "--lock-file").is_ok());
        assert!(check_readable_path(Path::new("/dev/zero"), "ssl.ca.location").is_err());
        assert!(check_readable_path(&dir, "ssl.ca.location").is_ok());
        assert!(check_readable_path(&file, "ssl.ca.location").is_ok());
        assert_eq!(read_if_small(&file, 10).as_deref(), Some("a=b\n"));
        assert_eq!(read_if_small(&big, 10), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
