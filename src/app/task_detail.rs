//! One task: status and live progress, the actions an operator may take on it,
//! parameters, result, error, the timeline of its attempts, its log and the actions taken.

use super::audit_page::TaskHistory;
use super::json_view::{JsonView, RawJson};
use super::live::use_live;
use super::local_time::LocalTime;
use super::result_view::ResultView;
use super::task_actions::{ActionPanel, TaskActions};
use super::task_log::TaskLog;
use super::task_table::{human_duration, ProgressBar, StatusBadge};
use super::LoadError;
use crate::api::get_task;
use crate::error::AppError;
use crate::model::{AttemptView, TaskView};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

#[component]
pub fn TaskDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").and_then(|id| Uuid::parse_str(&id).ok()));
    let live = use_live(id, |id: Option<Uuid>| async move {
        match id {
            Some(id) => get_task(id).await,
            None => Err(AppError::bad_request("that is not a task id")),
        }
    });
    let panel = ActionPanel::new(live.refresh);
    let written = Memo::new(move |_| {
        live.data
            .with(|answer| {
                answer
                    .as_ref()
                    .and_then(|answer| answer.as_ref().ok())
                    // The page may still hold the task shown before this one.
                    .filter(|task| Some(task.id) == id())
                    .map(|task| task.log_lines)
            })
            .unwrap_or(0)
    });
    view! {
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || {
                live.data
                    .get()
                    .map(|answer| match answer {
                        Ok(task) => view! { <TaskDetail task panel/> }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    })
            }}
        </Transition>
        {move || id().map(|id| view! { <TaskLog id written/> <TaskHistory id/> })}
    }
}

#[component]
fn TaskDetail(task: TaskView, panel: ActionPanel) -> impl IntoView {
    let title = format!("{} {}", task.task_type, crate::model::short_id(&task.id));
    let attempts = task.attempts.clone().unwrap_or_default();
    let result = task.result_data.clone().map(|result| {
        view! {
            <section class="panel" aria-labelledby="result-heading">
                <h2 id="result-heading">"Result"</h2>
                <ResultView task_type=task.task_type.clone() result=result.clone()/>
                <RawJson value=result testid="raw-result"/>
            </section>
        }
    });
    let error = task.error_message.clone().map(|error| {
        view! {
            <section class="panel" aria-labelledby="error-heading">
                <h2 id="error-heading">"Error"</h2>
                <pre class="error-text" data-testid="task-error">{error}</pre>
            </section>
        }
    });
    view! {
        <section class="panel" aria-labelledby="task-heading" data-testid="task-detail" data-task-id=task.id.to_string()>
            <h1 id="task-heading">{title}</h1>
            <div class="detail-head">
                <StatusBadge status=task.status/>
                <div class="progress-cell">
                    <ProgressBar percent=task.progress/>
                    <span class="progress-message">{task.progress_message.clone().unwrap_or_default()}</span>
                </div>
                <TaskActions task=task.clone() panel/>
            </div>
            <dl class="kv facts">
                <dt>"Id"</dt><dd class="mono">{task.id.to_string()}</dd>
                <dt>"Queue"</dt><dd>{task.queue.clone()}</dd>
                <dt>"Priority"</dt><dd>{task.priority}</dd>
                <dt>"Attempts"</dt><dd data-testid="attempt-count">{format!("{} of {}", task.attempt, task.max_attempts)}</dd>
                <dt>"Created"</dt><dd><LocalTime at=task.created_at millis=true/></dd>
                <dt>"Runs at"</dt><dd><LocalTime at=task.run_at millis=true/></dd>
                <dt>"Started"</dt><dd>{time(task.started_at)}</dd>
                <dt>"Completed"</dt><dd>{time(task.completed_at)}</dd>
                <dt>"Timeout"</dt><dd>{task.timeout_ms.map(human_duration).unwrap_or_else(|| "none".into())}</dd>
            </dl>
        </section>
        <section class="panel" aria-labelledby="parameters-heading">
            <h2 id="parameters-heading">"Parameters"</h2>
            <JsonView value=task.parameters.clone()/>
            <RawJson value=task.parameters.clone() testid="raw-parameters"/>
        </section>
        {result}
        {error}
        <section class="panel" aria-labelledby="attempts-heading">
            <h2 id="attempts-heading">"Attempts"</h2>
            <Timeline attempts/>
        </section>
    }
}

/// A time to the millisecond in the viewer's zone, or a dash.
fn time(at: Option<chrono::DateTime<chrono::Utc>>) -> AnyView {
    match at {
        Some(at) => view! { <LocalTime at millis=true/> }.into_any(),
        None => "—".into_any(),
    }
}

#[component]
fn Timeline(attempts: Vec<AttemptView>) -> impl IntoView {
    if attempts.is_empty() {
        return view! { <p class="empty">"Not started yet."</p> }.into_any();
    }
    view! {
        <ol class="timeline" data-testid="attempts">
            {attempts
                .into_iter()
                .map(|attempt| {
                    let took = attempt
                        .finished_at
                        .map(|end| human_duration((end - attempt.started_at).num_milliseconds()))
                        .unwrap_or_else(|| "running".into());
                    let outcome = attempt.outcome.clone().unwrap_or_else(|| "RUNNING".into());
                    view! {
                        <li data-testid="attempt" data-outcome=outcome.clone()>
                            <strong>{format!("Attempt {}", attempt.attempt)}</strong>
                            " · "
                            <span class=format!("outcome outcome-{}", outcome.to_ascii_lowercase())>{outcome.clone()}</span>
                            " · "
                            <LocalTime at=attempt.started_at millis=true/>
                            " · "
                            {took}
                            " · "
                            {worker_link(&attempt.worker_id)}
                            {attempt.error.clone().map(|error| view! { <div class="error-text">{error}</div> })}
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

/// An attempt's worker: a link to the process that ran it, for Spool's own processes
/// (`PROCESS/QUEUE`); an external worker's name as it is.
fn worker_link(worker_id: &str) -> AnyView {
    if worker_id.contains('/') && !worker_id.starts_with("external:") {
        let process = crate::model::process_of_worker(worker_id);
        view! { <a class="mono" data-testid="attempt-process" href=format!("/processes#{process}")>{worker_id.to_string()}</a> }
            .into_any()
    } else {
        view! { <span class="mono">{worker_id.to_string()}</span> }.into_any()
    }
}
