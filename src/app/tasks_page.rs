//! The task list: status tabs, type, queue and text filters, keyset paging, and bulk
//! cancel, retry or delete of the selected rows or of everything the filter matches. All of the view's state is in its URL, so a view can
//! be shared and survives a reload; tabs, filters and paging work without JavaScript.

use super::bulk_matching::MatchingActions;
use super::live::use_live;
use super::task_table::TaskTable;
use super::LoadError;
use crate::api::{act_on_selected, list_tasks, queues, task_kinds};
use crate::model::{BulkAction, TaskFilter, TaskQuery, TaskStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use std::collections::BTreeSet;
use uuid::Uuid;

#[component]
pub fn TasksPage() -> impl IntoView {
    let query_map = use_query_map();
    let query = move || {
        query_map.with(|map| {
            let text = |key: &str| map.get(key).filter(|value| !value.is_empty());
            // Read leniently, for a hand-edited URL: an unknown status shows every
            // status, and a search too long reaches the server, which says so.
            let filter = TaskFilter {
                status: text("status").and_then(|s| s.parse().ok()),
                task_type: text("task_type"),
                queue: text("queue"),
                q: text("q"),
            };
            TaskQuery {
                filter,
                cursor: text("cursor"),
            }
        })
    };
    let live = use_live(query, list_tasks);
    // Paging changes the URL but not the filter: a question about it stays open.
    let filter = Memo::new(move |_| query().filter);
    let selected: RwSignal<BTreeSet<Uuid>> = RwSignal::new(BTreeSet::new());
    let bulk = Action::new(move |action: &BulkAction| {
        let action = *action;
        let ids: Vec<Uuid> = selected.get_untracked().into_iter().collect();
        async move { act_on_selected(ids, action).await }
    });
    Effect::new(move |_| {
        if bulk.value().get().is_some() {
            selected.set(BTreeSet::new());
            live.refresh.run(());
        }
    });

    view! {
        <section class="panel" aria-labelledby="list-heading">
            <h1 id="list-heading">"Tasks"</h1>
            <StatusTabs current=Signal::derive(move || query().filter.status) query=Signal::derive(query)/>
            <Filters query=Signal::derive(query)/>
            <div class="bulk" role="group" aria-label="Bulk actions">
                <button
                    data-testid="bulk-cancel"
                    disabled=move || selected.with(|s| s.is_empty())
                    on:click=move |_| { bulk.dispatch(BulkAction::Cancel); }
                >
                    "Cancel selected"
                </button>
                <button
                    data-testid="bulk-retry"
                    disabled=move || selected.with(|s| s.is_empty())
                    on:click=move |_| { bulk.dispatch(BulkAction::Retry); }
                >
                    "Retry selected"
                </button>
                <button
                    data-testid="bulk-delete"
                    disabled=move || selected.with(|s| s.is_empty())
                    on:click=move |_| { bulk.dispatch(BulkAction::Delete); }
                >
                    "Delete selected"
                </button>
                <span class="form-status" role="status">
                    {move || match bulk.value().get() {
                        Some(Ok(done)) => format!("{} changed, {} skipped", done.changed, done.skipped),
                        Some(Err(err)) => err.message,
                        None => String::new(),
                    }}
                </span>
            </div>
            <MatchingActions filter=Signal::from(filter) done=live.refresh/>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    live.data
                        .get()
                        .map(|answer| match answer {
                            Ok(page) => {
                                let next = page.next.clone().map(|cursor| {
                                    let href = href(&TaskQuery { cursor: Some(cursor), ..query() });
                                    view! { <a class="page-link" href=href data-testid="next-page" data-shortcut="next-page">"Next page →"</a> }
                                });
                                let first = query().cursor.is_some().then(|| {
                                    let href = href(&TaskQuery { cursor: None, ..query() });
                                    view! { <a class="page-link" href=href data-shortcut="first-page">"← First page"</a> }
                                });
                                view! {
                                    <TaskTable tasks=page.tasks selected/>
                                    <nav class="paging" aria-label="Pages">{first}{next}</nav>
                                }
                                    .into_any()
                            }
                            Err(error) => view! { <LoadError error/> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

/// `/tasks?…` for a query.
fn href(query: &TaskQuery) -> String {
    let cursor: Vec<(&str, String)> = query
        .cursor
        .iter()
        .map(|cursor| ("cursor", cursor.clone()))
        .collect();
    match query.filter.query_string(&cursor) {
        text if text.is_empty() => "/tasks".into(),
        text => format!("/tasks?{text}"),
    }
}

#[component]
fn StatusTabs(current: Signal<Option<TaskStatus>>, query: Signal<TaskQuery>) -> impl IntoView {
    let tab = move |status: Option<TaskStatus>| {
        let label = status
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "ALL".into());
        let target = move || {
            let filter = TaskFilter {
                status,
                ..query.get().filter
            };
            href(&TaskQuery {
                filter,
                cursor: None,
            })
        };
        view! {
            <a
                href=target
                data-testid=format!("tab-{label}")
                aria-current=move || (current.get() == status).then_some("page")
                class="tab"
            >
                {label.clone()}
            </a>
        }
    };
    view! {
        <nav class="tabs" aria-label="Status">
            {tab(None)}
            {TaskStatus::ALL.into_iter().map(|s| tab(Some(s))).collect_view()}
        </nav>
    }
}

/// The kinds and queues the server knows, offered as the type and queue filters' choices
/// (any other text can still be typed: a queue may have no tasks left).
#[component]
fn FilterChoices() -> impl IntoView {
    let choices = Resource::new(
        || (),
        |_| async move {
            let kinds = task_kinds().await.unwrap_or_default();
            let queues = queues().await.unwrap_or_default();
            (
                kinds.into_iter().map(|kind| kind.name).collect::<Vec<_>>(),
                queues
                    .into_iter()
                    .map(|queue| queue.name)
                    .collect::<Vec<_>>(),
            )
        },
    );
    let options = |names: Vec<String>| {
        names
            .into_iter()
            .map(|name| view! { <option value=name.clone()></option> })
            .collect_view()
    };
    view! {
        <Suspense fallback=|| ()>
            {move || {
                choices
                    .get()
                    .map(|(kinds, queues)| {
                        view! {
                            <datalist id="kind-choices" data-testid="kind-choices">{options(kinds)}</datalist>
                            <datalist id="queue-choices" data-testid="queue-choices">{options(queues)}</datalist>
                        }
                    })
            }}
        </Suspense>
    }
}

/// A plain GET form: filtering works with or without JavaScript, and lands in the URL.
#[component]
fn Filters(query: Signal<TaskQuery>) -> impl IntoView {
    let value = move |pick: fn(&TaskFilter) -> Option<String>| {
        move || query.with(|query| pick(&query.filter)).unwrap_or_default()
    };
    view! {
        <form class="filters" method="get" action="/tasks" role="search" data-testid="filters">
            {move || query.get().filter.status.map(|status| view! { <input type="hidden" name="status" value=status.as_str()/> })}
            <div class="field">
                <label for="filter-q">"Search"</label>
                <input id="filter-q" name="q" type="search" data-testid="filter-q" data-shortcut="search" prop:value=value(|q| q.q.clone()) placeholder="parameters, results, errors"/>
            </div>
            <div class="field">
                <label for="filter-type">"Type"</label>
                <input id="filter-type" name="task_type" list="kind-choices" autocomplete="off" data-testid="filter-type" prop:value=value(|q| q.task_type.clone())/>
            </div>
            <div class="field">
                <label for="filter-queue">"Queue"</label>
                <input id="filter-queue" name="queue" list="queue-choices" autocomplete="off" data-testid="filter-queue" prop:value=value(|q| q.queue.clone())/>
            </div>
            <FilterChoices/>
            <div class="actions">
                <button type="submit" class="primary" data-testid="filter-apply">"Filter"</button>
                <a href="/tasks">"Clear"</a>
            </div>
        </form>
    }
}
