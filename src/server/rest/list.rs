//! Many tasks at a time: the keyset-paged list (`GET /api/tasks/`) and bulk cancel and
//! retry of every task a filter selects.

use super::openapi::ErrorBody;
use crate::error::AppError;
use crate::model::{BulkResult, TaskFilter, TaskView};
use crate::server::queue::paging::{encode_cursor, list_filter};
use crate::server::queue::{Actor, Bulk};
use crate::server::store::ListFilter;
use crate::server::AppState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header::LINK;
use axum::http::{HeaderMap, HeaderValue};
use axum::Json;
use serde::Deserialize;
use uuid::Uuid;

/// Largest page a list returns.
pub const MAX_LIMIT: u64 = 1000;
/// Page size when the request names none.
pub const DEFAULT_LIMIT: u64 = 50;
/// Most tasks one bulk action touches.
const MAX_BULK: u64 = 10_000;

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

/// What a bulk action selects by: the list's filters without its paging (documentation
/// only; the handler reads a [`ListQuery`] and refuses paging with a clear message).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
struct BulkQuery {
    /// PENDING, SCHEDULED, RUNNING, SUCCESS, FAILED or CANCELLED (empty: any).
    status: Option<String>,
    task_type: Option<String>,
    queue: Option<String>,
    /// Text to find in parameters, results and errors.
    q: Option<String>,
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
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<(HeaderMap, Json<Vec<TaskView>>), AppError> {
    let Query(query) = query.map_err(|_| AppError::bad_request("the query string is malformed"))?;
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
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<(HeaderMap, Json<Vec<TaskView>>), AppError> {
    list(state, query).await
}

/// `POST /api/tasks/cancel?status=…&task_type=…&queue=…`: cancels every selected task.
#[utoipa::path(post, path = "/api/tasks/cancel", tag = "tasks", params(BulkQuery),
    responses((status = 200, description = "Cancels every selected task", body = BulkResult),
        (status = 400, description = "No filter, or a bad one", body = ErrorBody)))]
pub async fn bulk_cancel(
    State(state): State<AppState>,
    actor: Actor,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<BulkResult>, AppError> {
    bulk(state, actor, query, Bulk::Cancel).await
}

/// `POST /api/tasks/retry?status=FAILED&…`: retries every selected FAILED or CANCELLED task.
#[utoipa::path(post, path = "/api/tasks/retry", tag = "tasks", params(BulkQuery),
    responses((status = 200, description = "Retries every selected FAILED or CANCELLED task", body = BulkResult),
        (status = 400, description = "No filter, or a bad one", body = ErrorBody)))]
pub async fn bulk_retry(
    State(state): State<AppState>,
    actor: Actor,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<BulkResult>, AppError> {
    bulk(state, actor, query, Bulk::Retry).await
}

/// `POST /api/tasks/delete?status=SUCCESS&…`: deletes every selected finished task.
#[utoipa::path(post, path = "/api/tasks/delete", tag = "tasks", params(BulkQuery),
    responses((status = 200, description = "Deletes every selected SUCCESS, FAILED or CANCELLED task", body = BulkResult),
        (status = 400, description = "No filter, or a bad one", body = ErrorBody)))]
pub async fn bulk_delete(
    State(state): State<AppState>,
    actor: Actor,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<BulkResult>, AppError> {
    bulk(state, actor, query, Bulk::Delete).await
}

/// Acts on the tasks `query` selects, and records it in the audit log with the filter.
async fn bulk(
    state: AppState,
    actor: Actor,
    query: Result<Query<ListQuery>, QueryRejection>,
    action: Bulk,
) -> Result<Json<BulkResult>, AppError> {
    let (ids, filter) = selected(&state, query).await?;
    Ok(Json(
        state.queue.bulk(&ids, action, Some(filter), &actor).await?,
    ))
}

/// Ids of the tasks a bulk action's filter selects (at most [`MAX_BULK`]), and the
/// filter as a query string. A filter is required, so a bare request cannot touch every
/// task by accident.
async fn selected(
    state: &AppState,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<(Vec<Uuid>, String), AppError> {
    let Query(query) = query.map_err(|_| AppError::bad_request("the query string is malformed"))?;
    if query.cursor.is_some() || query.limit.is_some() {
        return Err(AppError::bad_request(
            "bulk actions take status, task_type, queue and q, not paging",
        ));
    }
    let (task_filter, mut filter) = query.filter(MAX_LIMIT)?;
    if task_filter.is_empty() {
        return Err(AppError::bad_request(
            "name at least one of status, task_type, queue or q to select the tasks",
        ));
    }
    let mut ids = Vec::new();
    while (ids.len() as u64) < MAX_BULK {
        let page = state.queue.list(&filter).await?;
        let Some(last) = page.last() else { break };
        filter.before = Some((last.created_at.timestamp_micros(), last.id));
        let full = page.len() as u64 == filter.limit;
        ids.extend(page.iter().map(|task| task.id));
        if !full {
            break;
        }
    }
    ids.truncate(MAX_BULK as usize);
    Ok((ids, task_filter.query_string(&[])))
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
