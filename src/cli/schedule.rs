//! `spool schedule …`: list, show, make or replace, pause, resume, run now and delete
//! schedules through the REST API.

use super::client::{Client, ClientError};
use super::{output, parameters, ClientArgs};
use crate::model::{CatchUp, ScheduleDefinition, ScheduleView, SubmitRequest, TaskView};
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ScheduleArgs {
    #[command(subcommand)]
    pub command: ScheduleCommand,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Subcommand)]
pub enum ScheduleCommand {
    /// List every schedule with its next run.
    List,
    /// Show one schedule: its timing in words, next run times and latest runs.
    Show { name: String },
    /// Make a schedule or replace it:
    /// `spool schedule set nightly --cron "0 2 * * *" --timezone Europe/Paris data_processing rows=500`.
    Set(Box<SetArgs>),
    /// Pause a schedule: the slots that pass while it is paused never fire.
    Pause { name: String },
    /// Resume a paused schedule from its next slot.
    Resume { name: String },
    /// Submit a schedule's task now, without moving its slots.
    Run { name: String },
    /// Delete a schedule (the tasks it submitted stay).
    Delete { name: String },
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// The schedule's name.
    pub name: String,
    /// The task kind each slot submits.
    pub task_type: String,
    /// The task's parameters as NAME=VALUE, as `spool submit` takes them.
    pub params: Vec<String>,
    /// A cron expression: five fields, or six with seconds first.
    #[arg(long, conflicts_with = "every_secs")]
    pub cron: Option<String>,
    /// The IANA time zone of `--cron` (default UTC).
    #[arg(long, requires = "cron")]
    pub timezone: Option<String>,
    /// A fixed interval in seconds, instead of `--cron`.
    #[arg(long)]
    pub every_secs: Option<u64>,
    /// Slots missed while nothing ran: skip, once or each.
    #[arg(long, value_parser = ["skip", "once", "each"], default_value = "skip")]
    pub catch_up: String,
    /// With `--catch-up each`, the most missed slots fired at once.
    #[arg(long, default_value_t = 10)]
    pub catch_up_max: u32,
    /// Start each slot's task up to this many seconds late, at random.
    #[arg(long, default_value_t = 0)]
    pub jitter_secs: u32,
    /// Store it paused.
    #[arg(long)]
    pub paused: bool,
    /// The queue of its tasks.
    #[arg(long)]
    pub queue: Option<String>,
    /// Its tasks' priority, 0 (most urgent) to 9.
    #[arg(long)]
    pub priority: Option<i32>,
    /// Attempts before a task is FAILED for good.
    #[arg(long)]
    pub max_attempts: Option<i32>,
    /// Milliseconds one attempt may run.
    #[arg(long)]
    pub timeout_ms: Option<i64>,
}

/// Runs one `spool schedule` command.
pub async fn run(
    client: &Client,
    args: &ClientArgs,
    command: ScheduleCommand,
) -> Result<ExitCode, ClientError> {
    let path = |name: &str| {
        let name = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
        format!("/api/schedules/{name}")
    };
    match command {
        ScheduleCommand::List => {
            let schedules: Vec<ScheduleView> = client.get("/api/schedules").await?;
            output::schedules(args.json, &schedules);
        }
        ScheduleCommand::Show { name } => {
            output::schedule(args.json, &client.get(&path(&name)).await?);
        }
        ScheduleCommand::Set(set) => {
            let name = set.name.clone();
            let definition = definition(*set)?;
            output::schedule(
                args.json,
                &client.put_json(&path(&name), &definition).await?,
            );
        }
        ScheduleCommand::Pause { name } => {
            let view = client
                .send_empty("POST", &format!("{}/pause", path(&name)))
                .await?;
            output::schedule(args.json, &view);
        }
        ScheduleCommand::Resume { name } => {
            let view = client
                .send_empty("POST", &format!("{}/resume", path(&name)))
                .await?;
            output::schedule(args.json, &view);
        }
        ScheduleCommand::Run { name } => {
            let task: TaskView = client
                .send_empty("POST", &format!("{}/run", path(&name)))
                .await?;
            output::task(args.json, &task);
        }
        ScheduleCommand::Delete { name } => {
            client.send_empty::<()>("DELETE", &path(&name)).await?;
            if !args.json {
                println!("deleted schedule {name}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn definition(set: SetArgs) -> Result<ScheduleDefinition, ClientError> {
    let catch_up = match set.catch_up.as_str() {
        "once" => CatchUp::Once,
        "each" => CatchUp::Each,
        _ => CatchUp::Skip,
    };
    Ok(ScheduleDefinition {
        name: set.name,
        cron: set.cron,
        timezone: set.timezone,
        every_secs: set.every_secs,
        catch_up,
        catch_up_max: set.catch_up_max,
        jitter_secs: set.jitter_secs,
        enabled: !set.paused,
        task: SubmitRequest {
            task_type: set.task_type,
            parameters: parameters(&set.params)?,
            queue: set.queue,
            priority: set.priority,
            max_attempts: set.max_attempts,
            timeout_ms: set.timeout_ms,
            run_at: None,
            delay_ms: None,
            unique: None,
        },
    })
}
