//! Queues: what each holds, how many workers this process and every live process give
//! it, whether it is paused, and pause / resume.

use super::live::use_live;
use super::LoadError;
use crate::api::{queues, set_queue_paused};
use crate::model::QueueView;
use leptos::prelude::*;

#[component]
pub fn QueuesPage() -> impl IntoView {
    let live = use_live(|| (), |_| queues());
    view! {
        <section class="panel" aria-labelledby="queues-heading">
            <h1 id="queues-heading">"Queues"</h1>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    live.data
                        .get()
                        .map(|answer| match answer {
                            Ok(queues) => view! { <QueueTable queues refresh=live.refresh/> }.into_any(),
                            Err(error) => view! { <LoadError error/> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

#[component]
fn QueueTable(queues: Vec<QueueView>, refresh: Callback<()>) -> impl IntoView {
    if queues.is_empty() {
        return view! { <p class="empty">"No queues yet: submit a task."</p> }.into_any();
    }
    let toggle = Action::new(move |(name, paused): &(String, bool)| {
        let (name, paused) = (name.clone(), *paused);
        async move { set_queue_paused(name, paused).await }
    });
    Effect::new(move |_| {
        if toggle.value().get().is_some() {
            refresh.run(());
        }
    });
    view! {
        <div class="table-scroll">
            <table class="grid" data-testid="queue-table">
                <thead>
                    <tr>
                        <th scope="col">"Queue"</th>
                        <th scope="col">"Pending"</th>
                        <th scope="col">"Running"</th>
                        <th scope="col">"All tasks"</th>
                        <th scope="col">"Concurrency here"</th>
                        <th scope="col">"All processes"</th>
                        <th scope="col">"State"</th>
                        <th scope="col"><span class="visually-hidden">"Action"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {queues
                        .into_iter()
                        .map(|queue| {
                            let name = queue.name.clone();
                            let paused = queue.paused;
                            view! {
                                <tr data-testid="queue-row" data-queue=queue.name.clone() data-paused=paused.to_string()>
                                    <td><a href=format!("/tasks?queue={}", queue.name)>{queue.name.clone()}</a></td>
                                    <td class="num">{queue.pending}</td>
                                    <td class="num">{queue.running}</td>
                                    <td class="num">{queue.total}</td>
                                    <td class="num">{queue.concurrency.map(|c| c.to_string()).unwrap_or_else(|| "—".into())}</td>
                                    <td class="num" data-testid="total-concurrency">{queue.total_concurrency}</td>
                                    <td>{if paused { "❚❚ paused" } else { "▶ active" }}</td>
                                    <td>
                                        <button
                                            data-testid=format!("toggle-{}", queue.name)
                                            on:click=move |_| { toggle.dispatch((name.clone(), !paused)); }
                                        >
                                            {if paused { "Resume" } else { "Pause" }}
                                        </button>
                                    </td>
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
