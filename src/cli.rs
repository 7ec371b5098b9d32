//! The `spool` command-line client: submit, list, inspect, cancel, retry and watch tasks
//! through a server's REST API, from scripts or a terminal.
//!
//! Exit codes: 0 success; 1 the task ended FAILED or CANCELLED (`--wait`, `watch`);
//! 2 the request was refused or the server could not be reached.

mod client;
mod output;

use crate::model::{SubmitRequest, TaskView};
use clap::{Args, Subcommand};
use client::{Client, ClientError};
use serde_json::{Map, Value};
use std::process::ExitCode;
use std::time::Duration;

/// Settings every client command shares.
#[derive(Clone, Debug, Args)]
pub struct ClientArgs {
    /// The Spool server to talk to.
    #[arg(
        long,
        global = true,
        env = "SPOOL_SERVER",
        default_value = "http://127.0.0.1:3000"
    )]
    pub server: String,
    /// Print JSON instead of text meant for people.
    #[arg(long, global = true)]
    pub json: bool,
    /// The server's access token, sent as `Authorization: Bearer`.
    #[arg(long, global = true, env = "SPOOL_TOKEN", hide_env_values = true)]
    pub api_token: Option<String>,
}

/// The client commands.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Submit a task: `spool submit data_processing rows=500`.
    Submit(SubmitArgs),
    /// List recent tasks, newest first.
    List(ListArgs),
    /// Show one task with its attempts.
    Get { id: String },
    /// Cancel a task.
    Cancel { id: String },
    /// Run a FAILED or CANCELLED task again.
    Retry { id: String },
    /// Follow a task with a progress bar until it ends; the exit code tells how.
    Watch { id: String },
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The task kind (see `GET /api/task-types`).
    pub task_type: String,
    /// Parameters as NAME=VALUE; whole numbers are sent as numbers.
    pub params: Vec<String>,
    #[arg(long)]
    pub queue: Option<String>,
    #[arg(long)]
    pub priority: Option<i32>,
    #[arg(long)]
    pub delay_ms: Option<i64>,
    #[arg(long)]
    pub max_attempts: Option<i32>,
    #[arg(long)]
    pub timeout_ms: Option<i64>,
    /// Follow the task until it ends, like `watch`.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(long)]
    pub status: Option<String>,
    #[arg(long = "type")]
    pub task_type: Option<String>,
    #[arg(long)]
    pub queue: Option<String>,
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
}

/// Runs one client command and returns the process's exit code.
pub async fn run(args: ClientArgs, command: ClientCommand) -> ExitCode {
    let client = Client::new(&args.server, args.api_token.as_deref());
    let result = match command {
        ClientCommand::Submit(submit) => submit_task(&client, &args, submit).await,
        ClientCommand::List(list) => list_tasks(&client, &args, list).await,
        ClientCommand::Get { id } => show(&args, client.get(&format!("/api/tasks/{id}")).await),
        ClientCommand::Cancel { id } => show(
            &args,
            client
                .send_empty("DELETE", &format!("/api/tasks/{id}"))
                .await,
        ),
        ClientCommand::Retry { id } => show(
            &args,
            client
                .send_empty("POST", &format!("/api/tasks/{id}/retry"))
                .await,
        ),
        ClientCommand::Watch { id } => watch(&client, &args, &id).await,
    };
    result.unwrap_or_else(|err| {
        eprintln!("spool: {err}");
        ExitCode::from(2)
    })
}

async fn submit_task(
    client: &Client,
    args: &ClientArgs,
    submit: SubmitArgs,
) -> Result<ExitCode, ClientError> {
    let mut parameters = Map::new();
    for pair in &submit.params {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| ClientError::Usage(format!("{pair:?}: parameters are NAME=VALUE")))?;
        let value = value
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(value));
        parameters.insert(name.to_string(), value);
    }
    let request = SubmitRequest {
        task_type: submit.task_type,
        parameters: Value::Object(parameters),
        queue: submit.queue,
        priority: submit.priority,
        delay_ms: submit.delay_ms,
        max_attempts: submit.max_attempts,
        timeout_ms: submit.timeout_ms,
        run_at: None,
    };
    let task: TaskView = client.post_json("/api/tasks/submit", &request).await?;
    if submit.wait {
        return follow(client, args, task).await;
    }
    output::task(args.json, &task);
    Ok(ExitCode::SUCCESS)
}

async fn list_tasks(
    client: &Client,
    args: &ClientArgs,
    list: ListArgs,
) -> Result<ExitCode, ClientError> {
    let mut query = vec![format!("limit={}", list.limit)];
    for (key, value) in [
        ("status", list.status),
        ("task_type", list.task_type),
        ("queue", list.queue),
    ] {
        if let Some(value) = value {
            query.push(format!("{key}={value}"));
        }
    }
    let tasks: Vec<TaskView> = client
        .get(&format!("/api/tasks/?{}", query.join("&")))
        .await?;
    output::table(args.json, &tasks);
    Ok(ExitCode::SUCCESS)
}

fn show(args: &ClientArgs, task: Result<TaskView, ClientError>) -> Result<ExitCode, ClientError> {
    output::task(args.json, &task?);
    Ok(ExitCode::SUCCESS)
}

async fn watch(client: &Client, args: &ClientArgs, id: &str) -> Result<ExitCode, ClientError> {
    let task: TaskView = client.get(&format!("/api/tasks/{id}")).await?;
    follow(client, args, task).await
}

/// Polls the task until it is final, drawing its progress; the exit code is its outcome.
async fn follow(
    client: &Client,
    args: &ClientArgs,
    mut task: TaskView,
) -> Result<ExitCode, ClientError> {
    let mut bar = output::ProgressLine::new(args.json);
    loop {
        bar.draw(&task);
        if task.status.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        task = client.get(&format!("/api/tasks/{}", task.id)).await?;
    }
    bar.finish(&task);
    Ok(match task.status {
        crate::model::TaskStatus::Success => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    })
}
