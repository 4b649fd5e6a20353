//! Files and folders that are the user's alone: settings, the health
//! journal, exports, the lock file and their folders are created 0600 and
//! 0700 whatever the umask, and an older, looser one is tightened when
//! farmhook next touches it. Elsewhere than on unix these are plain calls.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// Owner read and write only.
#[cfg(unix)]
const FILE_MODE: u32 = 0o600;
/// Owner only.
#[cfg(unix)]
const DIR_MODE: u32 = 0o700;

/// Options that create a file readable and writable by its owner only. The
/// caller adds read, write, append, create or truncate as it needs.
pub fn file_options() -> OpenOptions {
    let mut options = OpenOptions::new();
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, FILE_MODE);
    options
}

/// Creates `dir` (and any missing parents) owner-only, and tightens it if it
/// already existed with more access.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, DIR_MODE);
    builder.create(dir)?;
    tighten_dir(dir)
}

/// Takes group and other access away from an existing folder. A folder that
/// is missing is left so.
pub fn tighten_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = match std::fs::symlink_metadata(dir) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        // A symlinked config folder is the user's own arrangement: its
        // target is not ours to change.
        if meta.is_dir() && meta.permissions().mode() & 0o077 != 0 {
            let mode = meta.permissions().mode() & !0o077;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode))?;
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Takes group and other access away from an open file.
pub fn tighten_file(file: &File) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700))?;
        }
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// Tightens the file at `path` if there is one (never following a symlink).
pub fn tighten_path(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => tighten_file(&File::open(path)?),
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_folders_and_files_are_owner_only_and_old_ones_are_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_dir(&dir).unwrap();
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);

        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);

        let file = dir.join("f");
        file_options().write(true).create(true).open(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap();
        tighten_path(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        tighten_path(&dir.join("missing")).unwrap();
    }
}
/// Writes `bytes` to `path` atomically and owner-only: a temp file beside
/// it (created exclusively under an unguessable name), fsync, rename. For
/// small state files the settings lock does not cover (the printers' live
/// state).
pub fn write_private_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("the file has no folder"))?;
    let mut file = tempfile::Builder::new()
        .prefix(".farmhook.")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
