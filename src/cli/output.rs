//! How the client shows tasks and schedules: JSON for scripts, short text for people,
//! and a progress line that redraws itself on a terminal.

use crate::model::{ScheduleView, TaskView};
use std::io::{IsTerminal, Write};

/// One task: JSON, or a few lines of text.
pub fn task(json: bool, task: &TaskView) {
    if json {
        println!("{}", serde_json::to_string_pretty(task).unwrap_or_default());
        return;
    }
    println!(
        "{}  {}  {}  {}%",
        task.id, task.task_type, task.status, task.progress
    );
    if let Some(message) = &task.progress_message {
        println!("  {message}");
    }
    if let Some(error) = &task.error_message {
        println!("  error: {error}");
    }
    for attempt in task.attempts.iter().flatten() {
        println!(
            "  attempt {} on {}: {}{}",
            attempt.attempt,
            attempt.worker_id,
            attempt.outcome.as_deref().unwrap_or("running"),
            attempt
                .error
                .as_deref()
                .map(|e| format!(" ({e})"))
                .unwrap_or_default()
        );
    }
    if let Some(result) = &task.result_data {
        println!("  result: {result}");
    }
}

/// One schedule: JSON, or its timing in words, next run times and latest runs.
pub fn schedule(json: bool, schedule: &ScheduleView) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(schedule).unwrap_or_default()
        );
        return;
    }
    let definition = &schedule.definition;
    let state = if definition.enabled {
        "enabled"
    } else {
        "paused"
    };
    println!(
        "{}  {}  {}  ({state}, from {:?})",
        definition.name, definition.task.task_type, schedule.description, schedule.source
    );
    for next in &schedule.next {
        println!("  next: {}", next.format("%Y-%m-%d %H:%M:%S UTC"));
    }
    for run in &schedule.last_runs {
        let status = run.status.map(|status| status.as_str()).unwrap_or("pruned");
        let how = if run.manual { " (run by hand)" } else { "" };
        println!(
            "  ran: {}  {}  {status}{how}",
            run.slot.format("%Y-%m-%d %H:%M:%S UTC"),
            run.task_id
        );
    }
}

/// Many schedules: a JSON array, or one line each with its next run.
pub fn schedules(json: bool, schedules: &[ScheduleView]) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(schedules).unwrap_or_default()
        );
        return;
    }
    for schedule in schedules {
        let next = match (schedule.definition.enabled, schedule.next.first()) {
            (false, _) => "paused".to_string(),
            (true, Some(next)) => format!("next {}", next.format("%Y-%m-%d %H:%M:%S UTC")),
            (true, None) => "no next run".to_string(),
        };
        println!(
            "{:<24} {:<18} {next}  {}",
            schedule.definition.name, schedule.definition.task.task_type, schedule.description
        );
    }
}

/// Many tasks: a JSON array, or one aligned line each.
pub fn table(json: bool, tasks: &[TaskView]) {
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(tasks).unwrap_or_default()
        );
        return;
    }
    for task in tasks {
        println!(
            "{}  {:<18} {:<10} {:>3}%  {}",
            task.id,
            task.task_type,
            task.status.as_str(),
            task.progress,
            task.created_at.format("%Y-%m-%d %H:%M:%S")
        );
    }
}

/// A progress bar that redraws in place on a terminal and prints a line per change
/// elsewhere (or one JSON object per change with `--json`).
pub struct ProgressLine {
    json: bool,
    terminal: bool,
    last: Option<(crate::model::TaskStatus, u8)>,
}

impl ProgressLine {
    pub fn new(json: bool) -> ProgressLine {
        ProgressLine {
            json,
            terminal: std::io::stdout().is_terminal(),
            last: None,
        }
    }

    pub fn draw(&mut self, task: &TaskView) {
        let now = (task.status, task.progress);
        if self.last == Some(now) {
            return;
        }
        self.last = Some(now);
        if self.json {
            println!("{}", serde_json::to_string(task).unwrap_or_default());
            return;
        }
        let filled = usize::from(task.progress) * 30 / 100;
        let line = format!(
            "[{}{}] {:>3}% {:<9} {}",
            "#".repeat(filled),
            "-".repeat(30 - filled),
            task.progress,
            task.status.as_str(),
            task.progress_message.as_deref().unwrap_or("")
        );
        if self.terminal {
            print!("\r\x1b[2K{line}");
            let _ = std::io::stdout().flush();
        } else {
            println!("{line}");
        }
    }

    pub fn finish(&mut self, task: &TaskView) {
        if self.json {
            return;
        }
        if self.terminal {
            println!();
        }
        match &task.error_message {
            Some(error) if task.status != crate::model::TaskStatus::Success => {
                println!("{} {}: {error}", task.id, task.status)
            }
            _ => println!("{} {}", task.id, task.status),
        }
    }
}
