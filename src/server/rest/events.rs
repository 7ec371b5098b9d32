//! `GET /api/tasks/{id}/events`: Server-Sent Events following one task. An event named
//! `task` carries the task's JSON whenever its status or progress changes; an event named
//! `log` carries each line of its log (those already written first), always before the
//! `task` event read at the same moment. The stream ends after the event that shows the
//! task final (its last lines come before it), or when the server shuts down.

use super::task_id;
use crate::error::AppError;
use crate::model::TaskView;
use crate::server::queue::{Queue, QueueError};
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

/// Log lines read per page: a connection holds at most this many unsent.
const LINES_PER_READ: u64 = 100;

/// Where the stream is: what it sent last and what it has still to send.
struct Follow {
    queue: Queue,
    /// The task as last read.
    task: TaskView,
    /// The task's event still to send, once every line it counts has gone before it.
    unsent: Option<TaskView>,
    /// The number of the last log line sent (or dropped before it could be).
    log_seq: i64,
    /// How many lines the task counted when last read.
    log_target: i64,
    /// Events read but not sent yet.
    ready: VecDeque<Event>,
    /// Whether the task's final event has been queued.
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
    let follow = Follow {
        queue: state.queue.clone(),
        log_seq: 0,
        log_target: task.log_lines,
        ready: VecDeque::new(),
        finished: false,
        unsent: Some(task.clone()),
        task,
    };
    let events = stream::unfold(follow, |mut follow| async move {
        loop {
            if let Some(event) = follow.ready.pop_front() {
                return Some((Ok(event), follow));
            }
            if follow.log_seq < follow.log_target {
                // A page that cannot be read ends the stream rather than skip its lines.
                follow.read_log().await.ok()?;
                continue;
            }
            if let Some(task) = follow.unsent.take() {
                follow.finished = task.status.is_final();
                follow.ready.push_back(event("task", &task));
                continue;
            }
            if follow.finished {
                return None;
            }
            tokio::time::sleep(POLL).await;
            // Pruned or unreadable: nothing more to follow.
            let current = follow.queue.get(follow.task.id).await.ok()?;
            follow.log_target = current.log_lines;
            let previous = &follow.task;
            let changed = (current.status, current.progress, &current.progress_message)
                != (
                    previous.status,
                    previous.progress,
                    &previous.progress_message,
                );
            if changed {
                follow.unsent = Some(current.clone());
            }
            follow.task = current;
        }
    });
    let events = events.take_until(state.stopping.clone().cancelled_owned());
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

impl Follow {
    /// Queues the next page of log lines after the last one sent. Lines up to the count
    /// last read are there to read (a line's count commits with it), or were dropped.
    async fn read_log(&mut self) -> Result<(), QueueError> {
        let page = self
            .queue
            .task_log(self.task.id, self.log_seq, LINES_PER_READ)
            .await?;
        for line in &page.lines {
            self.ready.push_back(event("log", line));
        }
        self.log_seq = if page.more {
            page.next_after
        } else {
            self.log_target.max(page.next_after)
        };
        Ok(())
    }
}

fn event(name: &str, data: &impl Serialize) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().event("error").data("unencodable data"))
}
