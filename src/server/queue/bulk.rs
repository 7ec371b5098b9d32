//! Bulk actions: cancel, retry or delete every task a filter selects, a chunk per
//! request, or the tasks chosen one by one on the dashboard; and the count a
//! confirmation states first. A filter selects only the statuses its action applies to,
//! so the count is what the action would change, and each chunk goes on from the
//! cursor where the last one stopped rather than over the same tasks again.

use super::actions::Actor;
use super::paging::{encode_cursor, list_filter};
use super::{Queue, QueueError};
use crate::model::{BulkAction, BulkCount, BulkResult, TaskFilter};
use crate::server::store::{AuditNote, ListFilter};
use serde_json::json;
use uuid::Uuid;

/// Most tasks one request acts on.
pub const MAX_BULK: u64 = 10_000;
/// Most tasks a count reads; beyond it the count says "more".
pub const COUNT_CAP: u64 = 1_000_000;

fn audited_as(action: BulkAction) -> &'static str {
    match action {
        BulkAction::Cancel => "bulk_cancel",
        BulkAction::Retry => "bulk_retry",
        BulkAction::Delete => "bulk_delete",
    }
}

/// What the store is asked for when `action` acts on what `filter` selects: the filter
/// narrowed to the statuses the action applies to, or `None` when its status is not one
/// of them (nothing to select).
fn selection(
    filter: &TaskFilter,
    action: Option<BulkAction>,
    cursor: Option<&str>,
    limit: u64,
) -> Result<Option<ListFilter>, QueueError> {
    let mut list = list_filter(filter, cursor, limit)?;
    if let Some(action) = action {
        let applies = action.statuses();
        list.statuses = match filter.status {
            Some(status) if applies.contains(&status) => vec![status],
            Some(_) => return Ok(None),
            None => applies.to_vec(),
        };
    }
    Ok(Some(list))
}

impl Queue {
    /// How many tasks `filter` selects for `action` (any task, without one), counted up
    /// to [`COUNT_CAP`], and the cursor to start acting from so that tasks made since
    /// are left alone.
    pub async fn count_matching(
        &self,
        filter: &TaskFilter,
        action: Option<BulkAction>,
    ) -> Result<BulkCount, QueueError> {
        let cursor = Some(encode_cursor(self.now_micros(), Uuid::max()));
        let Some(mut list) = selection(filter, action, None, 0)? else {
            return Ok(BulkCount {
                cursor,
                ..BulkCount::default()
            });
        };
        list.secret_parameters_of = self.registry.kinds_with_secrets();
        let (count, more) = self.store.count(&list, COUNT_CAP).await?;
        Ok(BulkCount {
            count,
            more,
            cursor,
        })
    }

    /// Acts on up to `limit` (at most [`MAX_BULK`]) of the tasks `filter` selects for
    /// `action`, newest first, after `cursor` if given; the result's `next` is where to
    /// go on from when more may follow. A filter is required, so a bare request cannot
    /// touch every task by accident. One audit entry names the filter.
    pub async fn bulk_matching(
        &self,
        filter: &TaskFilter,
        action: BulkAction,
        cursor: Option<&str>,
        limit: u64,
        by: &Actor,
    ) -> Result<BulkResult, QueueError> {
        if filter.is_empty() {
            return Err(QueueError::BadRequest(
                "name at least one of status, task_type, queue or q to select the tasks".into(),
            ));
        }
        if !(1..=MAX_BULK).contains(&limit) {
            return Err(QueueError::BadRequest(format!(
                "limit must be between 1 and {MAX_BULK}"
            )));
        }
        let Some(mut list) = selection(filter, Some(action), cursor, limit)? else {
            return Ok(BulkResult::default());
        };
        list.secret_parameters_of = self.registry.kinds_with_secrets();
        let tasks = self.store.list_ids(&list).await?;
        let next = tasks
            .last()
            .filter(|_| tasks.len() as u64 == limit)
            .map(|(id, created_at)| encode_cursor(*created_at, *id));
        let ids: Vec<Uuid> = tasks.iter().map(|(id, _)| *id).collect();
        let filter = filter.query_string(&[]);
        let mut result = self.act_on(ids, action, Some(filter), *by).await?;
        result.next = next;
        Ok(result)
    }

    /// Acts on each of the tasks chosen one by one; the audit entry lists them.
    pub async fn bulk(
        &self,
        ids: &[Uuid],
        action: BulkAction,
        by: &Actor,
    ) -> Result<BulkResult, QueueError> {
        self.act_on(ids.to_vec(), action, None, *by).await
    }

    /// Acts on each task, one transaction each; tasks the action does not apply to (in
    /// another state by now, gone) are counted as skipped, any other failure stops the
    /// run. The one audit entry, written once the tasks are done, names the `filter`
    /// that selected them (a query string), or else the tasks. The run is a task of its
    /// own, so a client that goes away mid-run cannot stop it before its entry is written.
    async fn act_on(
        &self,
        ids: Vec<Uuid>,
        action: BulkAction,
        filter: Option<String>,
        by: Actor,
    ) -> Result<BulkResult, QueueError> {
        let queue = self.clone();
        let run = tokio::spawn(async move { queue.act_on_all(&ids, action, filter, &by).await });
        run.await.map_err(|err| {
            // A panic in the store: the client sees a store failure, the log says why.
            tracing::error!(error = %err, "a bulk action's run ended abnormally");
            QueueError::Store(
                sea_orm::DbErr::Custom("a bulk action's run ended abnormally".into()).into(),
            )
        })?
    }

    async fn act_on_all(
        &self,
        ids: &[Uuid],
        action: BulkAction,
        filter: Option<String>,
        by: &Actor,
    ) -> Result<BulkResult, QueueError> {
        let mut result = BulkResult::default();
        let mut failure = None;
        for &id in ids {
            let done = match action {
                BulkAction::Cancel => self.cancel_noted(id, None).await,
                BulkAction::Retry => self.retry_noted(id, None, None).await.map(|_| ()),
                BulkAction::Delete => self.delete_noted(id, None).await,
            };
            match done {
                Ok(()) => result.changed += 1,
                Err(err) if err.does_not_apply() => result.skipped += 1,
                Err(err) => {
                    failure = Some(err);
                    break;
                }
            }
        }
        // What was done is recorded even when the run stopped part way.
        if result.changed > 0 {
            let note = AuditNote {
                details: filter.is_none().then(|| json!({ "tasks": ids })),
                filter,
                changed: result.changed as i64,
                ..self.note(audited_as(action), by)
            };
            self.store.record_audit(note).await?;
        }
        match failure {
            Some(err) => Err(err),
            None => Ok(result),
        }
    }
}
