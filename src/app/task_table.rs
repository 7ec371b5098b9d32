//! The list of tasks: one row each, with status (colour and text) and a progress bar.

use crate::model::{TaskStatus, TaskView};
use leptos::prelude::*;

#[component]
pub fn TaskTable(tasks: Vec<TaskView>) -> impl IntoView {
    if tasks.is_empty() {
        return view! {
            <p class="empty" data-testid="no-tasks">"No tasks yet. Submit one above."</p>
        }
        .into_any();
    }
    view! {
        <table class="tasks" data-testid="task-table">
            <thead>
                <tr>
                    <th scope="col">"Task"</th>
                    <th scope="col">"Type"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Progress"</th>
                    <th scope="col">"Created (UTC)"</th>
                </tr>
            </thead>
            <tbody>
                {tasks.into_iter().map(|task| view! { <TaskRow task/> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn TaskRow(task: TaskView) -> impl IntoView {
    let id = task.id.to_string();
    let short_id = id[..8].to_string();
    let message = task
        .progress_message
        .clone()
        .or_else(|| task.error_message.clone())
        .unwrap_or_default();
    view! {
        <tr data-testid="task-row" data-task-id=id data-status=task.status.as_str()>
            <td class="mono" title=id.clone()>{short_id}</td>
            <td>{task.task_type}</td>
            <td>
                <StatusBadge status=task.status/>
            </td>
            <td>
                <div class="progress-cell">
                <progress
                    max="100"
                    value=task.progress
                    aria-label="progress"
                    data-testid="task-progress"
                ></progress>
                <span class="progress-text" data-testid="task-progress-text">
                    {format!("{}%", task.progress)}
                </span>
                <span class="progress-message">{message}</span>
                </div>
            </td>
            <td class="mono">{task.created_at.format("%Y-%m-%d %H:%M:%S").to_string()}</td>
        </tr>
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
