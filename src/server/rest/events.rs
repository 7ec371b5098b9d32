//! `GET /api/tasks/{id}/events`: Server-Sent Events following one task. An event named
//! `task` carries the task's JSON whenever its status or progress changes; an event named
//! `log` carries each line of its log (those already written first), always before the
//! `task` event read at the same moment. The stream ends after the event that shows the
//! task final (its last lines come before it), or when the server shuts down: at once
//! for a task this process is not running, after its final event (or its return to the
//! queue) for one it drains.
//!
//! Every event's id is the number of the last log line sent before or with it, so a
//! client that reconnects with `Last-Event-ID` gets the lines after that one, then the
//! task as it is. No stream reads its task: the process's one hub reads a followed task
//! again only when the database reports that it changed, once for all its streams (see
//! `Queue::follow`); each stream reads only the log lines it sends. Streams are bounded
//! per client and in all (see [`crate::server::stream_limit`]).

use super::task_id;
use crate::error::AppError;
use crate::model::TaskView;
use crate::server::queue::{Queue, QueueError};
use crate::server::rate_limit::Client;
use crate::server::stream_limit::StreamPermit;
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use serde::Serialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// Log lines read per page: a connection holds at most this many unsent.
const LINES_PER_READ: u64 = 100;

/// Where the stream is: what it sent last and what it has still to send.
struct Follow {
    queue: Queue,
    feed: watch::Receiver<Arc<TaskView>>,
    /// The task as last seen.
    task: Arc<TaskView>,
    /// The task's event still to send, once every line it counts has gone before it.
    unsent: Option<Arc<TaskView>>,
    /// The number of the last log line sent (or dropped before it could be).
    log_seq: i64,
    /// How many lines the task counted when last seen.
    log_target: i64,
    /// Events read but not sent yet.
    ready: VecDeque<Event>,
    /// Whether the task's final event has been queued.
    finished: bool,
    /// Cancelled when the server starts shutting down.
    stopping: CancellationToken,
    /// Whether the shutdown has been noticed.
    stopping_seen: bool,
    /// Whether the task was seen running in this process during the shutdown.
    drains_here: bool,
    /// This stream's place under the limits, given back when it ends.
    _permit: StreamPermit,
}

#[utoipa::path(get, path = "/api/tasks/{id}/events", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id"),
        ("Last-Event-ID" = Option<i64>, Header, description = "The id of the last event received: the stream resumes with the log lines after it")),
    responses((status = 200, description = "Server-Sent Events: `task`, with the task's JSON, at each change of status or progress, and `log`, with each log line, until the task is final or the server shuts down; each event's id is the number of the last log line sent", content_type = "text/event-stream", body = super::openapi::TaskEvent),
        (status = 400, description = "Malformed id or Last-Event-ID", body = super::openapi::ErrorBody),
        (status = 404, description = "No such task", body = super::openapi::ErrorBody),
        (status = 429, description = "Too many open streams, from this client or in all; retry after Retry-After seconds", body = super::openapi::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Client(client): Client,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let id = task_id(&id)?;
    let resume_after = last_event_id(&headers)?;
    let permit = state.streams.open(client)?;
    let mut feed = state.queue.follow(id).await?;
    let task = feed.borrow_and_update().clone();
    let follow = Follow {
        queue: state.queue.clone(),
        feed,
        log_seq: resume_after.min(task.log_lines),
        log_target: task.log_lines,
        ready: VecDeque::new(),
        finished: false,
        unsent: Some(task.clone()),
        task,
        stopping: state.stopping.clone(),
        stopping_seen: false,
        drains_here: false,
        _permit: permit,
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
                let event = event("task", &*task).id(follow.log_seq.to_string());
                follow.ready.push_back(event);
                continue;
            }
            if follow.finished {
                return None;
            }
            // During a shutdown only a task this process is draining may still change:
            // one it runs. Once seen running here the stream waits for the feed to show
            // it final or back in the queue, though the attempt may end (and stop
            // running here) a moment before the feed shows how.
            if follow.stopping_seen {
                let running = follow.task.status.as_str() == "RUNNING";
                follow.drains_here |= running && follow.queue.runs_here(follow.task.id);
                if !(running && follow.drains_here) {
                    return None;
                }
            }
            tokio::select! {
                // The feed closed: the task is gone, or its changes cannot be followed
                // (the client reconnects and reads it afresh).
                changed = follow.feed.changed() => changed.ok()?,
                _ = follow.stopping.cancelled(), if !follow.stopping_seen => {
                    follow.stopping_seen = true;
                    continue;
                }
            }
            let current = follow.feed.borrow_and_update().clone();
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
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The `Last-Event-ID` a reconnecting client sends: 0 when there is none.
fn last_event_id(headers: &HeaderMap) -> Result<i64, AppError> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(0);
    };
    value
        .to_str()
        .ok()
        .and_then(|text| text.trim().parse::<i64>().ok())
        .filter(|seq| *seq >= 0)
        .ok_or_else(|| {
            AppError::bad_request("Last-Event-ID must be the id of an event this stream sent")
        })
}

impl Follow {
    /// Queues the next page of log lines after the last one sent. Lines up to the count
    /// last seen are there to read (a line's count commits with it), or were dropped.
    async fn read_log(&mut self) -> Result<(), QueueError> {
        let page = self
            .queue
            .task_log(self.task.id, self.log_seq, LINES_PER_READ)
            .await?;
        for line in &page.lines {
            self.ready
                .push_back(event("log", line).id(line.seq.to_string()));
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
