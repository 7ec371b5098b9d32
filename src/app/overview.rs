//! The overview: counts per status, queues, finished and failed tasks per minute over the
//! last hour, the submit form and the most recent tasks.

use super::bar_chart::{Bar, BarChart};
use super::live::use_live;
use super::submit_form::SubmitForm;
use super::task_table::{StatusBadge, TaskTable};
use super::LoadError;
use crate::api::load_overview;
use crate::model::{MinuteThroughput, Overview, QueueView, Stats, TaskStatus};
use leptos::prelude::*;

#[component]
pub fn OverviewPage() -> impl IntoView {
    let live = use_live(|| (), |_| load_overview());
    let on_submitted = Callback::new(move |_| live.refresh.run(()));
    view! {
        <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
            {move || {
                live.data
                    .get()
                    .map(|answer| match answer {
                        Ok(overview) => view! { <OverviewBody overview/> }.into_any(),
                        Err(error) => view! { <LoadError error/> }.into_any(),
                    })
            }}
        </Transition>
        <section class="panel" aria-labelledby="submit-heading">
            <h2 id="submit-heading">"Submit a task"</h2>
            <SubmitForm on_submitted/>
        </section>
    }
}

#[component]
fn OverviewBody(overview: Overview) -> impl IntoView {
    let Overview {
        stats,
        queues,
        recent,
    } = overview;
    let (bars, summary) = throughput_bars(&stats.throughput);
    view! {
        <section class="panel" aria-labelledby="counts-heading">
            <h2 id="counts-heading">"Tasks by status"</h2>
            <StatusCounts stats/>
        </section>
        <div class="columns">
            <section class="panel" aria-labelledby="chart-heading">
                <h2 id="chart-heading">"Finished per minute, last hour " <a class="more" href="/charts">"charts →"</a></h2>
                <BarChart bars summary testid="throughput-chart" ok_legend="succeeded" bad_legend="failed or cancelled"/>
            </section>
            <section class="panel" aria-labelledby="queues-heading">
                <h2 id="queues-heading">"Queues"</h2>
                <QueueSummary queues/>
            </section>
        </div>
        <section class="panel" aria-labelledby="recent-heading">
            <h2 id="recent-heading">"Recent tasks " <a class="more" href="/tasks">"all tasks →"</a></h2>
            <TaskTable tasks=recent/>
        </section>
    }
}

/// One card per status, each a link to the list of those tasks.
#[component]
fn StatusCounts(stats: Stats) -> impl IntoView {
    view! {
        <ul class="counts">
            {TaskStatus::ALL
                .into_iter()
                .map(|status| {
                    let count = stats.by_status.get(status.as_str()).copied().unwrap_or(0);
                    view! {
                        <li>
                            <a
                                class="count-card"
                                href=format!("/tasks?status={status}")
                                data-testid=format!("count-{status}")
                            >
                                <span class="count-number">{count}</span>
                                <StatusBadge status/>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

#[component]
fn QueueSummary(queues: Vec<QueueView>) -> impl IntoView {
    if queues.is_empty() {
        return view! { <p class="empty">"No queues yet."</p> }.into_any();
    }
    view! {
        <div class="table-scroll">
        <table class="grid">
            <thead>
                <tr>
                    <th scope="col">"Queue"</th>
                    <th scope="col">"Pending"</th>
                    <th scope="col">"Running"</th>
                    <th scope="col">"State"</th>
                </tr>
            </thead>
            <tbody>
                {queues
                    .into_iter()
                    .map(|queue| {
                        view! {
                            <tr>
                                <td>
                                    <a href=format!("/tasks?queue={}", queue.name)>{queue.name.clone()}</a>
                                </td>
                                <td class="num">{queue.pending}</td>
                                <td class="num">{queue.running}</td>
                                <td>{if queue.paused { "❚❚ paused" } else { "▶ active" }}</td>
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

/// The last hour's minutes as bars, with a sentence that sums them up.
fn throughput_bars(minutes: &[MinuteThroughput]) -> (Vec<Bar>, String) {
    use chrono::Timelike;
    let succeeded: i64 = minutes.iter().map(|m| m.succeeded).sum();
    let failed: i64 = minutes.iter().map(|m| m.failed + m.cancelled).sum();
    let bars = minutes
        .iter()
        .map(|minute| Bar {
            label: format!(
                "{:02}:{:02} UTC: {} succeeded, {} failed, {} cancelled",
                minute.minute.hour(),
                minute.minute.minute(),
                minute.succeeded,
                minute.failed,
                minute.cancelled
            ),
            ok: minute.succeeded,
            bad: minute.failed + minute.cancelled,
        })
        .collect();
    let summary = format!("In the last hour: {succeeded} succeeded, {failed} failed or cancelled.");
    (bars, summary)
}
