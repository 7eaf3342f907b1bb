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
//!
//! The target is written *through*, as `cp` or a shell's `>` would, never replaced by
//! something of another kind (a rename over the path itself would turn `--out /dev/null`
//! into a regular file, as root replacing the system's device node, and a symbolic link
//! into a plain file while the file it names stays stale):
//! - A symbolic link is followed to the end of its chain (each relative link read from
//!   its own directory), and the file there is what is replaced: the temporary file goes
//!   in *that* file's directory, so the rename stays within one directory and the links
//!   stay. A dangling link's final target path is where the file is created.
//! - An existing target that is not a regular file after following links (a character
//!   device such as `/dev/null` or a terminal, a FIFO, a pipe behind `/dev/stdout` or
//!   `/proc/self/fd/1`) has no temporary file and is never renamed over: it is opened for
//!   writing at reservation (so one that cannot be opened still fails before computing,
//!   exit 73, and opening a FIFO waits for its reader as a shell's `>` does), bytes given
//!   to [`PendingFile::write`] go straight through, and commit writes the rest. Atomicity
//!   means nothing for such a file; nothing is listed for the interrupt handler. A pipe
//!   whose reader has gone (`--out /dev/stdout | head`) is not an error, as it is not for
//!   plain standard output.
//! - A regular file that is this process's own standard output or error (on Unix, e.g.
//!   `--out /dev/stdout > log`) is written through that stream, at its position and in its
//!   append mode, as bash's `> /dev/stdout` does: replacing the file would drop what a
//!   `>>` kept and leave the stream, and whatever a script sends to it next, writing into
//!   a deleted file.
//! - A regular file reached through links whose chain does not name it (on Unix, the path
//!   at the end is not the same file, e.g. `/proc/self/fd/3` for a file that has been
//!   deleted) is written the same direct way, emptied just before the first bytes go in.
//! - A directory, or a link to one, is refused as before; so is a loop of links.

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

/// The most symbolic links followed from one target (Linux's own limit is 40).
const MAX_LINKS: usize = 40;

/// Why an output file could not be reserved or written.
#[derive(Debug, thiserror::Error)]
pub enum AtomicError {
    /// The temporary file next to the target could not be created, or the target (a
    /// special file, or a link to be followed) could not be opened or read.
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
    /// Writing or syncing the temporary file (or the special file) failed.
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

/// How a reserved target is written; see the module documentation.
#[derive(Debug)]
enum Mode {
    /// Into `temp`, renamed at commit over `dest` (the target with its links followed).
    Replace { dest: PathBuf, temp: PathBuf },
    /// Straight into the target, opened at reservation. `empty_first` while a regular
    /// file so reached still holds its old bytes (emptied before the first write).
    Direct { regular: bool, empty_first: bool },
}

/// An output file reserved before a long run; see the module documentation.
#[derive(Debug)]
pub struct PendingFile {
    target: PathBuf,
    mode: Mode,
    file: Option<File>,
    committed: bool,
}

/// Where the bytes for `target` go.
enum Resolved {
    /// Replace (or create) the file at this path, the target with its links followed.
    Replace(PathBuf),
    /// Write into the existing target itself.
    Direct { regular: bool },
    /// Write through this process's standard output or error (a copy of its descriptor),
    /// which is the regular file the target names.
    Stream(File),
}

fn resolve(target: &Path) -> Result<Resolved, AtomicError> {
    let reserve_error = |source| AtomicError::Reserve {
        path: target.to_path_buf(),
        source,
    };
    match fs::metadata(target) {
        Ok(meta) if meta.is_dir() => Err(AtomicError::TargetIsDirectory {
            path: target.to_path_buf(),
        }),
        Ok(meta) if !meta.is_file() => Ok(Resolved::Direct { regular: false }),
        Ok(meta) => {
            if let Some(stream) = own_stream(&meta) {
                return Ok(Resolved::Stream(stream));
            }
            let dest = follow_links(target)?;
            Ok(if same_file(target, &dest) {
                Resolved::Replace(dest)
            } else {
                Resolved::Direct { regular: true }
            })
        }
        // Missing, or a dangling link: created where the chain ends.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            Ok(Resolved::Replace(follow_links(target)?))
        }
        // A loop of links, a file used as a directory, a directory that cannot be read.
        Err(e) => Err(reserve_error(e)),
    }
}

/// `path` with symbolic links followed to the end of the chain, which may not exist.
fn follow_links(target: &Path) -> Result<PathBuf, AtomicError> {
    let reserve_error = |source| AtomicError::Reserve {
        path: target.to_path_buf(),
        source,
    };
    let mut path = target.to_path_buf();
    for _ in 0..=MAX_LINKS {
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = fs::read_link(&path).map_err(reserve_error)?;
                // Relative to the link's own directory; `..` is left for the system to
                // take, as it does when it follows the link.
                path = match path.parent() {
                    Some(parent) if link.is_relative() => parent.join(link),
                    _ => link,
                };
            }
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(reserve_error(e)),
            _ => return Ok(path),
        }
    }
    Err(reserve_error(io::Error::other(
        "too many levels of symbolic links",
    )))
}

/// A copy of this process's standard output or error if that is the file `meta`
/// describes (e.g. `--out /dev/stdout > log`): writing through it keeps the stream's
/// position and append mode, as bash's own `> /dev/stdout` does, where replacing the file
/// would drop what `>>` had kept and leave the stream writing into a deleted file.
#[cfg(unix)]
fn own_stream(meta: &fs::Metadata) -> Option<File> {
    use std::os::fd::AsFd;
    let descriptors = [
        io::stdout().as_fd().try_clone_to_owned(),
        io::stderr().as_fd().try_clone_to_owned(),
    ];
    descriptors
        .into_iter()
        .flatten()
        .map(File::from)
        .find(|file| file.metadata().is_ok_and(|m| same_inode(&m, meta)))
}

#[cfg(not(unix))]
fn own_stream(_meta: &fs::Metadata) -> Option<File> {
    None
}

/// Whether two files' metadata describe one file: the same device and inode.
#[cfg(unix)]
fn same_inode(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Whether two paths name the same existing file: the same device and inode on Unix (so
/// other spellings, symlinks and hard links are caught), else the same canonical path.
/// Also what the commands use to keep an output from replacing an input.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    if let (Ok(x), Ok(y)) = (fs::metadata(a), fs::metadata(b)) {
        return same_inode(&x, &y);
    }
    matches!(
        (fs::canonicalize(a), fs::canonicalize(b)),
        (Ok(x), Ok(y)) if x == y
    )
}

impl PendingFile {
    /// Reserves `target`: creates its temporary file now or, for a target that is not a
    /// regular file, opens it for writing now.
    pub fn create(target: &Path) -> Result<PendingFile, AtomicError> {
        let dest = match resolve(target)? {
            Resolved::Replace(dest) => dest,
            Resolved::Stream(file) => {
                return Ok(PendingFile {
                    target: target.to_path_buf(),
                    mode: Mode::Direct {
                        regular: true,
                        empty_first: false,
                    },
                    file: Some(file),
                    committed: false,
                });
            }
            Resolved::Direct { regular } => {
                // No truncation here: a regular file keeps its bytes until written.
                let file = OpenOptions::new()
                    .write(true)
                    .open(target)
                    .map_err(|source| AtomicError::Reserve {
                        path: target.to_path_buf(),
                        source,
                    })?;
                return Ok(PendingFile {
                    target: target.to_path_buf(),
                    mode: Mode::Direct {
                        regular,
                        empty_first: regular,
                    },
                    file: Some(file),
                    committed: false,
                });
            }
        };
        let Some(name) = dest.file_name() else {
            return Err(AtomicError::NoFileName {
                path: target.to_path_buf(),
            });
        };
        let directory = match dest.parent() {
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
                        mode: Mode::Replace { dest, temp },
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

    /// The path the bytes will appear at, as given.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Appends `bytes` to the temporary file, for output streamed while computing;
    /// `commit(&[])` then syncs and renames it into place. Nothing reaches the target
    /// before the commit, except for a target written directly (not a regular file, or
    /// this process's own output stream; see the module documentation), which gets the
    /// bytes at once.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), AtomicError> {
        self.empty_if_first().map_err(|source| AtomicError::Write {
            path: self.target.clone(),
            source,
        })?;
        let file = self
            .file
            .as_mut()
            .expect("a PendingFile holds its file until commit");
        match file.write_all(bytes) {
            Err(e) if !self.reader_gone(&e) => Err(AtomicError::Write {
                path: self.target.clone(),
                source: e,
            }),
            _ => Ok(()),
        }
    }

    /// A pipe written directly whose reader has gone (`--out /dev/stdout | head`): what
    /// plain standard output does then, ignore it, rather than fail a finished command.
    fn reader_gone(&self, e: &io::Error) -> bool {
        matches!(self.mode, Mode::Direct { regular: false, .. })
            && e.kind() == io::ErrorKind::BrokenPipe
    }

    /// For a regular file written directly, removes its old bytes before the first write.
    fn empty_if_first(&mut self) -> io::Result<()> {
        if let Mode::Direct { empty_first, .. } = &mut self.mode
            && *empty_first
        {
            if let Some(file) = &self.file {
                file.set_len(0)?;
            }
            *empty_first = false;
        }
        Ok(())
    }

    /// Writes `bytes`, fsyncs and renames over the target. On error the target is left
    /// as it was and the temporary file is removed. A target written directly only gets
    /// the bytes written and, if a regular file, synced (a special file's fsync error does
    /// not count: pipes and terminals have nothing to sync).
    pub fn commit(mut self, bytes: &[u8]) -> Result<(), AtomicError> {
        // From the first commit a Ctrl-C waits until all outputs are written.
        crate::interrupt::writing_outputs();
        let emptied = self.empty_if_first();
        let write_error = |source| AtomicError::Write {
            path: self.target.clone(),
            source,
        };
        emptied.map_err(write_error)?;
        let mut file = self
            .file
            .take()
            .expect("a PendingFile holds its file until commit");
        let (dest, temp) = match &self.mode {
            Mode::Direct { regular, .. } => {
                // Anything this process printed first comes first, should the file be
                // its own standard output.
                let _ = io::stdout().flush();
                match file.write_all(bytes) {
                    Err(e) if !self.reader_gone(&e) => return Err(write_error(e)),
                    _ => {}
                }
                let synced = file.sync_all();
                if *regular {
                    synced.map_err(write_error)?;
                }
                commit_delay_for_tests();
                self.committed = true;
                return Ok(());
            }
            Mode::Replace { dest, temp } => (dest, temp),
        };
        file.write_all(bytes).map_err(write_error)?;
        file.sync_all().map_err(write_error)?;
        commit_delay_for_tests();
        drop(file);
        if dest.is_dir() {
            return Err(AtomicError::TargetIsDirectory {
                path: self.target.clone(),
            });
        }
        // Under the list's lock: an interrupt handler either removed the temporary file
        // before (the rename fails, and the process is ending) or waits until it is in
        // place and off the list.
        let mut list = pending();
        fs::rename(temp, dest).map_err(|source| AtomicError::Rename {
            path: self.target.clone(),
            temp: temp.clone(),
            source,
        })?;
        forget(&mut list, temp);
        drop(list);
        self.committed = true;
        sync_directory(temp.parent().unwrap_or(Path::new(".")));
        Ok(())
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        if let Mode::Replace { temp, .. } = &self.mode {
            self.file = None;
            // Nothing useful can be done if this fails; the file is hidden and named
            // after the process, so it is easy to find and remove.
            let mut list = pending();
            let _ = fs::remove_file(temp);
            forget(&mut list, temp);
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

    #[cfg(unix)]
    fn is_symlink(path: &Path) -> bool {
        fs::symlink_metadata(path).unwrap().file_type().is_symlink()
    }

    #[cfg(unix)]
    #[test]
    fn a_link_is_written_through_and_stays() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let real_dir = dir.path().join("real");
        let link_dir = dir.path().join("links");
        fs::create_dir(&real_dir).unwrap();
        fs::create_dir(&link_dir).unwrap();
        let real = real_dir.join("out.txt");
        fs::write(&real, b"old").unwrap();
        // A chain: links/second -> first (relative, in its own directory) ->
        // ../real/out.txt (relative to links/).
        symlink("../real/out.txt", link_dir.join("first")).unwrap();
        symlink("first", link_dir.join("second")).unwrap();
        let target = link_dir.join("second");
        let pending = PendingFile::create(&target).unwrap();
        assert_eq!(pending.target(), target);
        // The temporary file is next to the real file, so the rename stays in one
        // directory; the link's directory is not touched.
        let temp_name = format!(".out.txt.{}.tmp", std::process::id());
        assert_eq!(entries(&real_dir), vec![temp_name, "out.txt".to_string()]);
        assert_eq!(entries(&link_dir), vec!["first", "second"]);
        assert_eq!(fs::read(&real).unwrap(), b"old");
        pending.commit(b"new").unwrap();
        assert_eq!(fs::read(&real).unwrap(), b"new");
        assert!(is_symlink(&target) && is_symlink(&link_dir.join("first")));
        assert_eq!(entries(&real_dir), vec!["out.txt"]);
        assert_eq!(entries(&link_dir), vec!["first", "second"]);
        // Dropped without a commit, the temporary file goes from the real directory.
        drop(PendingFile::create(&target).unwrap());
        assert_eq!(entries(&real_dir), vec!["out.txt"]);
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_gets_its_file_created() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("sub")).unwrap();
        let link = dir.path().join("link.csv");
        symlink("sub/new.csv", &link).unwrap();
        write_atomic(&link, b"a,b\n").unwrap();
        assert!(is_symlink(&link));
        assert_eq!(fs::read(dir.path().join("sub/new.csv")).unwrap(), b"a,b\n");
        assert_eq!(entries(&dir.path().join("sub")), vec!["new.csv"]);
        // A dangling link into a missing directory fails at reservation; the link stays.
        let lost = dir.path().join("lost.csv");
        symlink("no-such-dir/x.csv", &lost).unwrap();
        let err = PendingFile::create(&lost).unwrap_err();
        assert!(matches!(err, AtomicError::Reserve { .. }), "{err}");
        assert!(err.to_string().contains("lost.csv"), "{err}");
        assert!(is_symlink(&lost));
    }

    #[cfg(unix)]
    #[test]
    fn a_loop_of_links_or_a_link_to_a_directory_is_refused() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        symlink("b", &a).unwrap();
        symlink("a", dir.path().join("b")).unwrap();
        let err = PendingFile::create(&a).unwrap_err();
        assert!(matches!(err, AtomicError::Reserve { .. }), "{err}");
        assert!(is_symlink(&a));
        let to_dir = dir.path().join("to-dir");
        symlink(".", &to_dir).unwrap();
        let err = PendingFile::create(&to_dir).unwrap_err();
        assert!(
            matches!(err, AtomicError::TargetIsDirectory { .. }),
            "{err}"
        );
        assert_eq!(entries(dir.path()), vec!["a", "b", "to-dir"]);
    }

    #[cfg(unix)]
    #[test]
    fn dev_null_and_a_link_to_it_stay_a_device() {
        use std::os::unix::fs::{FileTypeExt, symlink};
        let null = Path::new("/dev/null");
        let is_device = |p: &Path| fs::metadata(p).unwrap().file_type().is_char_device();
        assert!(is_device(null));
        write_atomic(null, b"swallowed").unwrap();
        assert!(is_device(null));
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("sink");
        symlink(null, &link).unwrap();
        let mut pending = PendingFile::create(&link).unwrap();
        // No temporary file anywhere: not next to the link, not in /dev.
        assert_eq!(entries(dir.path()), vec!["sink"]);
        pending.write(b"streamed").unwrap();
        pending.commit(b"rest").unwrap();
        assert!(is_symlink(&link));
        assert!(is_device(null));
        assert_eq!(entries(dir.path()), vec!["sink"]);
        // Dropped without a commit, nothing is removed.
        drop(PendingFile::create(null).unwrap());
        assert!(is_device(null));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_gets_the_bytes_and_stays_a_fifo() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Opening a FIFO for writing waits for its reader, as a shell's `>` does.
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).unwrap())
        };
        let mut pending = PendingFile::create(&fifo).unwrap();
        pending.write(b"a,b\n").unwrap();
        pending.commit(b"1,2\n").unwrap();
        assert_eq!(reader.join().unwrap(), b"a,b\n1,2\n");
        assert!(fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert_eq!(entries(dir.path()), vec!["pipe"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_special_file_that_cannot_be_opened_fails_at_reservation() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        // A socket cannot be opened as a file (ENXIO), even by root.
        let socket = dir.path().join("sock");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        let err = PendingFile::create(&socket).unwrap_err();
        assert!(matches!(err, AtomicError::Reserve { .. }), "{err}");
        assert!(fs::metadata(&socket).unwrap().file_type().is_socket());
        assert_eq!(entries(dir.path()), vec!["sock"]);
    }

    /// `/proc/self/fd/N` for a deleted file: the chain ends at a path that is not the
    /// file, so the file is written directly, its old bytes removed only at commit.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_regular_file_the_links_do_not_name_is_written_directly() {
        use std::io::{Read, Seek};
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.txt");
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        file.write_all(b"old and longer").unwrap();
        fs::remove_file(&path).unwrap();
        let target = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        let mut pending = PendingFile::create(&target).unwrap();
        assert!(entries(dir.path()).is_empty());
        let mut read_back = || {
            let mut bytes = Vec::new();
            file.rewind().unwrap();
            file.read_to_end(&mut bytes).unwrap();
            bytes
        };
        assert_eq!(read_back(), b"old and longer");
        pending.write(b"new").unwrap();
        pending.commit(b"!").unwrap();
        assert_eq!(read_back(), b"new!");
        assert!(entries(dir.path()).is_empty());
    }
}
