//! The processes running Spool: every `spool serve` and `spool worker` with its host,
//! pid, version, queues and tasks running now; live ones first, then those stopped or
//! lost within the last day. A task's attempts link here by process id.

use super::live::use_live;
use super::local_time::LocalTime;
use super::LoadError;
use crate::api::processes;
use crate::model::{ProcessState, ProcessView};
use leptos::prelude::*;

#[component]
pub fn ProcessesPage() -> impl IntoView {
    let live = use_live(|| (), |_| processes());
    view! {
        <section class="panel" aria-labelledby="processes-heading">
            <h1 id="processes-heading">"Processes"</h1>
            <p class="hint">"Every server and worker process: live ones, and those stopped or lost in the last day. A process is lost when its heartbeat (every 5 s) is 30 s old without a stop: killed, or cut off from the database."</p>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    live.data
                        .get()
                        .map(|answer| match answer {
                            Ok(list) => view! { <ProcessTable list/> }.into_any(),
                            Err(error) => view! { <LoadError error/> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn ProcessTable(list: Vec<ProcessView>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="empty">"No process has registered."</p> }.into_any();
    }
    let mut list = list;
    // Live first; within each state, newest first (as the server sends them).
    list.sort_by_key(|process| process.state != ProcessState::Live);
    view! {
        <div class="table-scroll">
            <table class="grid" data-testid="process-table">
                <thead>
                    <tr>
                        <th scope="col">"Process"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"State"</th>
                        <th scope="col">"Host"</th>
                        <th scope="col">"PID"</th>
                        <th scope="col">"Version"</th>
                        <th scope="col">"Queues (workers)"</th>
                        <th scope="col">"Running"</th>
                        <th scope="col">"Started"</th>
                        <th scope="col">"Last heard"</th>
                    </tr>
                </thead>
                <tbody>
                    {list
                        .into_iter()
                        .map(|process| {
                            let queues = if process.queues.is_empty() {
                                "— (no workers)".to_string()
                            } else {
                                process
                                    .queues
                                    .iter()
                                    .map(|queue| format!("{} ({})", queue.name, queue.concurrency))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            };
                            let state = process.state.as_str();
                            view! {
                                <tr id=process.id.clone() data-testid="process-row" data-process-id=process.id.clone() data-state=state>
                                    <td class="mono">{process.id.clone()}</td>
                                    <td>{process.role.as_str()}</td>
                                    <td><span class=format!("badge process-{state}")>{state}</span></td>
                                    <td>{process.host.clone()}</td>
                                    <td class="num">{process.pid}</td>
                                    <td>{process.version.clone()}</td>
                                    <td>{queues}</td>
                                    <td class="num" data-testid="process-running">{process.running}</td>
                                    <td><LocalTime at=process.started_at/></td>
                                    <td><LocalTime at=process.stopped_at.unwrap_or(process.heartbeat_at)/></td>
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
