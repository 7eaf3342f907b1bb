//! Ctrl-C (SIGINT) for every command, and SIGTERM and SIGHUP alike: nothing
//! half-written, nothing left behind, and the process ends the way a shell or a scheduler
//! expects of a stopped program.
//!
//! `main` calls [`install`] before any command reserves an output file. From then on,
//! for each of those signals:
//! - while a command runs inside [`polling`] (`run`'s engine, which checks the flag
//!   between chunks of trials), the first signal only raises the flag, and the command
//!   stops itself and reports [`crate::engine::EngineError::Cancelled`];
//! - once a command has started committing its outputs ([`writing_outputs`], called by
//!   `atomic::PendingFile::commit`), the first signal is held until it has written them
//!   all, so a report never stands next to a missing or stale main output; [`after_command`]
//!   then ends the process as interrupted (a main output to standard output, always last,
//!   is not held for: [`writing_stdout`]);
//! - otherwise, or at a second signal, the handler removes every reserved temporary file
//!   not yet committed ([`crate::atomic::remove_listed`]), says so and ends the process.
//!   It decides under the lock of that list, which every commit's rename also takes.
//!
//! The process ends by the signal itself ([`die_of_signal`]: default action restored,
//! signal raised), not by `exit(130)`: a shell reports the same status (128 + signal),
//! but a shell script running itfsim in a loop stops at Ctrl-C only when its child *died
//! of* SIGINT. A signal that was ignored when the process started (`nohup` for SIGHUP,
//! `cmd &` in a script for SIGINT) stays ignored, as the caller asked. Writing the message
//! never panics (a closed stderr is ignored), so the handler always reaches the end.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// Raised by Ctrl-C.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Whether the running command is watching [`INTERRUPTED`] itself right now.
static POLLING: AtomicBool = AtomicBool::new(false);
/// Whether the command has started committing its outputs.
static WRITING: AtomicBool = AtomicBool::new(false);
/// What an interrupt that ends the process at once says on stderr.
static NOTE: Mutex<Option<String>> = Mutex::new(None);
/// The signal that stopped the command (SIGINT until one came), to end the process with.
static LAST_SIGNAL: AtomicI32 = AtomicI32::new(SIGINT);
/// SIGINT's number (2 on every Unix and in the C standard's Windows emulation).
const SIGINT: i32 = 2;

const NOTHING_WRITTEN: &str = "the command was stopped before it finished; nothing was written";

/// Installs the handler once (see the module documentation); later calls do nothing.
pub fn install() {
    use std::sync::OnceLock;
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(listen);
}

/// Unix: a thread that takes SIGINT, SIGTERM (what Slurm and Kubernetes send to stop a
/// job) and SIGHUP (a closed terminal) from signal-hook's safe iterator, each one unless it
/// was ignored when the process started (`nohup` ignores SIGHUP, `cmd &` in a script
/// SIGINT).
#[cfg(unix)]
fn listen() {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let wanted: Vec<i32> = [SIGINT, SIGTERM, SIGHUP]
        .into_iter()
        .filter(|&signal| !ignored_at_start(signal))
        .collect();
    if wanted.is_empty() {
        return;
    }
    // If the signals cannot be registered they keep their default actions.
    let Ok(mut signals) = signal_hook::iterator::Signals::new(&wanted) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("itfsim-signals".into())
        .spawn(move || {
            for signal in signals.forever() {
                on_signal(signal);
            }
        });
}

/// Elsewhere: Ctrl-C through the ctrlc crate.
#[cfg(not(unix))]
fn listen() {
    let _ = ctrlc::set_handler(|| on_signal(SIGINT));
}

fn on_signal(signal: i32) {
    LAST_SIGNAL.store(signal, Ordering::SeqCst);
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
    die_of_signal();
}

/// Prints `interrupted: NOTE` on stderr (naming the signal when it was not Ctrl-C's),
/// ignoring a stderr that cannot be written.
fn say(note: &str) {
    let signal = LAST_SIGNAL.load(Ordering::SeqCst);
    let by = match signal {
        SIGINT => String::new(),
        15 => " by SIGTERM".into(),
        1 => " by SIGHUP".into(),
        other => format!(" by signal {other}"),
    };
    let _ = writeln!(std::io::stderr(), "interrupted{by}: {note}");
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
        die_of_signal();
    }
}

/// For `main` once the command has returned (`succeeded` or not): if a Ctrl-C came while
/// it was writing its outputs, and so was held, ends the process as interrupted after a
/// success (the outputs were finished first); after a failure the failure's exit code
/// stands. Otherwise returns, with the state cleared for a library caller's next command.
pub fn after_command(succeeded: bool) {
    if succeeded && WRITING.load(Ordering::SeqCst) && INTERRUPTED.load(Ordering::SeqCst) {
        say("Ctrl-C came while the outputs were being written; they were finished first");
        die_of_signal();
    }
    WRITING.store(false, Ordering::SeqCst);
    INTERRUPTED.store(false, Ordering::SeqCst);
}

/// Ends the process as interrupted after saying `message`: by SIGINT (status 130 in a
/// shell), for a command that stopped itself (`run`'s engine).
pub fn stop(message: &str) -> ! {
    let _ = writeln!(std::io::stderr(), "{message}");
    die_of_signal()
}

/// Ends the process by the signal that stopped it (SIGINT for Ctrl-C) with that signal's
/// default action, so the parent sees a process killed by it; exit code 128 + signal
/// where that is not possible.
pub fn die_of_signal() -> ! {
    let signal = LAST_SIGNAL.load(Ordering::SeqCst);
    #[cfg(unix)]
    {
        // Restores the default action, unblocks and raises the signal (signal-hook does the
        // unsafe part); for these terminating signals it does not return (it aborts if the
        // raise fails).
        let _ = signal_hook::low_level::emulate_default_handler(signal);
    }
    std::process::exit(128 + signal)
}

/// Whether `signal` was ignored when the process started (the disposition is inherited
/// across exec, and installing a handler would override the caller's choice). Read from
/// the `SigIgn` mask of /proc/self/status (Linux); elsewhere taken as not ignored.
#[cfg(unix)]
fn ignored_at_start(signal: i32) -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return false;
    };
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        // Bit n - 1 stands for signal n.
        .is_some_and(|mask| (1..=64).contains(&signal) && mask & (1 << (signal - 1)) != 0)
}
