//! Output files that are never half-written (MODEL.md sections 8 and 10: exit code 73,
//! "nothing partial is left behind").
//!
//! A [`PendingFile`] is reserved before a long run: it creates its temporary file next to
//! the target at once, so a missing or read-only directory fails before any computing.
//! [`PendingFile::commit`] writes the bytes, fsyncs, renames the temporary file over the
//! target (atomic on POSIX within one directory) and, on Unix, fsyncs the directory.
//! Invariants: the target is either untouched or holds exactly the committed bytes; a
//! `PendingFile` dropped without a successful commit removes its temporary file. The
//! temporary file is `.<name>.<pid>.tmp` in the target's directory (with `-<k>` added to
//! the pid if that name is already taken, e.g. two reservations of one target in one
//! process). Every reserved temporary file is also listed process-wide until it is
//! committed or dropped, so an interrupt handler that ends the process at once can remove
//! them first ([`lock_pending`], [`remove_listed`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The temporary files reserved and not yet committed or dropped, in this process.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn pending() -> MutexGuard<'static, Vec<PathBuf>> {
    // A panic while the list was held cannot leave it inconsistent (push and retain).
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

fn forget(list: &mut Vec<PathBuf>, temp: &Path) {
    list.retain(|p| p != temp);
}

/// Locks the list of temporary files reserved and not yet committed: while the guard is
/// held no file is reserved, committed or dropped. For an interrupt handler, which decides
/// under it and, if it ends the process (which then never drops its `PendingFile`s),
/// first removes them with [`remove_listed`].
pub fn lock_pending() -> MutexGuard<'static, Vec<PathBuf>> {
    pending()
}

/// Removes every temporary file on the locked list (see [`lock_pending`]).
pub fn remove_listed(list: &mut Vec<PathBuf>) {
    for temp in list.drain(..) {
        let _ = fs::remove_file(temp);
    }
}

const HINT: &str = "check the directory exists and is writable";

/// Why an output file could not be reserved or written.
#[derive(Debug, thiserror::Error)]
pub enum AtomicError {
    /// The temporary file next to the target could not be created.
    #[error("cannot create output file {path}: {source} ({HINT})", path = .path.display())]
    Reserve {
        /// The target path.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The target is an existing directory.
    #[error("cannot write output file {path}: it is a directory; give a file name", path = .path.display())]
    TargetIsDirectory {
        /// The target path.
        path: PathBuf,
    },
    /// The target path has no file name (e.g. it ends in `..` or is a root).
    #[error("cannot write output file {path}: the path does not name a file", path = .path.display())]
    NoFileName {
        /// The target path.
        path: PathBuf,
    },
    /// Writing or syncing the temporary file failed.
    #[error("cannot write output file {path}: {source} ({HINT}, and the disk is not full)", path = .path.display())]
    Write {
        /// The target path.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// Renaming the temporary file over the target failed.
    #[error("cannot replace output file {path} with {temp}: {source} ({HINT})", path = .path.display(), temp = .temp.display())]
    Rename {
        /// The target path.
        path: PathBuf,
        /// The temporary file that was to replace it.
        temp: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
}

/// An output file reserved before a long run; see the module documentation.
#[derive(Debug)]
pub struct PendingFile {
    target: PathBuf,
    temp: PathBuf,
    file: Option<File>,
    committed: bool,
}

impl PendingFile {
    /// Reserves `target` by creating its temporary file now.
    pub fn create(target: &Path) -> Result<PendingFile, AtomicError> {
        if target.is_dir() {
            return Err(AtomicError::TargetIsDirectory {
                path: target.to_path_buf(),
            });
        }
        let Some(name) = target.file_name() else {
            return Err(AtomicError::NoFileName {
                path: target.to_path_buf(),
            });
        };
        let directory = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let name = name.to_string_lossy();
        let pid = std::process::id();
        let mut attempt = 0u32;
        loop {
            let temp_name = if attempt == 0 {
                format!(".{name}.{pid}.tmp")
            } else {
                format!(".{name}.{pid}-{attempt}.tmp")
            };
            let temp = directory.join(temp_name);
            // Created and listed under the list's lock, so an interrupt handler sees it
            // either not yet made or listed; listed only once this process owns it (a
            // name already taken, even by this process, is not listed again).
            let mut list = pending();
            let opened = OpenOptions::new().write(true).create_new(true).open(&temp);
            if opened.is_ok() {
                list.push(temp.clone());
            }
            drop(list);
            match opened {
                Ok(file) => {
                    return Ok(PendingFile {
                        target: target.to_path_buf(),
                        temp,
                        file: Some(file),
                        committed: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {
                    attempt += 1;
                }
                Err(source) => {
                    return Err(AtomicError::Reserve {
                        path: target.to_path_buf(),
                        source,
                    });
                }
            }
        }
    }

    /// The path the bytes will appear at.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Appends `bytes` to the temporary file, for output streamed while computing;
    /// `commit(&[])` then syncs and renames it into place. Nothing reaches the target
    /// before the commit.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), AtomicError> {
        let file = self
            .file
            .as_mut()
            .expect("a PendingFile holds its file until commit");
        file.write_all(bytes).map_err(|source| AtomicError::Write {
            path: self.target.clone(),
            source,
        })
    }

    /// Writes `bytes`, fsyncs and renames over the target. On error the target is left
    /// as it was and the temporary file is removed.
    pub fn commit(mut self, bytes: &[u8]) -> Result<(), AtomicError> {
        // From the first commit a Ctrl-C waits until all outputs are written.
        crate::interrupt::writing_outputs();
        let write_error = |source| AtomicError::Write {
            path: self.target.clone(),
            source,
        };
        let mut file = self
            .file
            .take()
            .expect("a PendingFile holds its file until commit");
        file.write_all(bytes).map_err(write_error)?;
        file.sync_all().map_err(write_error)?;
        commit_delay_for_tests();
        drop(file);
        if self.target.is_dir() {
            return Err(AtomicError::TargetIsDirectory {
                path: self.target.clone(),
            });
        }
        // Under the list's lock: an interrupt handler either removed the temporary file
        // before (the rename fails, and the process is ending) or waits until it is in
        // place and off the list.
        let mut list = pending();
        fs::rename(&self.temp, &self.target).map_err(|source| AtomicError::Rename {
            path: self.target.clone(),
            temp: self.temp.clone(),
            source,
        })?;
        forget(&mut list, &self.temp);
        drop(list);
        self.committed = true;
        sync_directory(self.temp.parent().unwrap_or(Path::new(".")));
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if !self.committed {
            self.file = None;
            // Nothing useful can be done if this fails; the file is hidden and named
            // after the process, so it is easy to find and remove.
            let mut list = pending();
            let _ = fs::remove_file(&self.temp);
            forget(&mut list, &self.temp);
        }
    }
}

/// For tests of an interrupt during commits: `ITFSIM_TEST_COMMIT_DELAY_MS` holds every
/// commit this long between writing its file and renaming it into place, so a signal can
/// be sent at a known point. Unset (always, outside tests), it costs one lookup per commit.
fn commit_delay_for_tests() {
    if let Some(ms) = std::env::var("ITFSIM_TEST_COMMIT_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}

/// Makes the rename durable. Best effort: the rename has already happened and is visible,
/// so a failure here is not reported.
fn sync_directory(directory: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(directory) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = directory;
}

/// Reserves and commits in one step.
pub fn write_atomic(target: &Path, bytes: &[u8]) -> Result<(), AtomicError> {
    PendingFile::create(target)?.commit(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn commit_writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        write_atomic(&target, b"first").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"first");
        let pending = PendingFile::create(&target).unwrap();
        assert_eq!(pending.target(), target);
        let temp_name = format!(".out.json.{}.tmp", std::process::id());
        assert_eq!(entries(dir.path()), vec![temp_name, "out.json".to_string()]);
        // The old content stays until commit.
        assert_eq!(fs::read(&target).unwrap(), b"first");
        pending.commit(b"second").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"second");
        assert_eq!(entries(dir.path()), vec!["out.json".to_string()]);
    }

    #[test]
    fn missing_directory_fails_at_reservation() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("no-such-dir").join("out.json");
        let err = PendingFile::create(&target).unwrap_err();
        assert!(matches!(err, AtomicError::Reserve { .. }));
        let message = err.to_string();
        assert!(message.contains("out.json"), "{message}");
        assert!(message.contains(HINT), "{message}");
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn drop_without_commit_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.html");
        {
            let _pending = PendingFile::create(&target).unwrap();
            assert_eq!(entries(dir.path()).len(), 1);
        }
        assert!(entries(dir.path()).is_empty());
        assert!(!target.exists());
    }

    #[test]
    fn target_that_is_a_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = PendingFile::create(dir.path()).unwrap_err();
        assert!(matches!(err, AtomicError::TargetIsDirectory { .. }));
        assert!(err.to_string().contains("is a directory"));
        // A directory appearing at the target after reservation is refused at commit.
        let target = dir.path().join("later");
        let pending = PendingFile::create(&target).unwrap();
        fs::create_dir(&target).unwrap();
        assert!(matches!(
            pending.commit(b"x"),
            Err(AtomicError::TargetIsDirectory { .. })
        ));
        assert_eq!(entries(dir.path()), vec!["later".to_string()]);
    }

    #[test]
    fn streamed_writes_appear_only_at_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("samples.csv");
        let mut pending = PendingFile::create(&target).unwrap();
        pending.write(b"a,b\n").unwrap();
        pending.write(b"1,2\n").unwrap();
        assert!(!target.exists());
        pending.commit(b"3,4\n").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"a,b\n1,2\n3,4\n");
    }

    #[test]
    fn two_reservations_of_one_target_do_not_collide() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let first = PendingFile::create(&target).unwrap();
        let second = PendingFile::create(&target).unwrap();
        assert_eq!(entries(dir.path()).len(), 2);
        drop(first);
        second.commit(b"a,b\n").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"a,b\n");
        assert_eq!(entries(dir.path()), vec!["out.csv".to_string()]);
    }

    #[test]
    fn root_path_is_refused() {
        let err = PendingFile::create(Path::new("/")).unwrap_err();
        assert!(matches!(
            err,
            AtomicError::TargetIsDirectory { .. } | AtomicError::NoFileName { .. }
        ));
    }
}
