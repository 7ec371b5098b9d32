//! The dashboard page: the submit form above the live list of recent tasks.

use super::live::refresh_every;
use super::submit_form::SubmitForm;
use super::task_table::TaskTable;
use crate::api::list_tasks;
use crate::error::AppError;
use crate::model::TaskView;
use leptos::prelude::*;

type TaskList = Result<Vec<TaskView>, AppError>;

#[component]
pub fn Dashboard() -> impl IntoView {
    // Rendered on the server and handed to the browser with the page...
    let initial = Resource::new(|| (), |_| list_tasks());
    // ...then replaced by each refresh.
    let live: RwSignal<Option<TaskList>> = RwSignal::new(None);
    refresh_every(live, list_tasks);

    let on_submitted = Callback::new(move |_task: TaskView| {
        leptos::task::spawn_local(async move {
            let _ = live.try_set(Some(list_tasks().await));
        });
    });
    let tasks = move || live.get().or_else(|| initial.get());

    view! {
        <section class="panel" aria-labelledby="submit-heading">
            <h2 id="submit-heading">"Submit a task"</h2>
            <SubmitForm on_submitted/>
        </section>
        <section class="panel" aria-labelledby="tasks-heading">
            <h2 id="tasks-heading">"Recent tasks"</h2>
            <Transition fallback=|| view! { <p class="empty">"Loading tasks…"</p> }>
                {move || {
                    tasks()
                        .map(|result| match result {
                            Ok(list) => view! { <TaskTable tasks=list/> }.into_any(),
                            Err(err) => {
                                view! {
                                    <p class="alert" role="alert" data-testid="list-error">
                                        {err.message}
                                    </p>
                                }
                                    .into_any()
                            }
                        })
                }}
            </Transition>
        </section>
    }
}
