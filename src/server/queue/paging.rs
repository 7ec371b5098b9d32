//! Keyset paging of task lists: the opaque cursor (where a page ended) and the typed
//! query the dashboard sends.

use super::{Queue, QueueError};
use crate::model::{TaskPage, TaskQuery};
use crate::server::store::ListFilter;
use uuid::Uuid;

/// Tasks per page of the dashboard's list.
pub const PAGE_SIZE: u64 = 50;
/// Longest search text.
pub const MAX_SEARCH: usize = 200;

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

/// Checks a search text's length.
pub fn check_search(q: &str) -> Result<(), QueueError> {
    if q.chars().count() > MAX_SEARCH {
        return Err(QueueError::BadRequest(format!(
            "q is longer than {MAX_SEARCH} characters"
        )));
    }
    Ok(())
}

impl Queue {
    /// One page of tasks, newest first, and the cursor of the next page if any.
    pub async fn page(&self, query: &TaskQuery) -> Result<TaskPage, QueueError> {
        let nonempty = |text: &Option<String>| text.clone().filter(|t| !t.is_empty());
        let search = nonempty(&query.q);
        if let Some(q) = &search {
            check_search(q)?;
        }
        let filter = ListFilter {
            status: query.status,
            task_type: nonempty(&query.task_type),
            queue: nonempty(&query.queue),
            search,
            before: nonempty(&query.cursor)
                .map(|c| decode_cursor(&c))
                .transpose()?,
            limit: PAGE_SIZE,
        };
        let rows = self.store().list(&filter).await?;
        let next = (rows.len() as u64 == PAGE_SIZE)
            .then(|| {
                rows.last()
                    .map(|last| encode_cursor(last.created_at, last.id))
            })
            .flatten();
        Ok(TaskPage {
            tasks: rows.into_iter().map(|row| row.into_view()).collect(),
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
