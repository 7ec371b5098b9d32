//! The client's operator actions beyond cancel: retry (with some parameters changed, if
//! asked), run now, delete, and reading the audit log that records them all.

use super::client::{Client, ClientError};
use super::{output, parameter_value, ClientArgs};
use crate::model::{AuditEntry, RetryRequest, TaskView};
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct RetryArgs {
    /// The task's id, or its last 4 or more hex digits.
    pub id: String,
    /// Change a parameter first, as NAME=VALUE (typed as `submit` types them); the
    /// others keep their values. Repeatable.
    #[arg(long = "set")]
    pub set: Vec<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only the entries of this task.
    #[arg(long)]
    pub task: Option<String>,
    /// How many entries to show at most (1–500).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Retries a task as it was, or with the parameters `--set` changes.
pub async fn retry(
    client: &Client,
    args: &ClientArgs,
    retry: RetryArgs,
) -> Result<ExitCode, ClientError> {
    let task: TaskView = if retry.set.is_empty() {
        let path = format!("/api/tasks/{}/retry", retry.id);
        client.send_empty("POST", &path).await?
    } else {
        let current: TaskView = client.get(&format!("/api/tasks/{}", retry.id)).await?;
        let mut parameters = current.parameters;
        let Some(fields) = parameters.as_object_mut() else {
            return Err(ClientError::Usage(
                "the task's parameters are not an object".into(),
            ));
        };
        for pair in &retry.set {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| ClientError::Usage(format!("{pair:?}: --set takes NAME=VALUE")))?;
            fields.insert(name.to_string(), parameter_value(value));
        }
        let path = format!("/api/tasks/{}/edit-and-retry", retry.id);
        client
            .post_json(&path, &RetryRequest { parameters })
            .await?
    };
    output::task(args.json, &task);
    Ok(ExitCode::SUCCESS)
}

/// Makes a SCHEDULED task due now.
pub async fn run_now(
    client: &Client,
    args: &ClientArgs,
    id: &str,
) -> Result<ExitCode, ClientError> {
    let task: TaskView = client
        .send_empty("POST", &format!("/api/tasks/{id}/run-now"))
        .await?;
    output::task(args.json, &task);
    Ok(ExitCode::SUCCESS)
}

/// Deletes a finished task.
pub async fn delete(client: &Client, id: &str) -> Result<ExitCode, ClientError> {
    client
        .send_empty::<()>("POST", &format!("/api/tasks/{id}/delete"))
        .await?;
    println!("deleted {id}");
    Ok(ExitCode::SUCCESS)
}

/// Prints the newest audit entries.
pub async fn audit(
    client: &Client,
    args: &ClientArgs,
    audit: AuditArgs,
) -> Result<ExitCode, ClientError> {
    let mut query = format!("limit={}", audit.limit);
    if let Some(task) = &audit.task {
        query.push_str(&format!("&task={task}"));
    }
    let entries: Vec<AuditEntry> = client.get(&format!("/api/audit?{query}")).await?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&entries).unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    for entry in entries {
        let on = match (&entry.task_id, &entry.filter) {
            (Some(id), _) => id.to_string(),
            (None, Some(filter)) => filter.clone(),
            (None, None) => "-".into(),
        };
        println!(
            "{}  {:<11} {:>5}  {:<7} {:<15} {on}",
            entry.at.format("%Y-%m-%d %H:%M:%S"),
            entry.action,
            entry.changed,
            entry.access,
            entry.address.as_deref().unwrap_or("-"),
        );
        if let Some(details) = entry.details {
            println!("  {details}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
