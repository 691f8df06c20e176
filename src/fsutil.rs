//! Atomic file writes: a temp file in the target's directory, fsync, rename, fsync the
//! directory. A failure or a kill mid-write leaves the previous file intact, never a
//! half-written report, snapshot or baseline.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

/// Replaces `path` with `contents` atomically. A new file gets mode 0644; an existing
/// file keeps its permissions.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_atomic_pieces(path, &[contents])
}

/// [`write_atomic`] of the concatenation of `pieces` (a big report is never one string).
pub fn write_atomic_pieces(path: &Path, pieces: &[impl AsRef<[u8]>]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".driftmux-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    for piece in pieces {
        tmp.write_all(piece.as_ref())?;
    }
    let permissions = match fs::metadata(path) {
        Ok(meta) => meta.permissions(),
        Err(_) => default_permissions(),
    };
    tmp.as_file().set_permissions(permissions)?;
    tmp.as_file().sync_all()?;
    crash_point(path);
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = File::open(dir) {
        // Makes the rename durable; not every filesystem supports syncing a directory.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Test builds only: `DRIFTMUX_TEST_CRASH_BEFORE_RENAME=SUFFIX` kills the process (abort,
/// like a SIGKILL: no destructor runs) when writing a file whose name ends with SUFFIX, after
/// the new content is written and synced but before the rename: the worst moment for a
/// non-atomic writer. Compiled out of release builds.
fn crash_point(path: &Path) {
    #[cfg(debug_assertions)]
    if let Some(suffix) = std::env::var_os("DRIFTMUX_TEST_CRASH_BEFORE_RENAME") {
        if path
            .as_os_str()
            .to_string_lossy()
            .ends_with(&*suffix.to_string_lossy())
        {
            std::process::abort();
        }
    }
    #[cfg(not(debug_assertions))]
    let _ = path;
}

#[cfg(unix)]
fn default_permissions() -> fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    fs::Permissions::from_mode(0o644)
}

#[cfg(not(unix))]
fn default_permissions() -> fs::Permissions {
    let mut p = fs::metadata(".").map(|m| m.permissions()).unwrap();
    p.set_readonly(false);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
    }

    #[test]
    fn failure_leaves_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("report.json");
        assert!(write_atomic(&path, b"x").is_err());
    }
}
