//! `spool logs ID`: prints a task's log, marking where lines were dropped; with
//! `--follow`, goes on printing lines as they are written until the task ends, and then
//! exits as `watch` does (0 for SUCCESS, 1 otherwise).

use super::client::{Client, ClientError};
use super::ClientArgs;
use crate::model::{LogLine, LogPage, TaskStatus, TaskView};
use clap::Args;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The task's id, or its last 4 or more hex digits.
    pub id: String,
    /// Keep printing lines as they are written, until the task is final.
    #[arg(short, long)]
    pub follow: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// How often a followed log is looked at again.
const POLL: Duration = Duration::from_millis(500);

pub async fn logs(
    client: &Client,
    args: &ClientArgs,
    logs: LogsArgs,
) -> Result<ExitCode, ClientError> {
    let id = logs.id;
    let mut after = 0;
    loop {
        // The task before its lines: once it shows final, every line it wrote is stored.
        let task: Option<TaskView> = match logs.follow {
            true => Some(client.get(&format!("/api/tasks/{id}")).await?),
            false => None,
        };
        loop {
            let path = format!("/api/tasks/{id}/logs?after={after}&limit=1000");
            let page: LogPage = client.get(&path).await?;
            for line in &page.lines {
                print(args.json, after, line);
                after = line.seq;
            }
            if !page.more {
                break;
            }
        }
        match task {
            None => return Ok(ExitCode::SUCCESS),
            Some(task) if task.status == TaskStatus::Success => return Ok(ExitCode::SUCCESS),
            Some(task) if task.status.is_final() => return Ok(ExitCode::from(1)),
            Some(_) => tokio::time::sleep(POLL).await,
        }
    }
}

/// One line: JSON (a line's numbers show any gap), or text with a marker before it when
/// lines were dropped since `previous_seq`.
fn print(json: bool, previous_seq: i64, line: &LogLine) {
    if json {
        println!("{}", serde_json::to_string(line).unwrap_or_default());
        return;
    }
    let dropped = LogPage::dropped_before(previous_seq, line);
    if dropped > 0 {
        println!("… {dropped} line(s) dropped");
    }
    println!(
        "{}  {:<5}  [{}] {}",
        line.at.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        line.level,
        line.attempt,
        line.message
    );
}
