//! `GET /api/tasks/{id}/events`: Server-Sent Events following one task. An event named
//! `task` carries the task's JSON whenever its status or progress changes; an event named
//! `log` carries each line of its log (those already written first), always before the
//! `task` event read at the same moment. The stream ends after the event that shows the
//! task final (its last lines come before it), or when the server shuts down.

use super::task_id;
use crate::error::AppError;
use crate::model::TaskView;
use crate::server::queue::Queue;
use crate::server::store::LOG_PAGE_MAX;
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Serialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

/// How often the store is looked at for changes.
const POLL: Duration = Duration::from_millis(250);

/// Where the stream is: what it sent last and what it has still to send.
struct Follow {
    queue: Queue,
    /// The task as last sent.
    task: TaskView,
    /// The number of the last log line sent.
    log_seq: i64,
    /// Events read but not sent yet.
    ready: VecDeque<Event>,
    /// Whether the task's final event is among `ready` (or sent).
    finished: bool,
}

#[utoipa::path(get, path = "/api/tasks/{id}/events", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    responses((status = 200, description = "Server-Sent Events: `task`, with the task's JSON, at each change of status or progress, and `log`, with each log line, until the task is final or the server shuts down", content_type = "text/event-stream", body = super::openapi::TaskEvent),
        (status = 400, description = "Malformed id", body = super::openapi::ErrorBody),
        (status = 404, description = "No such task", body = super::openapi::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let task = state.queue.get(task_id(&id)?).await?;
    let mut follow = Follow {
        queue: state.queue.clone(),
        log_seq: 0,
        ready: VecDeque::new(),
        finished: task.status.is_final(),
        task: task.clone(),
    };
    // Lines first, then the task as read before them.
    follow.read_log(task.log_lines).await;
    follow.ready.push_back(event("task", &task));
    let events = stream::unfold(follow, |mut follow| async move {
        loop {
            if let Some(event) = follow.ready.pop_front() {
                return Some((Ok(event), follow));
            }
            if follow.finished {
                return None;
            }
            tokio::time::sleep(POLL).await;
            let current = match follow.queue.get(follow.task.id).await {
                Ok(task) => task,
                // Pruned or unreadable: nothing more to follow.
                Err(_) => return None,
            };
            follow.read_log(current.log_lines).await;
            let previous = &follow.task;
            let changed = (current.status, current.progress, &current.progress_message)
                != (
                    previous.status,
                    previous.progress,
                    &previous.progress_message,
                );
            if changed {
                follow.ready.push_back(event("task", &current));
                follow.finished = current.status.is_final();
                follow.task = current;
            }
        }
    });
    let events = events.take_until(state.stopping.clone().cancelled_owned());
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

impl Follow {
    /// Queues the log lines numbered after the last one sent, up to `total` (the task's
    /// count as just read): a line's write commits before the task shows it counted.
    async fn read_log(&mut self, total: i64) {
        while self.log_seq < total {
            let page = match self
                .queue
                .task_log(self.task.id, self.log_seq, LOG_PAGE_MAX)
                .await
            {
                Ok(page) => page,
                Err(_) => return,
            };
            for line in &page.lines {
                self.ready.push_back(event("log", line));
            }
            // Lines dropped since the count was read leave nothing more to read.
            self.log_seq = if page.more {
                page.next_after
            } else {
                total.max(page.next_after)
            };
        }
    }
}

fn event(name: &str, data: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event("error").data("unencodable data"))
}
