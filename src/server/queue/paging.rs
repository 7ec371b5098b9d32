//! Keyset paging of task lists: the opaque cursor (where a page ended) and the typed
//! query the dashboard sends.

use super::{Queue, QueueError};
use crate::model::{TaskFilter, TaskPage, TaskQuery};
use crate::server::store::ListFilter;
use uuid::Uuid;

/// Tasks per page of the dashboard's list.
pub const PAGE_SIZE: u64 = 50;

/// The cursor after a task: its creation time and id, the list's sort key.
pub fn encode_cursor(created_at: i64, id: Uuid) -> String {
    format!("{created_at}_{}", id.simple())
}

/// A cursor this server gave out, or a 400.
pub fn decode_cursor(text: &str) -> Result<(i64, Uuid), QueueError> {
    let bad = || QueueError::BadRequest("cursor is not one this server gave out".into());
    let (micros, id) = text.split_once('_').ok_or_else(bad)?;
    Ok((
        micros.parse().map_err(|_| bad())?,
        Uuid::parse_str(id).map_err(|_| bad())?,
    ))
}

/// What the store is asked for: `filter`, from where `cursor` says the last page ended,
/// at most `limit` tasks. A search too long or a cursor this server did not give out is
/// refused.
pub fn list_filter(
    filter: &TaskFilter,
    cursor: Option<&str>,
    limit: u64,
) -> Result<ListFilter, QueueError> {
    filter.check().map_err(QueueError::BadRequest)?;
    Ok(ListFilter {
        statuses: filter.status.into_iter().collect(),
        task_type: filter.task_type.clone().filter(|t| !t.is_empty()),
        queue: filter.queue.clone().filter(|q| !q.is_empty()),
        search: filter.q.clone().filter(|q| !q.is_empty()),
        secret_parameters_of: Vec::new(),
        before: cursor
            .filter(|c| !c.is_empty())
            .map(decode_cursor)
            .transpose()?,
        limit,
    })
}

impl Queue {
    /// One page of tasks, newest first, and the cursor of the next page if any.
    pub async fn page(&self, query: &TaskQuery) -> Result<TaskPage, QueueError> {
        let filter = list_filter(&query.filter, query.cursor.as_deref(), PAGE_SIZE)?;
        let rows = self.rows(&filter).await?;
        let next = (rows.len() as u64 == PAGE_SIZE)
            .then(|| {
                rows.last()
                    .map(|last| encode_cursor(last.created_at.timestamp_micros(), last.id))
            })
            .flatten();
        Ok(TaskPage {
            tasks: rows.into_iter().map(|row| self.view(row)).collect(),
            next,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let id = Uuid::new_v4();
        assert_eq!(decode_cursor(&encode_cursor(42, id)).unwrap(), (42, id));
        for bad in ["", "42", "x_y", "42_not-a-uuid", &format!("{id}")] {
            assert!(decode_cursor(bad).is_err(), "{bad:?}");
        }
    }
}
