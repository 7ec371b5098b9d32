//! The audit log: every action operators took on tasks, newest first, with when, how
//! they proved their access and from where; and the same list for one task, on its page.

use super::live::use_live;
use super::local_time::LocalTime;
use super::LoadError;
use crate::api::{audit_log, AUDIT_PAGE};
use crate::model::AuditEntry;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use uuid::Uuid;

#[component]
pub fn AuditPage() -> impl IntoView {
    let query_map = use_query_map();
    // A hand-edited `before` that is not a number shows the newest page.
    let before =
        move || query_map.with(|map| map.get("before").and_then(|b| b.parse::<i64>().ok()));
    let live = use_live(before, |before| audit_log(None, before));
    view! {
        <section class="panel" aria-labelledby="audit-heading">
            <h1 id="audit-heading">"Audit log"</h1>
            <p class="hint">"Every cancel, retry, run now, edit and delete, single or in bulk, newest first."</p>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    live.data
                        .get()
                        .map(|answer| match answer {
                            Ok(entries) => {
                                let older = entries
                                    .last()
                                    .filter(|_| entries.len() as u64 == AUDIT_PAGE)
                                    .map(|last| view! {
                                        <a class="page-link" href=format!("/audit?before={}", last.id) data-testid="audit-older" data-shortcut="next-page">"Older entries →"</a>
                                    });
                                let newest = before().is_some().then(|| view! {
                                    <a class="page-link" href="/audit" data-shortcut="first-page">"← Newest entries"</a>
                                });
                                view! {
                                    <AuditTable entries show_task=true/>
                                    <nav class="paging" aria-label="Pages">{newest}{older}</nav>
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

/// One task's entries, on its page.
#[component]
pub fn TaskHistory(id: Uuid) -> impl IntoView {
    let live = use_live(move || id, |id| audit_log(Some(id), None));
    view! {
        <section class="panel" aria-labelledby="history-heading">
            <h2 id="history-heading">"Actions taken"</h2>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    live.data
                        .get()
                        .map(|answer| match answer {
                            Ok(entries) => view! { <AuditTable entries show_task=false/> }.into_any(),
                            Err(error) => view! { <LoadError error/> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn AuditTable(entries: Vec<AuditEntry>, show_task: bool) -> impl IntoView {
    if entries.is_empty() {
        return view! { <p class="empty" data-testid="audit-empty">"No actions yet."</p> }
            .into_any();
    }
    view! {
        <div class="table-scroll">
            <table class="grid" data-testid="audit-table">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Action"</th>
                        {show_task.then(|| view! { <th scope="col">"On"</th> })}
                        <th scope="col">"Changed"</th>
                        <th scope="col">"Access"</th>
                        <th scope="col">"From"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries
                        .into_iter()
                        .map(|entry| {
                            let on = match (entry.task_id, entry.filter.clone()) {
                                (Some(id), _) => {
                                    let short = crate::model::short_id(&id);
                                    view! { <a class="mono" href=format!("/tasks/{id}")>{short}</a> }.into_any()
                                }
                                (None, Some(filter)) => view! { <span class="mono">{filter}</span> }.into_any(),
                                (None, None) => view! { <span>"—"</span> }.into_any(),
                            };
                            let details = entry.details.as_ref().map(details_text).unwrap_or_default();
                            view! {
                                <tr data-testid="audit-entry" data-action=entry.action.clone() data-task-id=entry.task_id.map(|id| id.to_string())>
                                    <td><LocalTime at=entry.at/></td>
                                    <td>{entry.action.replace('_', " ")}</td>
                                    {show_task.then(|| view! { <td>{on}</td> })}
                                    <td>{entry.changed}</td>
                                    <td>{entry.access.clone()}</td>
                                    <td class="mono">{entry.address.clone().unwrap_or_else(|| "—".into())}</td>
                                    <td class="mono audit-details">{details}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// An edit's parameters as `old → new`; anything else as its JSON.
fn details_text(details: &serde_json::Value) -> String {
    match (details.get("old"), details.get("new")) {
        (Some(old), Some(new)) => format!("{old} → {new}"),
        _ => details.to_string(),
    }
}
