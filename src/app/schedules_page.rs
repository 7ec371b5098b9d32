//! Schedules: each with its timing in words, its next run times in the viewer's zone,
//! its latest runs and their outcomes; pause, resume, run now, edit and delete; and the
//! form to make or edit one (see `schedule_form`).

use super::live::use_live;
use super::local_time::LocalTime;
use super::schedule_form::ScheduleForm;
use super::task_table::StatusBadge;
use super::LoadError;
use crate::api::{delete_schedule, run_schedule_now, schedules, set_schedule_enabled};
use crate::error::AppError;
use crate::model::{ScheduleDefinition, ScheduleSource, ScheduleView};
use leptos::prelude::*;

/// What the form edits: nothing (closed), a new schedule, or a stored one.
#[derive(Clone, Debug, PartialEq)]
enum Editing {
    Closed,
    New,
    Stored(Box<ScheduleDefinition>),
}

#[component]
pub fn SchedulesPage() -> impl IntoView {
    let live = use_live(|| (), |_| schedules());
    let editing = RwSignal::new(Editing::Closed);
    let saved = Callback::new(move |_: ()| {
        editing.set(Editing::Closed);
        live.refresh.run(());
    });
    let edit = Callback::new(move |definition: ScheduleDefinition| {
        editing.set(Editing::Stored(Box::new(definition)));
    });
    // Made here, not in the table the refreshes redraw, so an action outlives a redraw
    // and its error stays shown.
    let act = Action::new(move |(name, act): &(String, Act)| {
        let (name, act) = (name.clone(), act.clone());
        async move {
            match act {
                Act::Enable(enabled) => set_schedule_enabled(name, enabled).await.map(|_| ()),
                Act::RunNow => run_schedule_now(name).await.map(|_| ()),
                Act::Delete => delete_schedule(name).await,
            }
        }
    });
    Effect::new(move |_| {
        if act.value().get().is_some() {
            live.refresh.run(());
        }
    });
    let failure = move || {
        act.value()
            .get()
            .and_then(Result::err)
            .map(|err: AppError| err.message)
    };
    view! {
        <section class="panel" aria-labelledby="schedules-heading">
            <div class="detail-head">
                <h1 id="schedules-heading">"Schedules"</h1>
                <button data-testid="new-schedule" on:click=move |_| editing.set(Editing::New)>
                    "New schedule"
                </button>
            </div>
            {move || match editing.get() {
                Editing::Closed => ().into_any(),
                Editing::New => view! { <ScheduleForm initial=None saved cancel=Callback::new(move |_| editing.set(Editing::Closed))/> }.into_any(),
                Editing::Stored(definition) => view! { <ScheduleForm initial=Some(*definition) saved cancel=Callback::new(move |_| editing.set(Editing::Closed))/> }.into_any(),
            }}
            <p class="alert" role="alert" data-testid="schedule-action-error" hidden=move || failure().is_none()>
                {failure}
            </p>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    live.data
                        .get()
                        .map(|answer| match answer {
                            Ok(schedules) => view! { <ScheduleTable schedules act edit/> }.into_any(),
                            Err(error) => view! { <LoadError error/> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

/// An action on one schedule, by name.
#[derive(Clone, Debug)]
enum Act {
    Enable(bool),
    RunNow,
    Delete,
}

#[component]
fn ScheduleTable(
    schedules: Vec<ScheduleView>,
    act: Action<(String, Act), Result<(), AppError>>,
    edit: Callback<ScheduleDefinition>,
) -> impl IntoView {
    if schedules.is_empty() {
        return view! { <p class="empty" data-testid="no-schedules">"No schedules yet."</p> }
            .into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="grid" data-testid="schedule-table">
                <thead>
                    <tr>
                        <th scope="col">"Schedule"</th>
                        <th scope="col">"Task"</th>
                        <th scope="col">"When"</th>
                        <th scope="col">"Next runs (your time)"</th>
                        <th scope="col">"Last runs"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {schedules.into_iter().map(|schedule| view! { <ScheduleRow schedule act edit/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn ScheduleRow(
    schedule: ScheduleView,
    act: Action<(String, Act), Result<(), AppError>>,
    edit: Callback<ScheduleDefinition>,
) -> impl IntoView {
    let definition = schedule.definition.clone();
    let name = definition.name.clone();
    let enabled = definition.enabled;
    let from_file = schedule.source == ScheduleSource::File;
    let on = move |what: Act| {
        let name = name.clone();
        move |_| {
            act.dispatch((name.clone(), what.clone()));
        }
    };
    let next = if schedule.next.is_empty() {
        view! { <span class="empty">{if enabled { "none" } else { "paused" }}</span> }.into_any()
    } else {
        view! {
            <ol class="json-list" data-testid="schedule-next">
                {schedule.next.iter().map(|at| view! { <li><LocalTime at=*at/></li> }).collect_view()}
            </ol>
        }
        .into_any()
    };
    let runs = schedule
        .last_runs
        .iter()
        .map(|run| {
            let status = run
                .status
                .map(|status| view! { <StatusBadge status/> }.into_any())
                .unwrap_or_else(|| view! { <span class="empty">"pruned"</span> }.into_any());
            view! {
                <li data-testid="schedule-run" data-manual=run.manual.to_string()>
                    <a href=format!("/tasks/{}", run.task_id)><LocalTime at=run.slot/></a>
                    " " {status}
                    {run.manual.then_some(" (run by hand)")}
                </li>
            }
        })
        .collect_view();
    view! {
        <tr data-testid="schedule-row" data-schedule=definition.name.clone() data-enabled=enabled.to_string()>
            <td>
                <strong>{definition.name.clone()}</strong>
                {from_file.then(|| view! { <span class="help" title="Declared in the --schedules file">" (file)"</span> })}
                <br/>
                <span class="help">{if enabled { "▶ active" } else { "❚❚ paused" }}</span>
            </td>
            <td>
                {definition.task.task_type.clone()}
                <br/>
                <span class="help">{definition.task.queue.clone().unwrap_or_else(|| "default queue".into())}</span>
            </td>
            <td data-testid="schedule-description">{schedule.description.clone()}</td>
            <td>{next}</td>
            <td><ul class="json-list">{runs}</ul></td>
            <td class="actions-cell">
                <button data-testid="schedule-toggle" on:click=on(Act::Enable(!enabled))>
                    {if enabled { "Pause" } else { "Resume" }}
                </button>
                <button data-testid="schedule-run-now" on:click=on(Act::RunNow)>"Run now"</button>
                {(!from_file).then(|| {
                    let definition = definition.clone();
                    view! {
                        <button data-testid="schedule-edit" on:click=move |_| edit.run(definition.clone())>"Edit"</button>
                        <button data-testid="schedule-delete" on:click=on(Act::Delete)>"Delete"</button>
                    }
                })}
            </td>
        </tr>
    }
}
