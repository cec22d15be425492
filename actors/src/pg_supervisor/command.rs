//! Running the `[administration] pg_ctl` command template for one control action:
//! splitting it into arguments (quotes as a shell reads them, but no shell: no
//! expansion, no pipes, no redirections), running it with a deadline, and keeping
//! the last lines of what it wrote. The only thing from a request that reaches the
//! command is the validated action word.
//!
//! It must never wait on the command's pipes beyond the command's exit: `pg_ctl
//! start` without `-l` leaves the postmaster writing to them for as long as it runs.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::{ChildStderr, ChildStdout, Command};
use tokio::time::{sleep_until, Instant};

/// How long the pipes are still read after the command exits: enough for what it
/// wrote just before exiting, short enough when a child of it keeps them open.
const DRAIN_GRACE: Duration = Duration::from_millis(300);
/// Output kept (the end of it), in bytes.
const OUTPUT_KEPT_BYTES: usize = 64 * 1024;
/// Lines of output quoted in errors and logs.
pub const OUTPUT_TAIL_LINES: usize = 20;

/// Splits a command template into words the way a POSIX shell splits a simple
/// command: blanks separate words; `'...'` is literal; inside `"..."` a backslash
/// escapes `"`, `\`, `$` and `` ` ``; outside quotes a backslash escapes any
/// character. Nothing is expanded.
pub fn split_words(template: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word may be empty ('' or ""): it still counts once started.
    let mut in_word = false;
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err("unterminated single quote".to_string()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err("unterminated double quote".to_string()),
                        },
                        Some(c) => word.push(c),
                        None => return Err("unterminated double quote".to_string()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(c) => word.push(c),
                    None => return Err("backslash at the end".to_string()),
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The program and arguments for `action`: the template is split first and `%s`
/// replaced in each word after, so the action never changes how words are split.
pub fn command_line(template: &str, action: &str) -> Result<Vec<String>, String> {
    let words = split_words(template)?;
    if words.is_empty() {
        return Err("the command is empty".to_string());
    }
    Ok(words.into_iter().map(|w| w.replace("%s", action)).collect())
}

/// What a command did.
#[derive(Debug)]
pub struct CommandOutcome {
    /// None when it was killed at the deadline.
    pub status: Option<ExitStatus>,
    /// The end of its standard output and error, interleaved as they arrived.
    pub output: String,
}

impl CommandOutcome {
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }

    /// The last lines of the output, without blank lines.
    pub fn tail(&self, lines: usize) -> Vec<String> {
        let all: Vec<&str> = self
            .output
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .collect();
        all[all.len().saturating_sub(lines)..]
            .iter()
            .map(|l| l.to_string())
            .collect()
    }
}

/// "exit status 3", "killed by signal 9".
pub fn describe_status(status: &ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => status.to_string(),
    }
}

/// Keeps the last `OUTPUT_KEPT_BYTES` of what the command wrote.
struct Tail(Vec<u8>);

impl Tail {
    fn push(&mut self, bytes: &[u8]) {
        self.0.extend_from_slice(bytes);
        if self.0.len() > OUTPUT_KEPT_BYTES {
            let cut = self.0.len() - OUTPUT_KEPT_BYTES;
            self.0.drain(..cut);
        }
    }
}

/// Reads one chunk; None at end of file or on error (the pipe is then done).
async fn read_chunk(pipe: &mut (impl AsyncRead + Unpin), buf: &mut [u8]) -> Option<usize> {
    match pipe.read(buf).await {
        Ok(0) | Err(_) => None,
        Ok(n) => Some(n),
    }
}

/// Runs `argv` with stdin on /dev/null, in its own process group, from `/` (the
/// agent's working directory may be closed to the user a `runuser` switches to).
/// At `timeout` the whole process group is killed (`runuser` forks: killing it
/// alone would leave `pg_ctl` running). Fails only when the program cannot start.
pub async fn run(argv: &[String], timeout: Duration) -> Result<CommandOutcome, String> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| "the command is empty".to_string())?;
    let mut child = Command::new(program)
        .args(args)
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    let pid = child.id();
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err("the command's output pipes are missing".to_string());
    };
    let mut pipes = Pipes::new(stdout, stderr);
    let deadline = Instant::now() + timeout;

    // Read while it runs, so that a chatty command never blocks on a full pipe.
    let status = loop {
        tokio::select! {
            () = pipes.read_some(), if pipes.open() => {}
            status = child.wait() => break status.ok(),
            _ = sleep_until(deadline) => break None,
        }
    };
    if status.is_none() {
        if let Some(pid) = pid {
            kill_process_group(pid).await;
        }
        let _ = child.kill().await;
    }

    // What it wrote just before exiting, without waiting on pipes a child holds.
    let grace = Instant::now() + DRAIN_GRACE;
    while pipes.open() {
        tokio::select! {
            () = pipes.read_some() => {}
            _ = sleep_until(grace) => break,
        }
    }
    Ok(CommandOutcome {
        status,
        output: String::from_utf8_lossy(&pipes.output.0).into_owned(),
    })
}

/// The command's standard output and error, read as they come into one `Tail`.
struct Pipes {
    stdout: ChildStdout,
    stderr: ChildStderr,
    out_buf: [u8; 4096],
    err_buf: [u8; 4096],
    out_open: bool,
    err_open: bool,
    output: Tail,
}

impl Pipes {
    fn new(stdout: ChildStdout, stderr: ChildStderr) -> Pipes {
        Pipes {
            stdout,
            stderr,
            out_buf: [0; 4096],
            err_buf: [0; 4096],
            out_open: true,
            err_open: true,
            output: Tail(Vec::new()),
        }
    }

    /// Whether either pipe may still give something.
    fn open(&self) -> bool {
        self.out_open || self.err_open
    }

    /// One chunk from whichever pipe has one first; a pipe at its end is closed.
    /// Cancel-safe: a read that did not complete took nothing.
    async fn read_some(&mut self) {
        tokio::select! {
            read = read_chunk(&mut self.stdout, &mut self.out_buf), if self.out_open => match read {
                Some(n) => self.output.push(&self.out_buf[..n]),
                None => self.out_open = false,
            },
            read = read_chunk(&mut self.stderr, &mut self.err_buf), if self.err_open => match read {
                Some(n) => self.output.push(&self.err_buf[..n]),
                None => self.err_open = false,
            },
            else => {}
        }
    }
}

/// SIGKILL to the process group the command leads (`runuser` forks: killing it
/// alone would leave pg_ctl running).
async fn kill_process_group(pgid: u32) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    let _ = nix::sys::signal::killpg(
        nix::unistd::Pid::from_raw(pgid),
        nix::sys::signal::Signal::SIGKILL,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        split_words(s).unwrap()
    }

    #[test]
    fn splits_on_blanks() {
        assert_eq!(
            words("  pg_ctlcluster\t15  main %s "),
            ["pg_ctlcluster", "15", "main", "%s"]
        );
        assert!(words("   ").is_empty());
    }

    #[test]
    fn quotes_group_words_and_are_removed() {
        assert_eq!(
            words(r#"pg_ctl %s -D '/var/lib/my data' -o "-c port=5433""#),
            [
                "pg_ctl",
                "%s",
                "-D",
                "/var/lib/my data",
                "-o",
                "-c port=5433"
            ]
        );
        assert_eq!(words("a'b c'd"), ["ab cd"]);
        assert_eq!(words("x '' y"), ["x", "", "y"]);
        assert_eq!(words(r#""""#), [""]);
    }

    #[test]
    fn nothing_is_expanded_or_interpreted() {
        assert_eq!(
            words("sh -c 'echo $HOME; exit 3' > out | cat"),
            ["sh", "-c", "echo $HOME; exit 3", ">", "out", "|", "cat"]
        );
        assert_eq!(words(r#"'a\b' "a\b""#), [r"a\b", r"a\b"]);
    }

    #[test]
    fn backslashes_escape() {
        assert_eq!(words(r"my\ dir \'x"), ["my dir", "'x"]);
        assert_eq!(words(r#""say \"hi\" \\ \$x""#), [r#"say "hi" \ $x"#]);
        assert_eq!(words(r#"'it'\''s'"#), ["it's"]);
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert!(split_words("pg_ctl 'x")
            .unwrap_err()
            .contains("single quote"));
        assert!(split_words("pg_ctl \"x")
            .unwrap_err()
            .contains("double quote"));
        assert!(split_words("pg_ctl \"x\\").is_err());
        assert!(split_words("pg_ctl x\\").is_err());
    }

    #[test]
    fn the_action_replaces_the_placeholder_after_splitting() {
        assert_eq!(
            command_line("runuser -u postgres -- pg_ctl %s -D '/d x'", "restart").unwrap(),
            ["runuser", "-u", "postgres", "--", "pg_ctl", "restart", "-D", "/d x"]
        );
        assert_eq!(
            command_line("sudo systemctl %s postgresql@15-main", "reload").unwrap(),
            ["sudo", "systemctl", "reload", "postgresql@15-main"]
        );
        assert_eq!(
            command_line("sh -c 'echo %s'", "stop").unwrap(),
            ["sh", "-c", "echo stop"]
        );
        assert!(command_line("  ", "stop").is_err());
    }

    #[test]
    fn tail_keeps_the_last_non_blank_lines() {
        let outcome = CommandOutcome {
            status: None,
            output: "a\n\nb\nc  \n".to_string(),
        };
        assert_eq!(outcome.tail(2), ["b", "c"]);
        assert_eq!(outcome.tail(10), ["a", "b", "c"]);
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[tokio::test]
    async fn captures_output_and_status() {
        let outcome = run(
            &argv(&["sh", "-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        assert!(!outcome.success());
        assert_eq!(describe_status(&outcome.status.unwrap()), "exit status 3");
        let tail = outcome.tail(5);
        assert!(tail.contains(&"out".to_string()), "{tail:?}");
        assert!(tail.contains(&"err".to_string()), "{tail:?}");
    }

    #[tokio::test]
    async fn a_child_holding_the_pipes_does_not_hold_the_reply() {
        let started = std::time::Instant::now();
        // The background sleep keeps stdout open after sh exits.
        let outcome = run(
            &argv(&["sh", "-c", "sleep 30 & echo started"]),
            Duration::from_secs(20),
        )
        .await
        .unwrap();
        assert!(outcome.success());
        assert_eq!(outcome.tail(5), ["started"]);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn the_deadline_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("pid");
        let script = format!("sleep 30 & echo $! > {}; wait", pid_file.display());
        let started = std::time::Instant::now();
        let outcome = run(&argv(&["sh", "-c", &script]), Duration::from_millis(500))
            .await
            .unwrap();
        assert!(outcome.status.is_none());
        assert!(started.elapsed() < Duration::from_secs(5));
        let pid = std::fs::read_to_string(&pid_file).unwrap();
        let stat = format!("/proc/{}/stat", pid.trim());
        // The grandchild is gone (or a zombie waiting for init to reap it).
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let gone = std::fs::read_to_string(&stat)
                .map(|s| s.rsplit_once(") ").is_some_and(|(_, r)| r.starts_with('Z')))
                .unwrap_or(true);
            if gone {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "sleep survived");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[tokio::test]
    async fn a_missing_program_is_an_error() {
        let err = run(
            &argv(&["/nonexistent/pg_ctl", "start"]),
            Duration::from_secs(1),
        )
        .await
        .unwrap_err();
        assert!(err.contains("/nonexistent/pg_ctl"), "{err}");
    }
}
