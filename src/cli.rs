//! The `spool` command-line client: submit, list, inspect, cancel, retry and watch tasks,
//! read their logs, and manage schedules through a server's REST API, from scripts or a terminal, and run
//! a command per task as an external worker (`spool exec`).
//!
//! Exit codes: 0 success; 1 the task ended FAILED or CANCELLED (`--wait`, `watch`);
//! 2 the request was refused or the server could not be reached.

mod actions;
mod bulk;
mod client;
mod exec;
mod logs;
mod output;
mod schedule;
mod task_ids;

use crate::model::{SubmitRequest, TaskFilter, TaskView};
use clap::{Args, Subcommand};
use client::{Client, ClientError};
use serde_json::{Map, Value};
use std::process::ExitCode;
use std::time::Duration;

/// How the client reaches a server; every client command takes these (and no server
/// command does), before or after its own subcommand's arguments.
#[derive(Clone, Debug, Args)]
#[command(next_help_heading = "Server connection")]
pub struct ClientArgs {
    /// URL of the Spool server to talk to.
    #[arg(
        long,
        env = "SPOOL_SERVER",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    pub server: String,
    /// Print JSON instead of text meant for people.
    #[arg(long, global = true)]
    pub json: bool,
    /// The server's access token, sent as `Authorization: Bearer`.
    #[arg(long, env = "SPOOL_TOKEN", hide_env_values = true, global = true)]
    pub api_token: Option<String>,
}

/// The client commands: each talks to a running server over its REST API.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Submit a task: `spool submit data_processing rows=500`.
    Submit(SubmitArgs),
    /// List recent tasks, newest first.
    List(ListArgs),
    /// Show one task with its attempts.
    Get(TaskArgs),
    /// Cancel a task.
    Cancel(TaskArgs),
    /// Run a FAILED or CANCELLED task again: `--set rows=10` changes a parameter first.
    Retry(actions::RetryArgs),
    /// Run a SCHEDULED task (delayed, or waiting to be retried) now.
    RunNow(TaskArgs),
    /// Delete a finished task, with its attempts and log.
    Delete(TaskArgs),
    /// Cancel, retry or delete every task a filter selects, after saying how many:
    /// `spool bulk retry --status FAILED --queue mail`.
    Bulk(bulk::BulkArgs),
    /// Show the audit log: who cancelled, retried, ran, edited or deleted what.
    Audit(actions::AuditArgs),
    /// Follow a task with a progress bar until it ends; the exit code tells how.
    Watch(TaskArgs),
    /// Print a task's log; `-f` follows it until the task ends.
    Logs(logs::LogsArgs),
    /// Run a command per task of a queue, as an external worker over the REST API:
    /// `spool exec --queue text -- ./count-words.sh`. Not `spool worker`, which runs
    /// Spool's own kinds in-process on a shared database.
    Exec(exec::ExecArgs),
    /// Manage schedules: `spool schedule list`, `show`, `set`, `pause`, `resume`, `run`,
    /// `delete`.
    Schedule(schedule::ScheduleArgs),
}

/// A command about one task.
#[derive(Debug, Args)]
pub struct TaskArgs {
    /// The task's id, or its last 4 or more hex digits (the short id the dashboard shows).
    pub id: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// The task kind (see `GET /api/task-types`).
    pub task_type: String,
    /// Parameters as NAME=VALUE; whole numbers are sent as numbers, JSON objects and
    /// arrays (`headers={"Accept":"text/plain"}`) as JSON, anything else as text.
    pub params: Vec<String>,
    /// Queue to put the task on (default: `default`).
    #[arg(long)]
    pub queue: Option<String>,
    /// 0 (most urgent, the default) to 9; lower runs first among a queue's ready tasks.
    #[arg(long)]
    pub priority: Option<i32>,
    /// Milliseconds to wait before the task may start.
    #[arg(long)]
    pub delay_ms: Option<i64>,
    /// Attempts before the task is FAILED for good (1–100, default 3).
    #[arg(long)]
    pub max_attempts: Option<i32>,
    /// Milliseconds one attempt may run before it is stopped and counted as failed.
    #[arg(long)]
    pub timeout_ms: Option<i64>,
    /// At most one task of this kind with this key waiting or running: a submit that
    /// finds one shows it instead of storing another.
    #[arg(long)]
    pub unique_key: Option<String>,
    /// With `--unique-key`: one per period of this many seconds (from the Unix epoch).
    #[arg(long, requires = "unique_key")]
    pub unique_period_secs: Option<u64>,
    /// Follow the task until it ends, like `watch`.
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Which tasks a command selects.
#[derive(Debug, Args)]
pub struct FilterArgs {
    /// Only tasks in this status (PENDING, RUNNING, SUCCESS, FAILED, CANCELLED, …).
    #[arg(long)]
    pub status: Option<String>,
    /// Only tasks of this kind.
    #[arg(long = "type")]
    pub task_type: Option<String>,
    /// Only tasks of this queue.
    #[arg(long)]
    pub queue: Option<String>,
    /// Only tasks whose parameters, results or errors contain this text (any case).
    #[arg(long)]
    pub search: Option<String>,
}

impl FilterArgs {
    fn task_filter(&self) -> Result<TaskFilter, ClientError> {
        TaskFilter::parse(
            self.status.as_deref(),
            self.task_type.as_deref(),
            self.queue.as_deref(),
            self.search.as_deref(),
        )
        .map_err(ClientError::Usage)
    }
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// How many tasks to show at most.
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl ClientCommand {
    fn client_args(&self) -> &ClientArgs {
        match self {
            ClientCommand::Submit(submit) => &submit.client,
            ClientCommand::List(list) => &list.client,
            ClientCommand::Get(task)
            | ClientCommand::Cancel(task)
            | ClientCommand::RunNow(task)
            | ClientCommand::Delete(task)
            | ClientCommand::Watch(task) => &task.client,
            ClientCommand::Retry(retry) => &retry.client,
            ClientCommand::Audit(audit) => &audit.client,
            ClientCommand::Bulk(bulk) => &bulk.client,
            ClientCommand::Logs(logs) => &logs.client,
            ClientCommand::Exec(exec) => &exec.client,
            ClientCommand::Schedule(schedule) => &schedule.client,
        }
    }
}

impl ClientCommand {
    /// The task id the command names, if any: a short one is resolved before it runs.
    fn task_id_mut(&mut self) -> Option<&mut String> {
        match self {
            ClientCommand::Get(task)
            | ClientCommand::Cancel(task)
            | ClientCommand::RunNow(task)
            | ClientCommand::Delete(task)
            | ClientCommand::Watch(task) => Some(&mut task.id),
            ClientCommand::Retry(retry) => Some(&mut retry.id),
            ClientCommand::Logs(logs) => Some(&mut logs.id),
            ClientCommand::Audit(audit) => audit.task.as_mut(),
            _ => None,
        }
    }
}

/// Runs one client command and returns the process's exit code.
pub async fn run(mut command: ClientCommand) -> ExitCode {
    let args = command.client_args().clone();
    let client = Client::new(&args.server, args.api_token.as_deref());
    if let Some(id) = command.task_id_mut() {
        match task_ids::resolve(&client, id).await {
            Ok(full) => *id = full,
            Err(err) => {
                eprintln!("spool: {err}");
                return ExitCode::from(2);
            }
        }
    }
    let result = match command {
        ClientCommand::Submit(submit) => submit_task(&client, &args, submit).await,
        ClientCommand::List(list) => list_tasks(&client, &args, list).await,
        ClientCommand::Get(TaskArgs { id, .. }) => {
            show(&args, client.get(&format!("/api/tasks/{id}")).await)
        }
        ClientCommand::Cancel(TaskArgs { id, .. }) => show(
            &args,
            client
                .send_empty("DELETE", &format!("/api/tasks/{id}"))
                .await,
        ),
        ClientCommand::Retry(retry) => actions::retry(&client, &args, retry).await,
        ClientCommand::RunNow(TaskArgs { id, .. }) => actions::run_now(&client, &args, &id).await,
        ClientCommand::Delete(TaskArgs { id, .. }) => actions::delete(&client, &id).await,
        ClientCommand::Audit(audit) => actions::audit(&client, &args, audit).await,
        ClientCommand::Bulk(bulk) => bulk::bulk(&client, &args, bulk).await,
        ClientCommand::Watch(TaskArgs { id, .. }) => watch(&client, &args, &id).await,
        ClientCommand::Logs(logs) => logs::logs(&client, &args, logs).await,
        ClientCommand::Exec(exec) => exec::exec(&client, exec).await,
        ClientCommand::Schedule(schedule) => schedule::run(&client, &args, schedule.command).await,
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
    let request = SubmitRequest {
        task_type: submit.task_type,
        parameters: parameters(&submit.params)?,
        queue: submit.queue,
        priority: submit.priority,
        delay_ms: submit.delay_ms,
        max_attempts: submit.max_attempts,
        timeout_ms: submit.timeout_ms,
        run_at: None,
        unique: submit.unique_key.map(|key| crate::model::UniqueRequest {
            key,
            period_secs: submit.unique_period_secs,
            states: None,
        }),
    };
    let task: TaskView = client.post_json("/api/tasks/submit", &request).await?;
    if submit.wait {
        return follow(client, args, task).await;
    }
    output::task(args.json, &task);
    Ok(ExitCode::SUCCESS)
}

/// Task parameters typed as NAME=VALUE.
fn parameters(pairs: &[String]) -> Result<Value, ClientError> {
    let mut parameters = Map::new();
    for pair in pairs {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| ClientError::Usage(format!("{pair:?}: parameters are NAME=VALUE")))?;
        parameters.insert(name.to_string(), parameter_value(value));
    }
    Ok(Value::Object(parameters))
}

/// A parameter's value as typed on the command line: a whole number, a JSON object or
/// array, or else text.
pub(crate) fn parameter_value(text: &str) -> Value {
    if let Ok(number) = text.parse::<i64>() {
        return Value::from(number);
    }
    if text.starts_with(['{', '[']) {
        if let Ok(json) = serde_json::from_str(text) {
            return json;
        }
    }
    Value::from(text)
}

async fn list_tasks(
    client: &Client,
    args: &ClientArgs,
    list: ListArgs,
) -> Result<ExitCode, ClientError> {
    let filter = list.filter.task_filter()?;
    let query = filter.query_string(&[("limit", list.limit.to_string())]);
    let tasks: Vec<TaskView> = client.get(&format!("/api/tasks/?{query}")).await?;
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
