//! Where the command line writes. Results go to stdout through [`outln!`]
//! (or [`outln_or_drop!`]), notes to stderr through [`note!`], so that a
//! reader that went away (`farmhook status | head -0`) ends the command
//! quietly instead of panicking, as ripgrep does. Rust ignores SIGPIPE, so
//! such a write fails with `BrokenPipe` rather than killing the process.

use std::fmt;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to stdout found nobody reading: later lines are not
/// even tried.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes one line (`args` and a newline) on stdout.
pub(crate) fn line(args: fmt::Arguments<'_>) -> io::Result<()> {
    write(|out| {
        out.write_fmt(args)?;
        out.write_all(b"\n")
    })
}

/// Writes `text` as it is on stdout.
pub(crate) fn text(text: &str) -> io::Result<()> {
    write(|out| out.write_all(text.as_bytes()))
}

fn write(f: impl FnOnce(&mut io::StdoutLock<'static>) -> io::Result<()>) -> io::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Err(io::ErrorKind::BrokenPipe.into());
    }
    let mut out = io::stdout().lock();
    let result = f(&mut out).and_then(|()| out.flush());
    if let Err(e) = &result
        && e.kind() == io::ErrorKind::BrokenPipe
    {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
    result
}

/// For commands that finish their work whatever happens to their output
/// (deliveries already under way): a closed stdout only drops the line.
pub(crate) fn unless_closed(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes one line on stderr. A closed stderr leaves nowhere to say
/// anything, so its error is dropped rather than ending the command.
pub(crate) fn note_line(args: fmt::Arguments<'_>) {
    let mut err = io::stderr().lock();
    err.write_fmt(args)
        .and_then(|()| err.write_all(b"\n"))
        .and_then(|()| err.flush())
        .ok();
}

/// `outln!("…", args)`: a line on stdout; `?` on it ends the command
/// quietly (exit 0) when nobody reads stdout any more.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::output::line(format_args!($($arg)*))
    };
}

/// `outln_or_drop!("…", args)`: a line on stdout that is dropped when
/// nobody reads it, for commands that must finish their work anyway.
macro_rules! outln_or_drop {
    ($($arg:tt)*) => {
        $crate::cli::output::unless_closed($crate::cli::output::line(format_args!($($arg)*)))
    };
}

/// `note!("…", args)`: a line on stderr, never a panic.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::cli::output::note_line(format_args!($($arg)*))
    };
}

pub(crate) use {note, outln, outln_or_drop};
