//! Many tasks at a time: the keyset-paged list (`GET /api/tasks/`), how many a filter
//! selects (`GET /api/tasks/count`), and bulk cancel, retry and delete of every task a
//! filter selects, a chunk per request.

use super::openapi::ErrorBody;
use super::ApiQuery;
use crate::error::AppError;
use crate::model::{BulkAction, BulkCount, BulkResult, TaskFilter, TaskView};
use crate::server::queue::paging::{encode_cursor, list_filter};
use crate::server::queue::{Actor, MAX_BULK};
use crate::server::store::ListFilter;
use crate::server::AppState;
use axum::extract::State;
use axum::http::header::LINK;
use axum::http::{HeaderMap, HeaderValue};
use axum::Json;
use serde::Deserialize;

/// Largest page a list returns.
pub const MAX_LIMIT: u64 = 1000;
/// Page size when the request names none.
pub const DEFAULT_LIMIT: u64 = 50;

/// The list's query string; values are parsed by hand for clear messages.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// PENDING, SCHEDULED, RUNNING, SUCCESS, FAILED or CANCELLED (empty: any).
    status: Option<String>,
    task_type: Option<String>,
    queue: Option<String>,
    /// Text to find in parameters, results and errors.
    q: Option<String>,
    /// Page size (default 50).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 1000)]
    limit: Option<String>,
    /// Where the previous page ended (from its `Link` header).
    cursor: Option<String>,
}

/// What a bulk action selects by: the list's filters, narrowed to the statuses the
/// action applies to, and its chunk (documentation only; the handler reads a
/// [`ListQuery`], whose limit goes higher here).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct BulkQuery {
    /// PENDING, SCHEDULED, RUNNING, SUCCESS, FAILED or CANCELLED (empty: every status the
    /// action applies to).
    status: Option<String>,
    task_type: Option<String>,
    queue: Option<String>,
    /// Text to find in parameters, results and errors.
    q: Option<String>,
    /// Most tasks to act on in this request (default and most: 10,000).
    #[param(value_type = Option<u64>, minimum = 1, maximum = 10000)]
    limit: Option<String>,
    /// Where the previous chunk stopped (its result's `next`).
    cursor: Option<String>,
}

/// What a count selects by: the list's filters, and the action to count for.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CountQuery {
    /// PENDING, SCHEDULED, RUNNING, SUCCESS, FAILED or CANCELLED (empty: any).
    status: Option<String>,
    task_type: Option<String>,
    queue: Option<String>,
    /// Text to find in parameters, results and errors.
    q: Option<String>,
    /// `cancel`, `retry` or `delete`: count only the tasks it would act on.
    action: Option<String>,
}

impl ListQuery {
    /// The task filter this query asks for, or a 400 naming the bad value.
    fn task_filter(&self) -> Result<TaskFilter, AppError> {
        TaskFilter::parse(
            self.status.as_deref(),
            self.task_type.as_deref(),
            self.queue.as_deref(),
            self.q.as_deref(),
        )
        .map_err(AppError::bad_request)
    }

    /// The store filter: the task filter, the page size and where the last page ended.
    fn filter(&self, default_limit: u64) -> Result<(TaskFilter, ListFilter), AppError> {
        let limit = super::page_limit(self.limit.as_deref(), default_limit, MAX_LIMIT)?;
        let task_filter = self.task_filter()?;
        let store_filter = list_filter(&task_filter, self.cursor.as_deref(), limit)?;
        Ok((task_filter, store_filter))
    }
}

/// `GET /api/tasks/`: a JSON array, newest first. When more tasks follow, a
/// `Link: <…>; rel="next"` header gives the next page's URL.
#[utoipa::path(get, path = "/api/tasks/", tag = "tasks", params(ListQuery),
    responses((status = 200, description = "Tasks, newest first; a `Link: <…>; rel=\"next\"` header when more follow", body = Vec<TaskView>),
        (status = 400, description = "Bad filter, limit or cursor", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<(HeaderMap, Json<Vec<TaskView>>), AppError> {
    let (task_filter, filter) = query.filter(DEFAULT_LIMIT)?;
    let tasks = state.queue.list(&filter).await?;
    let mut headers = HeaderMap::new();
    if let Some(last) = tasks.last().filter(|_| tasks.len() as u64 == filter.limit) {
        let cursor = encode_cursor(last.created_at.timestamp_micros(), last.id);
        if let Ok(link) = HeaderValue::from_str(&next_link(&task_filter, filter.limit, &cursor)) {
            headers.insert(LINK, link);
        }
    }
    Ok((headers, Json(tasks)))
}

#[utoipa::path(get, path = "/api/tasks", tag = "tasks", params(ListQuery),
    responses((status = 200, description = "Tasks, newest first; a `Link: <…>; rel=\"next\"` header when more follow", body = Vec<TaskView>),
        (status = 400, description = "Bad filter, limit or cursor", body = ErrorBody)))]
pub async fn list_without_slash(
    state: State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<(HeaderMap, Json<Vec<TaskView>>), AppError> {
    list(state, ApiQuery(query)).await
}

/// `POST /api/tasks/cancel?status=…&task_type=…&queue=…`: cancels the selected tasks
/// that are waiting or running, a chunk at a time.
#[utoipa::path(post, path = "/api/tasks/cancel", tag = "tasks", params(BulkQuery),
    responses((status = 200, description = "Cancels the selected PENDING, SCHEDULED or RUNNING tasks; `next` is set when more follow", body = BulkResult),
        (status = 400, description = "No filter, or a bad filter, limit or cursor", body = ErrorBody)))]
pub async fn bulk_cancel(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<BulkResult>, AppError> {
    bulk(state, actor, query, BulkAction::Cancel).await
}

/// `POST /api/tasks/retry?status=FAILED&…`: retries every selected FAILED or CANCELLED task.
#[utoipa::path(post, path = "/api/tasks/retry", tag = "tasks", params(BulkQuery),
    responses((status = 200, description = "Retries the selected FAILED or CANCELLED tasks; `next` is set when more follow", body = BulkResult),
        (status = 400, description = "No filter, or a bad filter, limit or cursor", body = ErrorBody)))]
pub async fn bulk_retry(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<BulkResult>, AppError> {
    bulk(state, actor, query, BulkAction::Retry).await
}

/// `POST /api/tasks/delete?status=SUCCESS&…`: deletes every selected finished task.
#[utoipa::path(post, path = "/api/tasks/delete", tag = "tasks", params(BulkQuery),
    responses((status = 200, description = "Deletes the selected SUCCESS, FAILED or CANCELLED tasks; `next` is set when more follow", body = BulkResult),
        (status = 400, description = "No filter, or a bad filter, limit or cursor", body = ErrorBody)))]
pub async fn bulk_delete(
    State(state): State<AppState>,
    actor: Actor,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<BulkResult>, AppError> {
    bulk(state, actor, query, BulkAction::Delete).await
}

/// Acts on a chunk of the tasks `query` selects; the audit entry names the filter.
async fn bulk(
    state: AppState,
    actor: Actor,
    query: ListQuery,
    action: BulkAction,
) -> Result<Json<BulkResult>, AppError> {
    let limit = super::page_limit(query.limit.as_deref(), MAX_BULK, MAX_BULK)?;
    let filter = query.task_filter()?;
    let done = state
        .queue
        .bulk_matching(&filter, action, query.cursor.as_deref(), limit, &actor)
        .await?;
    Ok(Json(done))
}

/// `GET /api/tasks/count?status=FAILED&action=retry`: how many tasks a filter selects,
/// for the confirmation a bulk action asks first.
#[utoipa::path(get, path = "/api/tasks/count", tag = "tasks", params(CountQuery),
    responses((status = 200, description = "How many tasks match (for the action, if named), counted up to 1,000,000", body = BulkCount),
        (status = 400, description = "Bad filter or action", body = ErrorBody)))]
pub async fn count(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CountQuery>,
) -> Result<Json<BulkCount>, AppError> {
    let filter = TaskFilter::parse(
        query.status.as_deref(),
        query.task_type.as_deref(),
        query.queue.as_deref(),
        query.q.as_deref(),
    )
    .map_err(AppError::bad_request)?;
    let action = query
        .action
        .as_deref()
        .filter(|action| !action.is_empty())
        .map(BulkAction::parse)
        .transpose()
        .map_err(AppError::bad_request)?;
    Ok(Json(state.queue.count_matching(&filter, action).await?))
}

/// The next page's link: the same filters, the same limit, the new cursor.
fn next_link(filter: &TaskFilter, limit: u64, cursor: &str) -> String {
    let query = filter.query_string(&[("limit", limit.to_string()), ("cursor", cursor.into())]);
    format!("</api/tasks/?{query}>; rel=\"next\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_link_keeps_filters_and_encodes_them() {
        let query = ListQuery {
            status: Some("failed".into()),
            q: Some("a&b c".into()),
            ..Default::default()
        };
        assert_eq!(
            next_link(&query.task_filter().unwrap(), 10, "5_abc"),
            "</api/tasks/?status=FAILED&q=a%26b%20c&limit=10&cursor=5_abc>; rel=\"next\""
        );
    }
}
