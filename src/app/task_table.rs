//! The list of tasks: one row each, linking to its detail, with status (colour, symbol
//! and text), a progress bar with the progress message, times and duration; optionally
//! with a checkbox per row for bulk actions.

use crate::model::{TaskStatus, TaskView};
use leptos::prelude::*;
use std::collections::BTreeSet;
use uuid::Uuid;

#[component]
pub fn TaskTable(
    tasks: Vec<TaskView>,
    /// When given, rows can be selected into this set.
    #[prop(optional)]
    selected: Option<RwSignal<BTreeSet<Uuid>>>,
) -> impl IntoView {
    if tasks.is_empty() {
        return view! { <p class="empty" data-testid="no-tasks">"No tasks here."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="tasks" data-testid="task-table">
                <thead>
                    <tr>
                        {selected.map(|_| view! { <th scope="col"><span class="visually-hidden">"Select"</span></th> })}
                        <th scope="col">"Task"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Queue"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Progress"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Took"</th>
                    </tr>
                </thead>
                <tbody>{tasks.into_iter().map(|task| view! { <TaskRow task selected/> }).collect_view()}</tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn TaskRow(task: TaskView, selected: Option<RwSignal<BTreeSet<Uuid>>>) -> impl IntoView {
    let id = task.id;
    let short_id = crate::model::short_id(&id);
    let message = task
        .progress_message
        .clone()
        .or_else(|| task.error_message.clone())
        .unwrap_or_default();
    let took = duration_text(&task);
    let checkbox = selected.map(|selected| {
        view! {
            <td>
                <input
                    type="checkbox"
                    data-testid="select-task"
                    aria-label=format!("Select task {short_id}")
                    prop:checked=move || selected.with(|s| s.contains(&id))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| {
                            if on { s.insert(id); } else { s.remove(&id); }
                        });
                    }
                />
            </td>
        }
    });
    view! {
        <tr data-testid="task-row" data-task-id=id.to_string() data-status=task.status.as_str()>
            {checkbox}
            <td class="mono">
                <a href=format!("/tasks/{id}") title=id.to_string()>{short_id.clone()}</a>
            </td>
            <td>{task.task_type.clone()}</td>
            <td>{task.queue.clone()}</td>
            <td><StatusBadge status=task.status/></td>
            <td>
                <div class="progress-cell">
                    <ProgressBar percent=task.progress/>
                    <span class="progress-message">{message}</span>
                </div>
            </td>
            <td><RelativeTime at=task.created_at/></td>
            <td class="mono">{took}</td>
        </tr>
    }
}

/// A progress bar with its percentage in text.
#[component]
pub fn ProgressBar(percent: u8) -> impl IntoView {
    view! {
        <progress max="100" value=percent aria-label="progress" data-testid="task-progress"></progress>
        <span class="progress-text" data-testid="task-progress-text">{format!("{percent}%")}</span>
    }
}

/// How long the last attempt ran (so far, for a running one: empty).
pub fn duration_text(task: &TaskView) -> String {
    match (task.started_at, task.completed_at) {
        (Some(start), Some(end)) if end >= start => {
            human_duration((end - start).num_milliseconds())
        }
        _ => String::new(),
    }
}

/// Milliseconds as "850 ms", "12.3 s", "4 min 05 s" or "2 h 03 min".
pub fn human_duration(ms: i64) -> String {
    match ms {
        ms if ms < 1_000 => format!("{ms} ms"),
        // Integers only: formatting a float would bring its code into the WebAssembly.
        ms if ms < 60_000 => format!("{}.{} s", ms / 1000, ms % 1000 / 100),
        ms if ms < 3_600_000 => format!("{} min {:02} s", ms / 60_000, ms % 60_000 / 1000),
        ms => format!("{} h {:02} min", ms / 3_600_000, ms % 3_600_000 / 60_000),
    }
}

/// A task's status, told by colour, symbol and text together.
#[component]
pub fn StatusBadge(status: TaskStatus) -> impl IntoView {
    let symbol = match status {
        TaskStatus::Pending => "○",
        TaskStatus::Scheduled => "◷",
        TaskStatus::Running => "▶",
        TaskStatus::Success => "✓",
        TaskStatus::Failed => "✕",
        TaskStatus::Cancelled => "⊘",
    };
    let class = format!("badge badge-{}", status.as_str().to_ascii_lowercase());
    view! {
        <span class=class data-testid="task-status">
            <span aria-hidden="true">{symbol}" "</span>
            {status.as_str()}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn relative_times_read_naturally() {
        use super::relative;
        use chrono::Duration;
        assert_eq!(relative(Duration::seconds(2)), "just now");
        assert_eq!(relative(Duration::seconds(45)), "45 s ago");
        assert_eq!(relative(Duration::seconds(200)), "3 min ago");
        assert_eq!(relative(Duration::hours(5)), "5 h ago");
        assert_eq!(relative(Duration::days(2)), "2 d ago");
        assert_eq!(relative(Duration::seconds(-240)), "in 4 min");
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(850), "850 ms");
        assert_eq!(human_duration(12_345), "12.3 s");
        assert_eq!(human_duration(245_000), "4 min 05 s");
        assert_eq!(human_duration(7_380_000), "2 h 03 min");
    }
}

/// A time shown relative to now ("3 min ago") once the browser has taken over, with the
/// exact UTC time as its title; the server renders the exact time.
#[component]
pub fn RelativeTime(at: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let exact = super::local_time::utc_text(at, false);
    let text = {
        let exact = exact.clone();
        move || match super::live::now() {
            Some(now) => relative(now - at),
            None => exact.clone(),
        }
    };
    view! {
        <time datetime=at.to_rfc3339() title=exact data-testid="relative-time">
            {text}
        </time>
    }
}

/// "just now", "45 s ago", "3 min ago", "5 h ago", "2 d ago"; "in 4 min" for the future.
pub fn relative(elapsed: chrono::Duration) -> String {
    let seconds = elapsed.num_seconds();
    let (amount, future) = (seconds.abs(), seconds < 0);
    let text = match amount {
        0..=4 => return "just now".into(),
        5..=59 => format!("{amount} s"),
        60..=3599 => format!("{} min", amount / 60),
        3600..=86_399 => format!("{} h", amount / 3600),
        _ => format!("{} d", amount / 86_400),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}
