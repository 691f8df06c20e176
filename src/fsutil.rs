//! Atomic file writes: a temp file in the target's directory, fsync, rename, fsync the
//! directory. A failure or a kill mid-write leaves the previous file intact, never a
//! half-written report, snapshot or baseline.
//!
//! A big file is written as it is produced (a report is never one string in memory), and
//! what is written is flushed to the disk on a helper thread every few MiB while writing
//! goes on, so the final fsync has little left to wait for.
//!
//! Replacing a big file frees its blocks, which the kernel does when the last reference to
//! it goes (~10 ms for a 16 MiB report, ~90 ms for 164 MiB): the replaced file is held open
//! across the rename and let go on a helper thread, so that work is done beside the rest
//! of the run instead of inside `rename`.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;
use std::sync::mpsc;
use std::thread::{Scope, ScopedJoinHandle};

/// Bytes written between two background flushes.
const FLUSH_EVERY: u64 = 4 << 20;

/// A replaced file at least this big is let go on a helper thread (see the module docs).
const RELEASE_BIG_FILES_FROM: u64 = 1 << 20;

/// Replaces `path` with `contents` atomically. A new file gets mode 0644; an existing
/// file keeps its permissions.
pub fn write_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_atomic_with(path, |out| out.write_all(contents))
}

/// [`write_atomic`] of what `write` writes; an error from `write` leaves the previous file.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    write_flushing_every(path, FLUSH_EVERY, write)
}

fn write_flushing_every(
    path: &Path,
    flush_every: u64,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(".driftmux-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    std::thread::scope(|scope| {
        let mut out = Flushing {
            file: tmp.as_file(),
            scope,
            flush_every,
            unflushed: 0,
            helper: None,
        };
        let written = write(&mut out);
        // A failed flush is the cause when writing stopped on it: its error comes first.
        let flushed = out.finish();
        flushed.and(written)
    })?;
    let permissions = match fs::metadata(path) {
        Ok(meta) => Some(meta.permissions()),
        Err(_) => default_permissions(),
    };
    if let Some(permissions) = permissions {
        tmp.as_file().set_permissions(permissions)?;
    }
    tmp.as_file().sync_all()?;
    crash_point(path);
    let replaced = hold_big_file(path);
    tmp.persist(path).map_err(|e| e.error)?;
    if let Some(replaced) = replaced {
        // Detached: the last close frees the blocks, beside whatever the run does next.
        // Should no thread start, the closure (and the file with it) is dropped here.
        let _ = std::thread::Builder::new()
            .name("driftmux-release".into())
            .spawn(move || drop(replaced));
    }
    if let Ok(d) = File::open(dir) {
        // Makes the rename durable; not every filesystem supports syncing a directory.
        let _ = d.sync_all();
    }
    Ok(())
}

/// The regular file at `path`, open, when it is big enough to be worth letting go on a
/// helper thread (anything else, or any error: `None`, and the rename frees it).
#[cfg(unix)]
fn hold_big_file(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let meta = fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() < RELEASE_BIG_FILES_FROM {
        return None;
    }
    // Non-blocking: were a FIFO put there since, opening it must not wait for a writer.
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
        .ok()
}

#[cfg(not(unix))]
fn hold_big_file(_path: &Path) -> Option<File> {
    None
}

/// Writes to a file, and every `flush_every` bytes has a helper thread flush the data
/// written so far (fdatasync) while writing goes on.
struct Flushing<'scope, 'env> {
    file: &'env File,
    scope: &'scope Scope<'scope, 'env>,
    flush_every: u64,
    unflushed: u64,
    /// Started at the first flush: small files never start one.
    helper: Option<(
        mpsc::SyncSender<()>,
        ScopedJoinHandle<'scope, io::Result<()>>,
    )>,
}

impl Flushing<'_, '_> {
    /// Stops the helper; its error, if a flush failed (a later fsync might not report it).
    fn finish(self) -> io::Result<()> {
        match self.helper {
            Some((requests, helper)) => {
                drop(requests);
                helper.join().expect("the flushing thread panicked")
            }
            None => Ok(()),
        }
    }
}

impl Write for Flushing<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = (&*self.file).write(buf)?;
        self.unflushed += n as u64;
        if self.unflushed >= self.flush_every {
            let file = self.file;
            let (requests, _) = self.helper.get_or_insert_with(|| {
                let (tx, rx) = mpsc::sync_channel::<()>(1);
                let helper = self.scope.spawn(move || {
                    for () in rx {
                        file.sync_data()?;
                    }
                    Ok(())
                });
                (tx, helper)
            });
            // Busy with the previous flush: this data goes with the next one.
            match requests.try_send(()) {
                Ok(()) => self.unflushed = 0,
                Err(mpsc::TrySendError::Full(())) => {}
                // The helper stopped on an error: `finish` reports it.
                Err(mpsc::TrySendError::Disconnected(())) => {
                    return Err(io::Error::other("flushing the file to disk failed"))
                }
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
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

/// A new file's permissions: 0644 (the temp file's own are 0600).
#[cfg(unix)]
fn default_permissions() -> Option<fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(fs::Permissions::from_mode(0o644))
}

/// Elsewhere the temp file's own (writable, as a new file's) are kept.
#[cfg(not(unix))]
fn default_permissions() -> Option<fs::Permissions> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file's permission bits.
    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn replaces_content_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_atomic(&path, b"one").unwrap();
        // Not the temp file's 0600: a report is read by whoever uploads it.
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o644);
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("report.json")]);
    }

    #[test]
    fn the_temp_file_is_written_beside_the_target() {
        // Elsewhere (the working directory), the rename could cross filesystems (not
        // atomic, or failing) and the directory synced would not be the target's.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_atomic_with(&path, |out| {
            let temps: Vec<String> = fs::read_dir(dir.path())?
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(
                matches!(&temps[..], [t] if t.starts_with(".driftmux-") && t.ends_with(".tmp")),
                "{temps:?}"
            );
            out.write_all(b"report")
        })
        .unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"report");
    }

    #[test]
    fn big_writes_are_flushed_on_the_way_and_complete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        let chunk: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        write_flushing_every(&path, 4096, |out| {
            for _ in 0..50 {
                out.write_all(&chunk)?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(fs::read(&path).unwrap(), chunk.repeat(50));
    }

    #[cfg(unix)]
    #[test]
    fn a_failed_flush_on_the_way_is_an_error() {
        // A pipe cannot be synced (EINVAL), as a disk's write error would fail it. The
        // helper's error must come back: the final fsync may not see it again.
        let (_reader, writer) = io::pipe().unwrap();
        let file = File::from(std::os::fd::OwnedFd::from(writer));
        let flushed = std::thread::scope(|scope| {
            let mut out = Flushing {
                file: &file,
                scope,
                flush_every: 4,
                unflushed: 0,
                helper: None,
            };
            out.write_all(b"eight by")?;
            out.finish()
        });
        assert_eq!(
            flushed.unwrap_err().kind(),
            io::ErrorKind::InvalidInput,
            "fsync's EINVAL"
        );
    }

    #[test]
    fn an_error_while_writing_leaves_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        write_atomic(&path, b"old").unwrap();
        let failed = write_flushing_every(&path, 4, |out| {
            out.write_all(b"half of the new report")?;
            Err(io::Error::other("rendering stopped"))
        });
        assert_eq!(failed.unwrap_err().to_string(), "rendering stopped");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_big_regular_files_are_held_for_release() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.json");
        let size = RELEASE_BIG_FILES_FROM as usize;
        fs::write(&big, vec![b'x'; size]).unwrap();
        let small = dir.path().join("small.json");
        fs::write(&small, vec![b'x'; size - 1]).unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&big, &link).unwrap();
        let fifo = dir.path().join("fifo.json");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(hold_big_file(&big).is_some());
        assert!(hold_big_file(&small).is_none());
        assert!(
            hold_big_file(&link).is_none(),
            "a symlink is replaced, not its target"
        );
        assert!(hold_big_file(&dir.path().join("missing.json")).is_none());
        if made.is_ok_and(|s| s.success()) {
            // Never opened: opening a FIFO for reading would wait for a writer.
            assert!(hold_big_file(&fifo).is_none());
            write_atomic(&fifo, b"report").unwrap();
            assert_eq!(fs::read(&fifo).unwrap(), b"report");
        }
    }

    #[test]
    fn replacing_a_big_file_keeps_its_permissions_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("report.json");
        let old = vec![b'o'; RELEASE_BIG_FILES_FROM as usize * 2];
        write_atomic(&path, &old).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        }
        let reader = File::open(&path).unwrap();
        write_atomic(&path, b"new").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new");
        // Someone still reading the old file reads it whole.
        let mut kept = Vec::new();
        io::Read::read_to_end(&mut &reader, &mut kept).unwrap();
        assert_eq!(kept, old);
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn failure_leaves_the_previous_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("report.json");
        assert!(write_atomic(&path, b"x").is_err());
    }
}
