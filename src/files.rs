//! Files the user names: only regular files are read (a FIFO would block a
//! run forever, `/dev/zero` never ends), and only up to a size bound; the
//! advisory `--lock-file`.

use std::fs::TryLockError;
use std::io::Read;
use std::path::Path;

use anyhow::Result;

use crate::exit::{fail, fail_with, staged, Exit, Staged};

/// Why a file the user named cannot be used: always a usage error (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{message}")]
    Unreadable {
        message: String,
        #[source]
        source: std::io::Error,
    },
    /// A FIFO, a device, a socket or a directory where a file belongs.
    #[error("{message}")]
    NotRegular { message: String },
    #[error("{message}")]
    TooLarge { message: String },
    #[error("{message}")]
    NotUtf8 {
        message: String,
        #[source]
        source: std::string::FromUtf8Error,
    },
}

impl Staged for FileError {
    fn exit(&self) -> Exit {
        Exit::Usage
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
    let shown = path.display();
    let too_large = |why: String| {
        let message = format!("{flag} {shown}: {why}");
        staged(FileError::TooLarge { message })
    };
    let cannot = |source: std::io::Error| {
        let message = format!("cannot read {flag} {shown}: {source}");
        staged(FileError::Unreadable { message, source })
    };
    let (file, meta) = open(path).map_err(cannot)?;
    if !meta.is_file() {
        let message = format!(
            "{flag} {shown}: not a regular file ({}); give a file",
            kind(&meta)
        );
        return Err(staged(FileError::NotRegular { message }));
    }
    if meta.len() > MAX_CONFIG_BYTES {
        return Err(too_large(format!(
            "{} bytes; at most {MAX_CONFIG_BYTES} bytes (1 MiB) are read",
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(too_large(format!(
            "larger than {MAX_CONFIG_BYTES} bytes (1 MiB)"
        )));
    }
    String::from_utf8(bytes).map_err(|source| {
        let message = format!("{flag} {shown}: not UTF-8 text");
        staged(FileError::NotUtf8 { message, source })
    })
}

/// A path we will create or open for writing: absent, or a regular file.
pub fn check_writable(path: &Path, flag: &str) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() => Err(staged(FileError::NotRegular {
            message: format!(
                "{flag} {}: not a regular file ({}); give a file path",
                path.display(),
                kind(&meta)
            ),
        })),
        _ => Ok(()),
    }
}

/// A path a library will read (librdkafka's `ssl.ca.location` and the like):
/// absent (the library says so), a regular file or a directory; a FIFO, a
/// device or a socket would block or never end, and is a usage error.
pub fn check_readable_path(path: &Path, what: &str) -> Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if !meta.is_file() && !meta.is_dir() => Err(staged(FileError::NotRegular {
            message: format!("{what} {}: {}; give a file", path.display(), kind(&meta)),
        })),
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
        .map_err(|e| {
            fail_with(
                Exit::Usage,
                format!("cannot open --lock-file {}: {e}", path.display()),
                e,
            )
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(fail(
            Exit::Temporary,
            format!(
                "another run holds the lock {}; not running twice at once",
                path.display()
            ),
        )),
        Err(TryLockError::Error(e)) => Err(fail(
            Exit::Usage,
            format!("cannot lock {}: {e}", path.display()),
        )),
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
            assert_eq!(crate::exit::exit_of(&e), Exit::Usage, "{path:?}");
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
