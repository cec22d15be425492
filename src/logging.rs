//! Where the agent's log records go, and at which level.
//!
//! This module owns the single output of every log record of the process:
//! the agent's own `slog` records and, through the `log` bridge, those of
//! its dependencies (actix-web, rustls, tokio-postgres...). The output is
//! stderr, a file (appended to) or a local syslog socket, as `[logging]`
//! configures it, behind a level filter that `SIGHUP` can change at runtime.
//!
//! Logging must never block nor panic the agent: a failed write or send
//! drops the record silently. The drain is nonetheless synchronous (one
//! mutex, a flush after each record) so that the last records before an
//! exit are never lost in a queue.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use slog::{Drain, FlushError, Level, Never, OwnedKVList, Record, KV};

use crate::config::{LogLevel, LogMethod, Logging};

/// Targets of chatty dependencies: their records need a stricter level.
const NOISY_TARGETS: &[&str] = &["rustls", "tokio_postgres", "h2", "mio"];

/// Longest syslog datagram sent. Larger ones could exceed the socket
/// buffer and be refused whole; rsyslog's default limit is 8 KiB.
const SYSLOG_MAX_LEN: usize = 8192;

const SYSLOG_TAG: &str = "temboard-agent";

/// Handle on the process logging, kept by `main`.
#[derive(Clone)]
pub struct LogHandle {
    level: Arc<AtomicUsize>,
    sink: Arc<Sink>,
    logger: slog::Logger,
}

impl fmt::Debug for LogHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogHandle")
            .field("level", &self.level.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Set up logging as configured and install it as the process-wide logger,
/// for `slog-scope` and for the `log` crate.
pub fn init(cfg: &Logging) -> Result<LogHandle, String> {
    let level = Arc::new(AtomicUsize::new(slog_level(cfg.level).as_usize()));
    let (drain, sink) = build_drain(cfg, Arc::clone(&level))?;
    let logger = slog::Logger::root(drain, slog::o!());

    // The guard is leaked on purpose: when dropped, it resets the global
    // logger to one that panics on any record, and threads still logging
    // while the process exits (or after the handle is dropped) would panic.
    // A later init() simply replaces the global logger.
    slog_scope::set_global_logger(logger.clone()).cancel_reset();
    // Err means a `log` logger is already installed: ours, from an earlier
    // init(), which forwards to the slog-scope global just replaced.
    let _ = slog_stdlog::init_with_level(log::Level::Debug);
    log::set_max_level(log_max_level(cfg.level));

    Ok(LogHandle {
        level,
        sink,
        logger,
    })
}

impl LogHandle {
    /// The root logger, to hand to actors.
    pub fn logger(&self) -> slog::Logger {
        self.logger.clone()
    }

    /// Change the level of every later record, from any thread.
    pub fn set_level(&self, level: LogLevel) {
        self.level
            .store(slog_level(level).as_usize(), Ordering::Relaxed);
        log::set_max_level(log_max_level(level));
    }

    /// Reopen the log file (`[logging] method = file`) at its configured path, for
    /// log rotation on SIGHUP; a no-op for stderr and syslog.
    pub fn reopen(&self) -> Result<(), String> {
        self.sink.reopen()
    }

    /// Push out whatever the output may still hold.
    pub fn flush(&self) {
        self.sink.flush();
    }
}

/// Hide the value of every `key` query parameter of a request target, for
/// the access log: the agent key must not end up in log files.
pub fn redact_query(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_string();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|param| match param.split_once('=') {
            Some((name, _)) if decoded_name(name) == "key" => format!("{name}=***"),
            _ => param.to_string(),
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

/// Query parameter name as the HTTP server decodes it, so that `k%65y=`
/// does not escape redaction.
fn decoded_name(name: &str) -> String {
    form_urlencoded::parse(name.as_bytes())
        .next()
        .map(|(decoded, _)| decoded.into_owned())
        .unwrap_or_default()
}

fn slog_level(level: LogLevel) -> Level {
    match level {
        LogLevel::Debug => Level::Debug,
        LogLevel::Info => Level::Info,
        LogLevel::Warning => Level::Warning,
        LogLevel::Error => Level::Error,
        LogLevel::Critical => Level::Critical,
    }
}

/// Lets the `log` macros of dependencies skip records no one will see.
fn log_max_level(level: LogLevel) -> log::LevelFilter {
    match level {
        LogLevel::Debug => log::LevelFilter::Debug,
        _ => log::LevelFilter::Info,
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Critical => "CRITICAL",
        Level::Error => "ERROR",
        Level::Warning => "WARNING",
        Level::Info => "INFO",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    }
}

/// io::Error text without the " (os error N)" suffix.
fn error_text(err: &io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The full drain: runtime level filter over the synchronous output.
fn build_drain(
    cfg: &Logging,
    level: Arc<AtomicUsize>,
) -> Result<(LevelFilter<SinkDrain>, Arc<Sink>), String> {
    let output = match cfg.method {
        LogMethod::Stderr => Output::Stderr(io::stderr()),
        LogMethod::File => Output::File(LogFile {
            path: cfg.destination.clone(),
            file: open_log_file(&cfg.destination)?,
        }),
        LogMethod::Syslog => Output::Syslog(Syslog::open(&cfg.facility, &cfg.destination)?),
    };
    let sink = Arc::new(Sink {
        output: Mutex::new(output),
    });
    let drain = LevelFilter {
        level,
        inner: SinkDrain(Arc::clone(&sink)),
    };
    Ok((drain, sink))
}

fn open_log_file(path: &Path) -> Result<File, String> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .open(path)
        .map_err(|e| {
            format!(
                "cannot open log file {}: {}",
                path.display(),
                error_text(&e)
            )
        })
}

/// Drops records under the configured level, which `set_level` changes.
struct LevelFilter<D> {
    /// `slog::Level::as_usize()` of the configured level.
    level: Arc<AtomicUsize>,
    inner: D,
}

fn is_noisy(target: &str) -> bool {
    NOISY_TARGETS.iter().any(|prefix| {
        target
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with("::"))
    })
}

/// Whether a record passes, `configured` being `Level::as_usize()`.
fn passes(configured: usize, level: Level, target: &str) -> bool {
    // tokio_postgres logs every statement and its parameters at DEBUG: an ALTER
    // SYSTEM of a password or a conninfo would reach the log. Never below INFO.
    if (target == "tokio_postgres" || target.starts_with("tokio_postgres::"))
        && level.as_usize() > Level::Info.as_usize()
    {
        return false;
    }
    let max = if is_noisy(target) && configured < Level::Debug.as_usize() {
        // Chatty dependencies only speak up for problems unless debugging.
        configured.min(Level::Warning.as_usize())
    } else {
        configured
    };
    level.as_usize() <= max
}

impl<D: Drain<Ok = (), Err = Never>> Drain for LevelFilter<D> {
    type Ok = ();
    type Err = Never;

    fn log(&self, record: &Record, values: &OwnedKVList) -> Result<(), Never> {
        // `log` records carry their target as the slog tag.
        if passes(
            self.level.load(Ordering::Relaxed),
            record.level(),
            record.tag(),
        ) {
            self.inner.log(record, values)
        } else {
            Ok(())
        }
    }

    fn is_enabled(&self, level: Level) -> bool {
        level.as_usize() <= self.level.load(Ordering::Relaxed)
    }

    fn flush(&self) -> Result<(), FlushError> {
        self.inner.flush()
    }
}

/// A log file and the path it was opened at, to open it again after a rotation.
struct LogFile {
    path: PathBuf,
    file: File,
}

/// The output shared by the drain and the handle.
struct Sink {
    output: Mutex<Output>,
}

enum Output {
    Stderr(io::Stderr),
    File(LogFile),
    Syslog(Syslog),
}

impl Sink {
    fn lock(&self) -> MutexGuard<'_, Output> {
        // A panic while formatting a record must not silence logging.
        self.output.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Write one record; errors are dropped, logging must go on.
    fn emit(&self, record: &Record, values: &OwnedKVList) {
        let Ok(body) = format_body(record, values) else {
            return;
        };
        let mut output = self.lock();
        match &mut *output {
            Output::Stderr(w) => {
                let _ = write_line(w, record.level(), &body);
            }
            Output::File(f) => {
                let _ = write_line(&mut f.file, record.level(), &body);
            }
            Output::Syslog(s) => s.send(record.level(), &body),
        }
    }

    /// Opens the log file again at its path, so that after logrotate renamed it
    /// (without copytruncate) later records go to a new file at the old path. The
    /// old file stays in use when the new one cannot be opened.
    fn reopen(&self) -> Result<(), String> {
        let mut output = self.lock();
        if let Output::File(f) = &mut *output {
            let file = open_log_file(&f.path)?;
            let _ = f.file.flush();
            f.file = file;
        }
        Ok(())
    }

    fn flush(&self) {
        let mut output = self.lock();
        let _ = match &mut *output {
            Output::Stderr(w) => w.flush(),
            Output::File(f) => f.file.flush(),
            Output::Syslog(_) => Ok(()),
        };
    }
}

/// `2026-11-29 07:26:12 INFO message, key: value`, written with a single
/// write so that concurrent appenders do not interleave within a line.
fn write_line(w: &mut impl Write, level: Level, body: &[u8]) -> io::Result<()> {
    let mut line = Vec::with_capacity(body.len() + 32);
    write!(
        line,
        "{} {} ",
        chrono::Local::now().format("%Y-%m-%d %H:%M:%S"),
        level_name(level)
    )?;
    line.extend_from_slice(body);
    line.push(b'\n');
    w.write_all(&line)?;
    w.flush()
}

struct SinkDrain(Arc<Sink>);

impl Drain for SinkDrain {
    type Ok = ();
    type Err = Never;

    fn log(&self, record: &Record, values: &OwnedKVList) -> Result<(), Never> {
        self.0.emit(record, values);
        Ok(())
    }

    fn flush(&self) -> Result<(), FlushError> {
        self.0.flush();
        Ok(())
    }
}

/// Buffer for slog-term's key-value serializer, which writes through a
/// `RecordDecorator`.
struct Buf(Vec<u8>);

impl Write for Buf {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl slog_term::RecordDecorator for Buf {
    fn reset(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `[target: ]message, key: value, ...` (target only for `log` records).
fn format_body(record: &Record, values: &OwnedKVList) -> io::Result<Vec<u8>> {
    let mut buf = Buf(Vec::with_capacity(128));
    if !record.tag().is_empty() {
        write!(buf, "{}: ", record.tag())?;
    }
    let before_msg = buf.0.len();
    write!(buf, "{}", record.msg())?;
    let comma_needed = buf.0.len() > before_msg;
    {
        // Original order: slog-term's reversed mode panics on a failed write.
        let mut ser = slog_term::Serializer::new(&mut buf, comma_needed, false);
        record.kv().serialize(record, &mut ser)?;
        values.serialize(record, &mut ser)?;
        ser.finish()?;
    }
    Ok(buf.0)
}

/// RFC 3164 datagrams to a local syslog socket.
struct Syslog {
    path: PathBuf,
    socket: Option<UnixDatagram>,
    facility: u8,
}

fn facility_code(name: &str) -> Option<u8> {
    let code = match name.to_ascii_lowercase().as_str() {
        "kern" => 0,
        "user" => 1,
        "mail" => 2,
        "daemon" => 3,
        "auth" => 4,
        "syslog" => 5,
        "lpr" => 6,
        "news" => 7,
        "uucp" => 8,
        "cron" => 9,
        "authpriv" => 10,
        "ftp" => 11,
        "local0" => 16,
        "local1" => 17,
        "local2" => 18,
        "local3" => 19,
        "local4" => 20,
        "local5" => 21,
        "local6" => 22,
        "local7" => 23,
        _ => return None,
    };
    Some(code)
}

fn severity(level: Level) -> u8 {
    match level {
        Level::Critical => 2,
        Level::Error => 3,
        Level::Warning => 4,
        Level::Info => 6,
        Level::Debug | Level::Trace => 7,
    }
}

fn connect_syslog(path: &Path) -> io::Result<UnixDatagram> {
    let socket = UnixDatagram::unbound()?;
    socket.connect(path)?;
    // A stalled syslog daemon must cost records, not agent threads.
    socket.set_nonblocking(true)?;
    Ok(socket)
}

impl Syslog {
    fn open(facility: &str, path: &Path) -> Result<Self, String> {
        let facility =
            facility_code(facility).ok_or_else(|| format!("unknown syslog facility {facility}"))?;
        let socket = connect_syslog(path).map_err(|e| {
            format!(
                "cannot connect to syslog socket {}: {}",
                path.display(),
                error_text(&e)
            )
        })?;
        Ok(Syslog {
            path: path.to_path_buf(),
            socket: Some(socket),
            facility,
        })
    }

    /// `<PRI>Mmm dd hh:mm:ss temboard-agent[pid]: LEVEL: body`, without
    /// hostname, as glibc's syslog() writes to the local socket: journald
    /// and rsyslog would otherwise take the hostname for the tag.
    fn datagram(&self, level: Level, body: &[u8]) -> Vec<u8> {
        let mut msg = Vec::with_capacity(body.len() + 64);
        let _ = write!(
            msg,
            "<{}>{} {}[{}]: {}: ",
            u16::from(self.facility) * 8 + u16::from(severity(level)),
            chrono::Local::now().format("%b %e %H:%M:%S"),
            SYSLOG_TAG,
            std::process::id(),
            level_name(level)
        );
        msg.extend_from_slice(body);
        truncate_utf8(&mut msg, SYSLOG_MAX_LEN);
        msg
    }

    fn send(&mut self, level: Level, body: &[u8]) {
        let msg = self.datagram(level, body);
        if let Some(socket) = &self.socket {
            match socket.send(&msg) {
                Ok(_) => return,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => {}
            }
        }
        // The daemon may have restarted on a new socket: reconnect once,
        // and drop the record if that fails too.
        self.socket = connect_syslog(&self.path).ok();
        if let Some(socket) = &self.socket {
            let _ = socket.send(&msg);
        }
    }
}

/// Cut `buf` to at most `max` bytes without splitting a UTF-8 character.
fn truncate_utf8(buf: &mut Vec<u8>, max: usize) {
    if buf.len() <= max {
        return;
    }
    let mut end = max;
    while end > 0 && buf[end] & 0xC0 == 0x80 {
        end -= 1;
    }
    buf.truncate(end);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    fn config(method: LogMethod, destination: &Path, level: LogLevel) -> Logging {
        Logging {
            method,
            facility: "local0".to_string(),
            destination: destination.to_path_buf(),
            level,
        }
    }

    fn level_of(level: LogLevel) -> Arc<AtomicUsize> {
        Arc::new(AtomicUsize::new(slog_level(level).as_usize()))
    }

    #[test]
    fn file_method_appends_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.log");
        let cfg = config(LogMethod::File, &path, LogLevel::Info);
        let (drain, _sink) = build_drain(&cfg, level_of(LogLevel::Info)).unwrap();
        let log = slog::Logger::root(drain, slog::o!("component" => "test"));
        slog::info!(log, "agent started"; "port" => 2345);
        slog::debug!(log, "hidden debug");
        slog::warn!(log, "careful");

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].ends_with(" INFO agent started, port: 2345, component: test"));
        assert!(lines[1].ends_with(" WARNING careful, component: test"));
        // "YYYY-MM-DD HH:MM:SS LEVEL"
        assert_eq!(lines[0].as_bytes()[4], b'-');
        assert_eq!(lines[0].as_bytes()[19], b' ');
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o137, 0, "mode {mode:o}");
    }

    #[test]
    fn reopen_follows_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.log");
        let rotated = dir.path().join("agent.log.1");
        let cfg = config(LogMethod::File, &path, LogLevel::Info);
        let (drain, sink) = build_drain(&cfg, level_of(LogLevel::Info)).unwrap();
        let log = slog::Logger::root(drain, slog::o!());
        slog::info!(log, "before rotation");
        std::fs::rename(&path, &rotated).unwrap();
        slog::info!(log, "still in the old file");
        sink.reopen().unwrap();
        slog::info!(log, "after rotation");
        let old = std::fs::read_to_string(&rotated).unwrap();
        let new = std::fs::read_to_string(&path).unwrap();
        assert!(old.contains("before rotation") && old.contains("still in the old file"));
        assert!(!old.contains("after rotation"), "{old}");
        assert!(
            new.contains("after rotation") && !new.contains("before"),
            "{new}"
        );
        // A path that cannot be opened any more keeps the old file in use.
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_dir_all(dir.path()).unwrap();
        assert!(sink.reopen().is_err());
        slog::info!(log, "no panic");
    }

    #[test]
    fn file_method_reports_open_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing").join("agent.log");
        let cfg = config(LogMethod::File, &path, LogLevel::Info);
        let err = build_drain(&cfg, level_of(LogLevel::Info)).err().unwrap();
        assert_eq!(
            err,
            format!(
                "cannot open log file {}: No such file or directory",
                path.display()
            )
        );
    }

    #[test]
    fn level_changes_at_runtime() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.log");
        let cfg = config(LogMethod::File, &path, LogLevel::Info);
        let level = level_of(LogLevel::Info);
        let (drain, sink) = build_drain(&cfg, Arc::clone(&level)).unwrap();
        let log = slog::Logger::root(drain, slog::o!());
        let handle = LogHandle {
            level,
            sink,
            logger: log.clone(),
        };

        slog::info!(log, "first info");
        let other = handle.clone();
        std::thread::spawn(move || other.set_level(LogLevel::Error))
            .join()
            .unwrap();
        slog::info!(log, "second info");
        slog::error!(log, "first error");
        handle.set_level(LogLevel::Debug);
        // Not slog::debug!, compiled out of release builds by slog's default
        // max_level features.
        handle.logger().log(&slog::record!(
            Level::Debug,
            "",
            &format_args!("now debugging"),
            slog::b!()
        ));
        handle.flush();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("INFO first info"), "{text}");
        assert!(!text.contains("second info"), "{text}");
        assert!(text.contains("ERROR first error"), "{text}");
        assert!(text.contains("DEBUG now debugging"), "{text}");
    }

    #[test]
    fn noisy_dependencies_need_warning_or_debug() {
        let info = Level::Info.as_usize();
        let debug = Level::Debug.as_usize();
        let error = Level::Error.as_usize();
        assert!(!passes(info, Level::Info, "rustls::conn"));
        assert!(passes(info, Level::Warning, "rustls::conn"));
        assert!(passes(info, Level::Info, "actix_server::builder"));
        assert!(passes(info, Level::Info, ""));
        assert!(passes(info, Level::Info, "h2o"));
        assert!(!passes(info, Level::Info, "h2"));
        assert!(!passes(info, Level::Info, "tokio_postgres::prepare"));
        assert!(!passes(debug, Level::Debug, "tokio_postgres::simple_query"));
        assert!(passes(debug, Level::Warning, "tokio_postgres::connection"));
        assert!(!passes(info, Level::Debug, "mio::poll"));
        assert!(passes(debug, Level::Debug, "mio::poll"));
        assert!(!passes(debug, Level::Trace, "mio::poll"));
        assert!(!passes(error, Level::Warning, "rustls"));
        assert!(passes(error, Level::Error, "rustls"));
    }

    #[test]
    fn log_tag_is_shown_and_filtered() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.log");
        let cfg = config(LogMethod::File, &path, LogLevel::Info);
        let (drain, _sink) = build_drain(&cfg, level_of(LogLevel::Info)).unwrap();
        let log = slog::Logger::root(drain, slog::o!());
        slog::info!(log, #"rustls::conn", "handshake details");
        slog::warn!(log, #"rustls::conn", "bad certificate");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("handshake"), "{text}");
        assert!(
            text.contains("WARNING rustls::conn: bad certificate"),
            "{text}"
        );
    }

    fn receiver(dir: &Path) -> (PathBuf, UnixDatagram) {
        let path = dir.join("log");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        (path, socket)
    }

    fn recv(socket: &UnixDatagram) -> String {
        let mut buf = vec![0; 65536];
        let n = socket.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn syslog_method_sends_rfc3164_datagrams() {
        let dir = tempfile::tempdir().unwrap();
        let (path, socket) = receiver(dir.path());
        let cfg = config(LogMethod::Syslog, &path, LogLevel::Info);
        let (drain, _sink) = build_drain(&cfg, level_of(LogLevel::Info)).unwrap();
        let log = slog::Logger::root(drain, slog::o!());

        slog::info!(log, "hello syslog"; "key" => "value");
        let msg = recv(&socket);
        assert!(msg.starts_with("<134>"), "{msg}");
        let tag = format!(" temboard-agent[{}]: INFO: ", std::process::id());
        assert!(msg.contains(&tag), "{msg}");
        assert!(msg.ends_with("hello syslog, key: value"), "{msg}");

        slog::crit!(log, "on fire");
        assert!(recv(&socket).starts_with("<130>"));
    }

    #[test]
    fn syslog_survives_daemon_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (path, socket) = receiver(dir.path());
        let cfg = config(LogMethod::Syslog, &path, LogLevel::Info);
        let (drain, _sink) = build_drain(&cfg, level_of(LogLevel::Info)).unwrap();
        let log = slog::Logger::root(drain, slog::o!());

        drop(socket);
        std::fs::remove_file(&path).unwrap();
        slog::info!(log, "lost while syslog is down");

        let (_, socket) = receiver(dir.path());
        slog::info!(log, "back again");
        assert!(recv(&socket).ends_with("back again"));
    }

    #[test]
    fn syslog_truncates_long_records() {
        let dir = tempfile::tempdir().unwrap();
        let (path, socket) = receiver(dir.path());
        let cfg = config(LogMethod::Syslog, &path, LogLevel::Info);
        let (drain, _sink) = build_drain(&cfg, level_of(LogLevel::Info)).unwrap();
        let log = slog::Logger::root(drain, slog::o!());
        let long = "é".repeat(SYSLOG_MAX_LEN);
        slog::info!(log, "{}", long);
        let msg = recv(&socket);
        assert!(msg.len() <= SYSLOG_MAX_LEN && msg.len() > SYSLOG_MAX_LEN - 2);
    }

    #[test]
    fn syslog_missing_socket_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nosuchsocket");
        let cfg = config(LogMethod::Syslog, &path, LogLevel::Info);
        let err = build_drain(&cfg, level_of(LogLevel::Info)).err().unwrap();
        assert!(err.starts_with("cannot connect to syslog socket "), "{err}");
        assert!(init(&cfg).is_err());
    }

    #[test]
    fn facilities_and_severities() {
        assert_eq!(facility_code("kern"), Some(0));
        assert_eq!(facility_code("daemon"), Some(3));
        assert_eq!(facility_code("authpriv"), Some(10));
        assert_eq!(facility_code("LOCAL7"), Some(23));
        assert_eq!(facility_code("local8"), None);
        assert_eq!(severity(Level::Warning), 4);
        assert_eq!(severity(Level::Debug), 7);
    }

    // The only test touching the process-wide loggers.
    #[test]
    fn init_installs_global_and_log_bridge() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("first.log");
        let handle = init(&config(LogMethod::File, &first, LogLevel::Info)).unwrap();
        log::info!("from the log crate");
        log::info!(target: "rustls::client", "noise");
        log::warn!(target: "rustls::client", "rustls warning");
        slog_scope::info!("from slog-scope");
        slog::info!(handle.logger(), "from the root logger");
        handle.flush();
        let text = std::fs::read_to_string(&first).unwrap();
        assert!(text.contains("INFO "), "{text}");
        assert!(text.contains("from the log crate"), "{text}");
        assert!(!text.contains("noise"), "{text}");
        assert!(
            text.contains("WARNING rustls::client: rustls warning"),
            "{text}"
        );
        assert!(text.contains("INFO from slog-scope"), "{text}");
        assert!(text.contains("INFO from the root logger"), "{text}");

        // A second init takes over, even though the `log` bridge is kept.
        let second = dir.path().join("second.log");
        let handle2 = init(&config(LogMethod::File, &second, LogLevel::Debug)).unwrap();
        drop(handle);
        log::debug!("debug from the log crate");
        let text = std::fs::read_to_string(&second).unwrap();
        assert!(text.contains("DEBUG "), "{text}");
        assert!(text.contains("debug from the log crate"), "{text}");
        handle2.set_level(LogLevel::Info);
        log::debug!("filtered");
        assert!(!std::fs::read_to_string(&second)
            .unwrap()
            .contains("filtered"));
    }

    #[test]
    fn redact_query_hides_key_values() {
        assert_eq!(
            redact_query("/dashboard?key=abc&x=1"),
            "/dashboard?key=***&x=1"
        );
        assert_eq!(redact_query("/x?a=1&key="), "/x?a=1&key=***");
        assert_eq!(redact_query("/x?key=a&key=b"), "/x?key=***&key=***");
        assert_eq!(redact_query("/x?k%65y=secret"), "/x?k%65y=***");
        assert_eq!(redact_query("/x?monkey=1&keys=2"), "/x?monkey=1&keys=2");
        assert_eq!(redact_query("/x?key"), "/x?key");
        assert_eq!(redact_query("/x"), "/x");
        assert_eq!(redact_query("/x?"), "/x?");
        assert_eq!(redact_query("/key=abc"), "/key=abc");
    }
}
