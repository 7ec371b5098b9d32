//! `spool exec`: an external worker that needs no code. It claims tasks from a queue over
//! the REST API and runs the command given on its own command line once per task (never
//! a command from the task): the task's parameters as JSON on its standard input, lines
//! `PROGRESS <percent> [message]` on its standard output as progress, the rest of its
//! output as the result (JSON when it parses, else the text), each line of its error
//! output as a line of the task's log, and its exit status as the outcome (0 succeeds;
//! anything else fails, retried by the task's policy, its last error line the reason).
//!
//! Unlike `spool worker`, which runs Spool's own kinds in-process on a shared database,
//! `spool exec` talks only to a server's REST API, like any external worker.

use super::client::{Client, ClientError};
use super::ClientArgs;
use crate::model::{
    bounded_message, AppendLogRequest, ClaimRequest, ClaimedWork, CompleteRequest, FailRequest,
    HeartbeatAnswer, HeartbeatRequest, LogLevel, NewLogLine, LOG_LINES_PER_REQUEST,
    LOG_MESSAGE_MAX,
};
use clap::Args;
use serde_json::Value;
use std::collections::VecDeque;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// Most output kept as a result or an error: a task's result is a summary, not a file.
const MAX_OUTPUT: usize = 64 * 1024;

/// A progress report: percent and message.
type Progress = (u8, Option<String>);
/// The latest report of the running command, not yet sent.
type LatestProgress = Arc<Mutex<Option<Progress>>>;
/// Lines of the command's error output not yet sent to the task's log.
type PendingLines = Arc<Mutex<VecDeque<NewLogLine>>>;

/// How often lines of the command's error output are sent to the task's log.
const LOG_EVERY: Duration = Duration::from_millis(500);
/// Most message bytes one request of log lines carries: well under the server's 256 KiB
/// body limit with the JSON around them.
const LOG_REQUEST_BYTES: usize = 128 * 1024;

/// `spool exec`'s command line.
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The queue to take tasks from (declare its kind with `serve --external-kind`).
    #[arg(long)]
    pub queue: String,
    /// Seconds a task's lease lasts between heartbeats (2–3600).
    #[arg(long, default_value_t = 30)]
    pub lease_secs: u64,
    /// Stop once the queue is empty instead of waiting for more.
    #[arg(long)]
    pub until_idle: bool,
    /// Who this worker is, as shown on each task's attempts (default: host and pid).
    #[arg(long)]
    pub worker: Option<String>,
    /// The command to run per task, and its arguments (after `--`).
    #[arg(required = true, last = true)]
    pub command: Vec<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Takes tasks and runs the command for each until the queue is empty (`--until-idle`)
/// or the process is stopped.
pub async fn exec(client: &Client, args: ExecArgs) -> Result<ExitCode, ClientError> {
    let worker = args.worker.clone().unwrap_or_else(default_worker);
    loop {
        let request = ClaimRequest {
            worker: worker.clone(),
            queues: vec![args.queue.clone()],
            max: Some(1),
            lease_secs: Some(args.lease_secs),
            wait_secs: Some(if args.until_idle { 0 } else { 20 }),
        };
        let claimed: Vec<ClaimedWork> = client.post_json("/api/workers/claim", &request).await?;
        if claimed.is_empty() && args.until_idle {
            return Ok(ExitCode::SUCCESS);
        }
        for task in claimed {
            run_one(client, &args, task).await?;
        }
    }
}

/// Runs the command for one task and reports how it ended.
async fn run_one(client: &Client, args: &ExecArgs, task: ClaimedWork) -> Result<(), ClientError> {
    let path = format!("/api/workers/tasks/{}", task.id);
    let mut child = match Command::new(&args.command[0])
        .args(&args.command[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(err) => {
            let error = format!("could not start {:?}: {err}", args.command[0]);
            return report_failure(client, &path, &task, error).await;
        }
    };
    if let Some(mut stdin) = child.stdin.take() {
        let parameters = task.parameters.to_string();
        // A command that does not read its input closes the pipe early; that is its choice.
        let _ = stdin.write_all(parameters.as_bytes()).await;
    }
    let progress: LatestProgress = Arc::default();
    let output = tokio::spawn(read_output(child.stdout.take(), Arc::clone(&progress)));
    let lines: PendingLines = Arc::default();
    let errors = tokio::spawn(read_errors(child.stderr.take(), Arc::clone(&lines)));
    let mut log_ticker = tokio::time::interval(LOG_EVERY);
    let beat_every = Duration::from_secs(args.lease_secs.max(2) / 3).max(Duration::from_secs(1));
    let mut ticker = tokio::time::interval(beat_every);
    ticker.tick().await;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status,
            _ = log_ticker.tick() => send_log(client, &path, &task, &lines).await,
            _ = ticker.tick() => {
                let latest = progress.lock().ok().and_then(|mut p| p.take());
                let beat = HeartbeatRequest {
                    attempt: task.attempt,
                    progress: latest.as_ref().map(|(percent, _)| *percent),
                    message: latest.and_then(|(_, message)| message),
                    lease_secs: Some(args.lease_secs),
                };
                match client.post_json::<HeartbeatAnswer>(&format!("{path}/heartbeat"), &beat).await {
                    Ok(answer) if answer.cancel_requested => {
                        let _ = child.kill().await;
                    }
                    Ok(_) => {}
                    Err(ClientError::Refused { status: 409, .. }) => {
                        eprintln!("spool exec: task {} is no longer ours; stopping it", task.id);
                        let _ = child.kill().await;
                        return Ok(());
                    }
                    Err(err) => eprintln!("spool exec: heartbeat failed: {err}"),
                }
            }
        }
    };
    let stdout = output.await.unwrap_or_default();
    let stderr = errors.await.unwrap_or_default();
    send_log(client, &path, &task, &lines).await;
    match status {
        Ok(status) if status.success() => {
            let result = serde_json::from_str(stdout.trim())
                .unwrap_or_else(|_| Value::String(stdout.trim().to_string()));
            let done = CompleteRequest {
                attempt: task.attempt,
                result,
            };
            settle(
                client
                    .post_json::<()>(&format!("{path}/complete"), &done)
                    .await,
                &task,
            )
        }
        Ok(status) => {
            let code = status
                .code()
                .map_or_else(|| "a signal".to_string(), |code| format!("status {code}"));
            let last = stderr.lines().last().unwrap_or("").trim();
            let error = format!("the command exited with {code}: {last}");
            report_failure(client, &path, &task, error).await
        }
        Err(err) => report_failure(client, &path, &task, format!("lost the command: {err}")).await,
    }
}

async fn report_failure(
    client: &Client,
    path: &str,
    task: &ClaimedWork,
    error: String,
) -> Result<(), ClientError> {
    let failed = FailRequest {
        attempt: task.attempt,
        error,
        retryable: None,
        retry_after_secs: None,
    };
    settle(
        client
            .post_json::<()>(&format!("{path}/fail"), &failed)
            .await,
        task,
    )
}

/// A report the server refused because the task is no longer ours is not an error of
/// this worker: it is dropped, and the worker goes on.
fn settle(reported: Result<(), ClientError>, task: &ClaimedWork) -> Result<(), ClientError> {
    match reported {
        Err(ClientError::Refused { status: 409, .. }) => {
            eprintln!(
                "spool exec: task {} is no longer ours; its outcome is dropped",
                task.id
            );
            Ok(())
        }
        other => other,
    }
}

/// Reads the command's output: `PROGRESS` lines go to `progress`, the rest (up to
/// [`MAX_OUTPUT`]) is returned.
async fn read_output(
    stdout: Option<tokio::process::ChildStdout>,
    progress: LatestProgress,
) -> String {
    let Some(stdout) = stdout else {
        return String::new();
    };
    let mut lines = BufReader::new(stdout).lines();
    let mut kept = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(report) = parse_progress(&line) {
            if let Ok(mut latest) = progress.lock() {
                *latest = Some(report);
            }
        } else if kept.len() + line.len() < MAX_OUTPUT {
            kept.push_str(&line);
            kept.push('\n');
        }
    }
    kept
}

/// Reads the command's error output: each line goes to `lines` for the task's log (the
/// oldest dropped beyond what one request carries, as no request can say how many were),
/// and the last [`MAX_OUTPUT`] bytes are returned.
async fn read_errors(stderr: Option<tokio::process::ChildStderr>, lines: PendingLines) -> String {
    let Some(stderr) = stderr else {
        return String::new();
    };
    let mut reader = BufReader::new(stderr);
    let mut tail = VecDeque::<u8>::new();
    let mut line = Vec::new();
    // A line longer than a log line may be is read (and logged) in pieces.
    let longest = LOG_MESSAGE_MAX as u64;
    while let Ok(read) = (&mut reader)
        .take(longest)
        .read_until(b'\n', &mut line)
        .await
    {
        if read == 0 {
            break;
        }
        tail.extend(&line);
        let excess = tail.len().saturating_sub(MAX_OUTPUT);
        tail.drain(..excess);
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        line.clear();
        if let Ok(mut lines) = lines.lock() {
            if lines.len() >= LOG_LINES_PER_REQUEST {
                lines.pop_front();
            }
            lines.push_back(NewLogLine {
                level: LogLevel::Info,
                message: text,
                at: Some(chrono::Utc::now()),
            });
        }
    }
    String::from_utf8_lossy(tail.make_contiguous()).into_owned()
}

/// Sends the error lines read since the last call to the task's log, in requests that
/// stay well inside the server's body limit. Lines the server cannot take now are
/// dropped: the log is for people, and the outcome matters more.
async fn send_log(client: &Client, path: &str, task: &ClaimedWork, lines: &PendingLines) {
    let lines = match lines.lock() {
        Ok(mut lines) if !lines.is_empty() => std::mem::take(&mut *lines).into_iter(),
        _ => return,
    };
    let mut chunks: Vec<Vec<NewLogLine>> = vec![Vec::new()];
    let mut bytes = 0;
    for line in lines {
        let line = NewLogLine {
            message: bounded_message(line.message),
            ..line
        };
        // As sent: escapes and the fields around the message count too.
        let size = serde_json::to_string(&line).map_or(LOG_REQUEST_BYTES, |json| json.len());
        if bytes + size > LOG_REQUEST_BYTES {
            chunks.push(Vec::new());
            bytes = 0;
        }
        bytes += size;
        if let Some(chunk) = chunks.last_mut() {
            chunk.push(line);
        }
    }
    for lines in chunks {
        let request = AppendLogRequest {
            attempt: task.attempt,
            lines,
        };
        if let Err(err) = client
            .post_json::<()>(&format!("{path}/logs"), &request)
            .await
        {
            return eprintln!(
                "spool exec: could not send log lines of task {}: {err}",
                task.id
            );
        }
    }
}

/// `PROGRESS 40 resizing` → (40, Some("resizing")); percentages above 100 count as 100.
fn parse_progress(line: &str) -> Option<Progress> {
    let rest = line.strip_prefix("PROGRESS ")?;
    let (percent, message) = match rest.split_once(' ') {
        Some((percent, message)) => (percent, Some(message.trim().to_string())),
        None => (rest, None),
    };
    let percent: u32 = percent.trim().parse().ok()?;
    Some((percent.min(100) as u8, message.filter(|m| !m.is_empty())))
}

fn default_worker() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    format!("{host}:{}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::parse_progress;

    #[test]
    fn progress_lines_are_recognised_and_other_lines_are_not() {
        assert_eq!(
            parse_progress("PROGRESS 40 resizing"),
            Some((40, Some("resizing".into())))
        );
        assert_eq!(parse_progress("PROGRESS 250"), Some((100, None)));
        assert_eq!(parse_progress("PROGRESS many"), None);
        assert_eq!(parse_progress("progress 40"), None);
        assert_eq!(parse_progress("{\"words\": 3}"), None);
    }
}
