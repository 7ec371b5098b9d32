//! Server functions the dashboard calls. Thin: each one finds the queue in the request's
//! context and calls it; validation and storage live below.

use crate::error::AppError;
use crate::model::{
    AuditEntry, BulkAction, BulkCount, BulkResult, ChartWindow, Charts, LogPage, Overview,
    ProcessView, QueueView, ScheduleDefinition, ScheduleTiming, ScheduleView, SubmitRequest,
    TaskFilter, TaskKindInfo, TaskPage, TaskQuery, TaskView, TimingPreview,
};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use uuid::Uuid;

/// Tasks the dashboard acts on per request of a bulk action by filter: small enough to
/// show progress every second or so.
#[cfg(feature = "ssr")]
pub const MATCHING_CHUNK: u64 = 1000;

/// Audit entries per page of the dashboard.
pub const AUDIT_PAGE: u64 = 100;

/// How many recent tasks the overview shows.
#[cfg(feature = "ssr")]
pub const RECENT: u64 = 10;

/// Counts, queues, throughput and the most recent tasks: everything the overview shows,
/// in one request.
#[server(endpoint = "overview", input = Json)]
pub async fn load_overview() -> Result<Overview, AppError> {
    let queue = queue()?;
    let filter = crate::server::store::ListFilter {
        limit: RECENT,
        ..Default::default()
    };
    Ok(Overview {
        stats: queue.stats().await?,
        queues: queue.queue_views().await?,
        recent: queue.list(&filter).await?,
    })
}

/// One page of tasks for the task list.
#[server(endpoint = "list_tasks", input = Json)]
pub async fn list_tasks(query: TaskQuery) -> Result<TaskPage, AppError> {
    Ok(queue()?.page(&query).await?)
}

/// One task with its attempts.
#[server(endpoint = "get_task", input = Json)]
pub async fn get_task(id: Uuid) -> Result<TaskView, AppError> {
    Ok(queue()?.get(id).await?)
}

/// Up to 1,000 lines of a task's log numbered after `after`.
#[server(endpoint = "task_log", input = Json)]
pub async fn task_log(id: Uuid, after: i64) -> Result<LogPage, AppError> {
    let limit = crate::server::store::LOG_PAGE_MAX;
    Ok(queue()?.task_log(id, after, limit).await?)
}

/// Validates and stores a task; per-field problems come back in `AppError::details`.
/// Counts against the client's submit rate limit, as REST submits do.
#[server(endpoint = "submit_task", input = Json)]
pub async fn submit_task(request: SubmitRequest) -> Result<TaskView, AppError> {
    use axum::extract::ConnectInfo;
    let limit = use_context::<std::sync::Arc<crate::server::rate_limit::SubmitLimit>>()
        .ok_or_else(AppError::internal)?;
    let client = leptos_axum::extract::<ConnectInfo<std::net::SocketAddr>>()
        .await
        .ok()
        .map(|info| info.0.ip());
    crate::server::rate_limit::allow(&limit, client, 1)?;
    Ok(queue()?.submit(request).await?)
}

#[server(endpoint = "cancel_task", input = Json)]
pub async fn cancel_task(id: Uuid) -> Result<TaskView, AppError> {
    Ok(queue()?.cancel(id, &actor()).await?)
}

#[server(endpoint = "retry_task", input = Json)]
pub async fn retry_task(id: Uuid) -> Result<TaskView, AppError> {
    Ok(queue()?.retry(id, &actor()).await?)
}

/// Retries a FAILED or CANCELLED task with new parameters (checked as a submit's are).
#[server(endpoint = "edit_and_retry", input = Json)]
pub async fn edit_and_retry(id: Uuid, parameters: serde_json::Value) -> Result<TaskView, AppError> {
    Ok(queue()?.edit_and_retry(id, parameters, &actor()).await?)
}

/// Makes a SCHEDULED task due now.
#[server(endpoint = "run_task_now", input = Json)]
pub async fn run_task_now(id: Uuid) -> Result<TaskView, AppError> {
    Ok(queue()?.run_now(id, &actor()).await?)
}

/// Deletes a finished task with its attempts and log.
#[server(endpoint = "delete_task", input = Json)]
pub async fn delete_task(id: Uuid) -> Result<(), AppError> {
    Ok(queue()?.delete_finished(id, &actor()).await?)
}

/// Audit entries newest first, of one task if given, before entry `before` if given.
#[server(endpoint = "audit_log", input = Json)]
pub async fn audit_log(
    task: Option<Uuid>,
    before: Option<i64>,
) -> Result<Vec<AuditEntry>, AppError> {
    Ok(queue()?.audit(task, before, AUDIT_PAGE).await?)
}

/// Cancels, retries or deletes each of the tasks chosen.
#[server(endpoint = "act_on_selected", input = Json)]
pub async fn act_on_selected(ids: Vec<Uuid>, action: BulkAction) -> Result<BulkResult, AppError> {
    if ids.len() > 1000 {
        return Err(AppError::bad_request("select at most 1000 tasks at once"));
    }
    Ok(queue()?.bulk(&ids, action, &actor()).await?)
}

/// How many tasks `filter` selects for `action`.
#[server(endpoint = "count_matching", input = Json)]
pub async fn count_matching(filter: TaskFilter, action: BulkAction) -> Result<BulkCount, AppError> {
    Ok(queue()?.count_matching(&filter, Some(action)).await?)
}

/// Acts on the next chunk of the tasks `filter` selects for `action`, after `cursor`.
#[server(endpoint = "act_on_matching", input = Json)]
pub async fn act_on_matching(
    filter: TaskFilter,
    action: BulkAction,
    cursor: Option<String>,
) -> Result<BulkResult, AppError> {
    Ok(queue()?
        .bulk_matching(&filter, action, cursor.as_deref(), MATCHING_CHUNK, &actor())
        .await?)
}

/// Every queue with its counts and whether it is paused. (Not `/api/queues`: that is
/// the REST list.)
#[server(endpoint = "queue_list", input = Json)]
pub async fn queues() -> Result<Vec<QueueView>, AppError> {
    Ok(queue()?.queue_views().await?)
}

/// Every process: live ones, and those gone within the last day.
#[server(endpoint = "process_list", input = Json)]
pub async fn processes() -> Result<Vec<ProcessView>, AppError> {
    Ok(queue()?.processes().await?)
}

/// Finished tasks and their latencies over `window`, per slot, queue and kind, limited
/// to one queue and one type when given. (Not `/api/charts`: that is the REST route.)
#[server(endpoint = "chart_view", input = Json)]
pub async fn load_charts(
    window: ChartWindow,
    queue_name: Option<String>,
    task_type: Option<String>,
) -> Result<Charts, AppError> {
    Ok(queue()?
        .charts(window, queue_name.as_deref(), task_type.as_deref())
        .await?)
}

#[server(endpoint = "set_queue_paused", input = Json)]
pub async fn set_queue_paused(name: String, paused: bool) -> Result<(), AppError> {
    Ok(queue()?.set_paused(&name, paused).await?)
}

/// Every task kind with its parameters, for the submit form.
#[server(endpoint = "task_kinds", input = Json)]
pub async fn task_kinds() -> Result<Vec<TaskKindInfo>, AppError> {
    Ok(queue()?.kinds())
}

/// Every schedule with its next run times and latest runs.
#[server(endpoint = "schedule_list", input = Json)]
pub async fn schedules() -> Result<Vec<ScheduleView>, AppError> {
    Ok(queue()?.schedule_views().await?)
}

/// A timing in words with its next run times, for the schedule form as one types.
#[server(endpoint = "preview_timing", input = Json)]
pub async fn preview_timing(timing: ScheduleTiming) -> Result<TimingPreview, AppError> {
    crate::server::schedules::preview(&timing).map_err(AppError::validation)
}

/// Makes or replaces a schedule (as `PUT /api/schedules/{name}` does).
#[server(endpoint = "save_schedule", input = Json)]
pub async fn save_schedule(definition: ScheduleDefinition) -> Result<ScheduleView, AppError> {
    Ok(queue()?.save_schedule(definition).await?.0)
}

/// Pauses (`enabled == false`) or resumes a schedule.
#[server(endpoint = "set_schedule_enabled", input = Json)]
pub async fn set_schedule_enabled(name: String, enabled: bool) -> Result<ScheduleView, AppError> {
    Ok(queue()?.set_schedule_enabled(&name, enabled).await?)
}

/// Submits a schedule's task now.
#[server(endpoint = "run_schedule_now", input = Json)]
pub async fn run_schedule_now(name: String) -> Result<TaskView, AppError> {
    Ok(queue()?.run_schedule_now(&name).await?)
}

#[server(endpoint = "delete_schedule", input = Json)]
pub async fn delete_schedule(name: String) -> Result<(), AppError> {
    Ok(queue()?.delete_schedule(&name).await?)
}

/// The server functions that only read: the read-only token may call these and no
/// others (they are all POSTs, so the method cannot tell).
#[cfg(feature = "ssr")]
pub fn reading_server_fns() -> Vec<&'static str> {
    use leptos::server_fn::ServerFn;
    vec![
        LoadOverview::PATH,
        ListTasks::PATH,
        GetTask::PATH,
        TaskLog::PATH,
        AuditLog::PATH,
        CountMatching::PATH,
        Queues::PATH,
        Processes::PATH,
        LoadCharts::PATH,
        TaskKinds::PATH,
        Schedules::PATH,
        PreviewTiming::PATH,
    ]
}

/// Who calls: how the request proved its access, and from where (for the audit log).
#[cfg(feature = "ssr")]
fn actor() -> crate::server::queue::Actor {
    use_context::<axum::http::request::Parts>()
        .map(|parts| crate::server::access::actor_of(&parts))
        .unwrap_or_else(crate::server::queue::Actor::local)
}

#[cfg(feature = "ssr")]
fn queue() -> Result<crate::server::queue::Queue, AppError> {
    use_context::<crate::server::queue::Queue>().ok_or_else(|| {
        tracing::error!("the queue is missing from the server function context");
        AppError::internal()
    })
}
