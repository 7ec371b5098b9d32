//! `spool bulk cancel|retry|delete` with a filter: states how many tasks the action
//! applies to, asks (or takes `--yes`), then acts a chunk per request and reports.

use super::client::{Client, ClientError};
use super::ClientArgs;
use crate::model::{thousands, BulkAction, BulkCount, BulkResult, TaskFilter};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct BulkArgs {
    /// `cancel`, `retry` or `delete`.
    #[arg(value_parser = BulkAction::parse)]
    pub action: BulkAction,
    #[command(flatten)]
    pub filter: super::FilterArgs,
    /// Act without asking; needed when there is no terminal to ask at.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Tasks per request, 1–10000.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub chunk: u64,
    #[command(flatten)]
    pub client: ClientArgs,
}

/// Counts, confirms and acts; exit code 0 once every chunk is done.
pub async fn bulk(
    client: &Client,
    args: &ClientArgs,
    bulk: BulkArgs,
) -> Result<ExitCode, ClientError> {
    let filter = bulk.filter.task_filter()?;
    if filter.is_empty() {
        return Err(ClientError::Usage(
            "name at least one of --status, --type, --queue or --search to select the tasks".into(),
        ));
    }
    let action = bulk.action;
    let count_query = filter.query_string(&[("action", action.as_str().into())]);
    let count: BulkCount = client
        .get(&format!("/api/tasks/count?{count_query}"))
        .await?;
    if count.count > 0 && !bulk.yes {
        confirm(action, &count, &filter)?;
    }
    // From where the count was taken: tasks made since are not part of it.
    let mut total = BulkResult {
        next: count.cursor.clone(),
        ..BulkResult::default()
    };
    if count.count > 0 {
        loop {
            let mut pairs = vec![("limit", bulk.chunk.to_string())];
            pairs.extend(total.next.take().map(|cursor| ("cursor", cursor)));
            let path = format!(
                "/api/tasks/{}?{}",
                action.as_str(),
                filter.query_string(&pairs)
            );
            let chunk: BulkResult = client.send_empty("POST", &path).await?;
            total.changed += chunk.changed;
            total.skipped += chunk.skipped;
            total.next = chunk.next;
            if !args.json && total.next.is_some() {
                eprintln!(
                    "{} {} of {count}…",
                    action.done(),
                    thousands(total.changed + total.skipped)
                );
            }
            if total.next.is_none() {
                break;
            }
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({"changed": total.changed, "skipped": total.skipped})
        );
    } else {
        println!(
            "{} {}, skipped {} (changed meanwhile)",
            action.done(),
            thousands(total.changed),
            thousands(total.skipped)
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Asks at the terminal; without one, refuses, saying how many `--yes` would act on.
fn confirm(action: BulkAction, count: &BulkCount, filter: &TaskFilter) -> Result<(), ClientError> {
    let what = format!("{count} task(s) matching {}", filter.query_string(&[]));
    if !std::io::stdin().is_terminal() {
        return Err(ClientError::Usage(format!(
            "this would {} {what}; pass --yes to do it without a terminal to confirm at",
            action.as_str()
        )));
    }
    eprint!("{} {what}? [y/N] ", action.verb());
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|err| ClientError::Usage(format!("could not read the answer: {err}")))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(ClientError::Usage("nothing was done".into()))
    }
}
