//! Ctrl-C (SIGINT) for every command: nothing half-written, nothing left behind, and the
//! process ends the way a shell expects of an interrupted program.
//!
//! `main` calls [`install`] before any command reserves an output file. From then on:
//! - while a command runs inside [`polling`] (`run`'s engine, which checks the flag
//!   between chunks of trials), the first Ctrl-C only raises the flag, and the command
//!   stops itself and reports [`crate::engine::EngineError::Cancelled`];
//! - once a command has started committing its outputs ([`writing_outputs`], called by
//!   `atomic::PendingFile::commit`), the first Ctrl-C is held until it has written them
//!   all, so a report never stands next to a missing or stale main output; [`after_command`]
//!   then ends the process as interrupted (a main output to standard output, always last,
//!   is not held for: [`writing_stdout`]);
//! - otherwise, or at a second Ctrl-C, the handler removes every reserved temporary file
//!   not yet committed ([`crate::atomic::remove_listed`]), says so and ends the process.
//!   It decides under the lock of that list, which every commit's rename also takes.
//!
//! The process ends by SIGINT itself ([`die_of_sigint`]: default action restored, signal
//! raised), not by `exit(130)`: a shell reports the same status 130, but a shell script
//! running itfsim in a loop stops only when its child *died of* SIGINT. Where SIGINT was
//! ignored when the process started (`nohup`, `cmd &` in a script), no handler is
//! installed and Ctrl-C keeps being ignored, as the caller asked. Writing the message
//! never panics (a closed stderr is ignored), so the handler always reaches the end.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Raised by Ctrl-C.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Whether the running command is watching [`INTERRUPTED`] itself right now.
static POLLING: AtomicBool = AtomicBool::new(false);
/// Whether the command has started committing its outputs.
static WRITING: AtomicBool = AtomicBool::new(false);
/// What an interrupt that ends the process at once says on stderr.
static NOTE: Mutex<Option<String>> = Mutex::new(None);

const NOTHING_WRITTEN: &str = "the command was stopped before it finished; nothing was written";

/// Installs the handler once (see the module documentation); later calls do nothing.
pub fn install() {
    use std::sync::OnceLock;
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if sigint_ignored_at_start() {
            return;
        }
        // If another handler is already installed, Ctrl-C keeps that one.
        let _ = ctrlc::set_handler(on_sigint);
    });
}

fn on_sigint() {
    // Decided under the list's lock: `commit` marks WRITING before it takes the lock to
    // rename, so a handler that sees WRITING unset here knows no output has been or can be
    // renamed into place, and one that sees it set leaves the commits to finish.
    let mut pending = crate::atomic::lock_pending();
    let first = !INTERRUPTED.swap(true, Ordering::SeqCst);
    let writing = WRITING.load(Ordering::SeqCst);
    if first && POLLING.load(Ordering::SeqCst) {
        return;
    }
    if first && writing {
        drop(pending);
        say("finishing the outputs already being written (Ctrl-C again to stop at once)");
        return;
    }
    crate::atomic::remove_listed(&mut pending);
    let note = if writing {
        "stopped while writing its outputs; some may be missing or from an earlier run".to_string()
    } else {
        NOTE.lock()
            .ok()
            .and_then(|n| n.clone())
            .unwrap_or_else(|| NOTHING_WRITTEN.into())
    };
    say(&note);
    // `pending` stays locked: no commit can rename a file into place before the end.
    die_of_sigint();
}

/// Prints `interrupted: NOTE` on stderr, ignoring a stderr that cannot be written.
fn say(note: &str) {
    let _ = writeln!(std::io::stderr(), "interrupted: {note}");
}

/// Sets what an interrupt says from now on (e.g. that a sweep's finished points are kept).
pub fn set_note(note: impl Into<String>) {
    if let Ok(mut n) = NOTE.lock() {
        *n = Some(note.into());
    }
}

/// Runs `f` with the Ctrl-C flag, for a command that stops by itself between steps: while
/// `f` runs, the first Ctrl-C raises the flag instead of ending the process. Returns what
/// `f` returned and whether Ctrl-C was pressed meanwhile (a command whose `f` finished
/// anyway should still stop, as asked).
pub fn polling<T>(f: impl FnOnce(&'static AtomicBool) -> T) -> (T, bool) {
    /// Lowers `POLLING` however `f` ends, unwinding included.
    struct Watching;
    impl Drop for Watching {
        fn drop(&mut self) {
            POLLING.store(false, Ordering::SeqCst);
        }
    }
    install();
    POLLING.store(true, Ordering::SeqCst);
    let watching = Watching;
    let out = f(&INTERRUPTED);
    drop(watching);
    // Taken, not just read: a library caller's next `polling` starts with the flag down,
    // and a Ctrl-C that came just before this one is not lost.
    (out, INTERRUPTED.swap(false, Ordering::SeqCst))
}

/// Marks that the command has started committing its outputs: a first Ctrl-C from now on
/// waits for [`after_command`]. Called by `atomic::PendingFile::commit`.
pub fn writing_outputs() {
    WRITING.store(true, Ordering::SeqCst);
}

/// Called before a command writes its main output to standard output, its last step:
/// the files are all committed by then, and a write to a pipe nobody reads can block for
/// ever, so Ctrl-C is not held during it. If one was held, ends the process now.
pub fn writing_stdout() {
    if WRITING.swap(false, Ordering::SeqCst) {
        set_note("the output files were written; standard output was cut short");
    }
    if INTERRUPTED.load(Ordering::SeqCst) {
        say("the output files were finished first; standard output was not written");
        die_of_sigint();
    }
}

/// For `main` once the command has returned (`succeeded` or not): if a Ctrl-C came while
/// it was writing its outputs, and so was held, ends the process as interrupted after a
/// success (the outputs were finished first); after a failure the failure's exit code
/// stands. Otherwise returns, with the state cleared for a library caller's next command.
pub fn after_command(succeeded: bool) {
    if succeeded && WRITING.load(Ordering::SeqCst) && INTERRUPTED.load(Ordering::SeqCst) {
        say("Ctrl-C came while the outputs were being written; they were finished first");
        die_of_sigint();
    }
    WRITING.store(false, Ordering::SeqCst);
    INTERRUPTED.store(false, Ordering::SeqCst);
}

/// Ends the process as interrupted after saying `message`: by SIGINT (status 130 in a
/// shell), for a command that stopped itself (`run`'s engine).
pub fn stop(message: &str) -> ! {
    let _ = writeln!(std::io::stderr(), "{message}");
    die_of_sigint()
}

/// Ends the process by SIGINT with its default action, so the parent sees a process killed
/// by Ctrl-C; exit code 130 where that is not possible.
pub fn die_of_sigint() -> ! {
    #[cfg(unix)]
    {
        // Restores the default action, unblocks and raises the signal (signal-hook does the
        // unsafe part); for SIGINT it does not return (it aborts if the raise fails).
        let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGINT);
    }
    std::process::exit(130)
}

/// Whether SIGINT was ignored when the process started (the disposition is inherited across
/// exec, and installing a handler would override the caller's choice). Read from the
/// `SigIgn` mask of /proc/self/status (Linux); elsewhere taken as not ignored.
fn sigint_ignored_at_start() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        // Bit n - 1 stands for signal n; SIGINT is 2.
        .is_some_and(|mask| mask & (1 << (2 - 1)) != 0)
}
