//! `GET /api/tasks/{id}/events`: Server-Sent Events following one task. An event named
//! `task` carries the task's JSON whenever its status or progress changes; the stream
//! ends after the event that shows it final, or when the server shuts down.

use super::task_id;
use crate::error::AppError;
use crate::model::TaskView;
use crate::server::AppState;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;

/// How often the store is looked at for changes.
const POLL: Duration = Duration::from_millis(250);

/// Where the stream is: the last task it sent, or done.
enum Cursor {
    Start(TaskView),
    Following(TaskView),
    Done,
}

#[utoipa::path(get, path = "/api/tasks/{id}/events", tag = "tasks",
    params(("id" = uuid::Uuid, Path, description = "Task id")),
    responses((status = 200, description = "Server-Sent Events named `task`, each with the task's JSON, until it is final or the server shuts down", content_type = "text/event-stream", body = super::openapi::TaskEvent),
        (status = 400, description = "Malformed id", body = super::openapi::ErrorBody),
        (status = 404, description = "No such task", body = super::openapi::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let first = state.queue.get(task_id(&id)?).await?;
    let queue = state.queue.clone();
    let events = stream::unfold(Cursor::Start(first), move |cursor| {
        let queue = queue.clone();
        async move {
            let previous = match cursor {
                Cursor::Done => return None,
                Cursor::Start(task) => return Some((event(&task), next(task))),
                Cursor::Following(task) => task,
            };
            loop {
                tokio::time::sleep(POLL).await;
                let current = match queue.get(previous.id).await {
                    Ok(task) => task,
                    // Pruned or unreadable: nothing more to follow.
                    Err(_) => return None,
                };
                let changed = (current.status, current.progress, &current.progress_message)
                    != (
                        previous.status,
                        previous.progress,
                        &previous.progress_message,
                    );
                if changed {
                    return Some((event(&current), next(current)));
                }
            }
        }
    });
    let events = events.take_until(state.stopping.clone().cancelled_owned());
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

fn next(task: TaskView) -> Cursor {
    if task.status.is_final() {
        Cursor::Done
    } else {
        Cursor::Following(task)
    }
}

fn event(task: &TaskView) -> Result<Event, Infallible> {
    Ok(Event::default()
        .event("task")
        .json_data(task)
        .unwrap_or_else(|_| Event::default().event("error").data("unencodable task")))
}
