//! What an operator can do to the task on its page, each asked first: cancel (while
//! unfinished), run now (while SCHEDULED), retry as it was or with edited parameters
//! (when FAILED or CANCELLED), and delete (once finished). Every one is recorded in the
//! audit log by the server.

use super::json_parameters::JsonParameters;
use crate::api::{cancel_task, delete_task, edit_and_retry, retry_task, run_task_now};
use crate::error::{AppError, FieldError};
use crate::model::{TaskStatus, TaskView};
use leptos::prelude::*;
use uuid::Uuid;

/// An action waiting for its confirmation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Act {
    Cancel,
    Retry,
    RunNow,
    Delete,
    EditRetry,
}

impl Act {
    fn question(self) -> &'static str {
        match self {
            Act::Cancel => "Really cancel this task?",
            Act::Retry => "Really retry this task?",
            Act::RunNow => "Run this task now instead of at its time?",
            Act::Delete => "Really delete this task, its attempts and its log?",
            Act::EditRetry => "Retry this task with these parameters?",
        }
    }
}

/// What the operator is doing on a task's page: kept by the page, not by the task's view,
/// so the refresh every two seconds (which draws the view anew) neither closes a question
/// or the editor nor loses an answer still on its way.
#[derive(Clone, Copy)]
pub struct ActionPanel {
    confirming: RwSignal<Option<Act>>,
    outcome: RwSignal<Option<String>>,
    editing: RwSignal<bool>,
    text: RwSignal<String>,
    problems: RwSignal<Vec<FieldError>>,
    act: Action<(Uuid, Act), Result<Act, AppError>>,
}

impl ActionPanel {
    /// Made once by the task's page; `refresh` reloads the task after an action.
    pub fn new(refresh: Callback<()>) -> ActionPanel {
        let text = RwSignal::new(String::new());
        let act = Action::new(move |(id, act): &(Uuid, Act)| {
            let (id, act) = (*id, *act);
            let parameters = text.get_untracked();
            async move { run(id, act, parameters).await }
        });
        let panel = ActionPanel {
            confirming: RwSignal::new(None),
            outcome: RwSignal::new(None),
            editing: RwSignal::new(false),
            text,
            problems: RwSignal::new(Vec::new()),
            act,
        };
        let navigate = leptos_router::hooks::use_navigate();
        Effect::new(move |_| {
            let Some(answer) = act.value().get() else {
                return;
            };
            panel.confirming.set(None);
            match answer {
                // Nothing left to show or reload: back to the list.
                Ok(Act::Delete) => return navigate("/tasks", Default::default()),
                Ok(_) => {
                    panel.editing.set(false);
                    panel.outcome.set(None);
                    panel.problems.set(Vec::new());
                }
                Err(err) => {
                    panel.problems.set(err.details.clone());
                    panel.outcome.set(Some(err.message));
                }
            }
            refresh.run(());
        });
        panel
    }
}

#[component]
pub fn TaskActions(task: TaskView, panel: ActionPanel) -> impl IntoView {
    let ActionPanel {
        confirming,
        outcome,
        editing,
        text,
        problems,
        act,
    } = panel;
    let id = task.id;
    let status = task.status;
    let can_cancel = !status.is_final();
    let can_retry = matches!(status, TaskStatus::Failed | TaskStatus::Cancelled);
    let can_run_now = status == TaskStatus::Scheduled;
    let can_delete = status.is_final();
    let parameters = serde_json::to_string_pretty(&task.parameters).unwrap_or_default();
    let ask = move |act: Act| move |_| confirming.set(Some(act));
    let toggle_editor = move |_| {
        if !editing.get_untracked() {
            text.set(parameters.clone());
            problems.set(Vec::new());
        }
        editing.update(|open| *open = !*open);
    };
    view! {
        <div class="actions" role="group" aria-label="Task actions">
            <Show when=move || confirming.get().is_none()>
                {can_run_now.then(|| view! {
                    <button class="primary" data-testid="run-now-button" on:click=ask(Act::RunNow)>"Run now"</button>
                })}
                {can_cancel.then(|| view! {
                    <button class="danger" data-testid="cancel-button" on:click=ask(Act::Cancel)>"Cancel task"</button>
                })}
                {can_retry.then(|| view! {
                    <button class="primary" data-testid="retry-button" on:click=ask(Act::Retry)>"Retry task"</button>
                    <button data-testid="edit-retry-button" on:click=toggle_editor.clone()>"Edit and retry…"</button>
                })}
                {can_delete.then(|| view! {
                    <button class="danger" data-testid="delete-button" on:click=ask(Act::Delete)>"Delete"</button>
                })}
            </Show>
            <Show when=move || confirming.get().is_some()>
                <span role="alertdialog" aria-label="Confirm">
                    {move || confirming.get().map(Act::question).unwrap_or_default()}
                    " "
                    <button
                        class="primary"
                        data-testid="confirm-button"
                        disabled=move || act.pending().get()
                        on:click=move |_| {
                            if let Some(chosen) = confirming.get_untracked() {
                                act.dispatch((id, chosen));
                            }
                        }
                    >
                        "Yes"
                    </button>
                    <button data-testid="dismiss-button" on:click=move |_| confirming.set(None)>"No"</button>
                </span>
            </Show>
            <span class="field-error" role="alert" data-testid="action-error">{move || outcome.get().unwrap_or_default()}</span>
        </div>
        <Show when=move || editing.get() && can_retry>
            <form class="edit-retry" data-testid="edit-retry-form" on:submit=move |ev| {
                ev.prevent_default();
                confirming.set(Some(Act::EditRetry));
            }>
                <JsonParameters text errors=problems.into()/>
                <button type="submit" class="primary" data-testid="edit-retry-submit">"Retry with these parameters"</button>
            </form>
        </Show>
    }
}

async fn run(id: Uuid, act: Act, parameters: String) -> Result<Act, AppError> {
    match act {
        Act::Cancel => cancel_task(id).await.map(|_| act),
        Act::Retry => retry_task(id).await.map(|_| act),
        Act::RunNow => run_task_now(id).await.map(|_| act),
        Act::Delete => delete_task(id).await.map(|_| act),
        Act::EditRetry => {
            let parameters = serde_json::from_str(&parameters).map_err(|err| {
                AppError::validation(vec![FieldError::new(
                    "parameters",
                    format!("not JSON: {err}"),
                )])
            })?;
            edit_and_retry(id, parameters).await.map(|_| act)
        }
    }
}
