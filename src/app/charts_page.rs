//! Charts of finished work: tasks finished and failed per slot, and wait and run time
//! percentiles, over the last hour or the last day, for everything or one queue or kind;
//! then each queue (with its longest-waiting task) and each kind over the window. All of
//! it comes from aggregates the server keeps as tasks finish.

use super::bar_chart::{Bar, BarChart, LineChart};
use super::live::use_live;
use super::task_table::human_duration;
use super::LoadError;
use crate::api::load_charts;
use crate::model::{query_value, ChartGroup, ChartSlot, ChartWindow, Charts, Finished};
use chrono::Timelike;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// What the page's query string asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Choice {
    window: ChartWindow,
    queue: Option<String>,
    task_type: Option<String>,
}

impl Choice {
    /// The page's address with `change` applied.
    fn href(&self, change: impl FnOnce(&mut Choice)) -> String {
        let mut choice = self.clone();
        change(&mut choice);
        let mut pairs = vec![format!("window={}", choice.window.as_str())];
        if let Some(queue) = &choice.queue {
            pairs.push(format!("queue={}", query_value(queue)));
        }
        if let Some(task_type) = &choice.task_type {
            pairs.push(format!("type={}", query_value(task_type)));
        }
        format!("/charts?{}", pairs.join("&"))
    }
}

#[component]
pub fn ChartsPage() -> impl IntoView {
    let query = use_query_map();
    let choice = Memo::new(move |_| {
        query.with(|map| Choice {
            window: map
                .get("window")
                .and_then(|text| text.parse().ok())
                .unwrap_or_default(),
            queue: map.get("queue").filter(|name| !name.is_empty()),
            task_type: map.get("type").filter(|name| !name.is_empty()),
        })
    });
    let live = use_live(
        move || choice.get(),
        |choice| load_charts(choice.window, choice.queue, choice.task_type),
    );
    view! {
        <section class="panel" aria-labelledby="charts-heading">
            <h1 id="charts-heading">"Charts"</h1>
            <ChoiceBar choice/>
            <Transition fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    live.data
                        .get()
                        .map(|answer| match answer {
                            Ok(charts) => view! { <ChartsBody charts choice=choice.get_untracked()/> }.into_any(),
                            Err(error) => view! { <LoadError error/> }.into_any(),
                        })
                }}
            </Transition>
        </section>
    }
}

/// The window's two choices and the queue or kind charted, each a link.
#[component]
fn ChoiceBar(choice: Memo<Choice>) -> impl IntoView {
    let window_link = move |window: ChartWindow, text: &'static str| {
        let href = move || choice.get().href(|c| c.window = window);
        let current = move || (choice.get().window == window).then_some("page");
        view! { <a class="tab" href=href aria-current=current>{text}</a> }
    };
    let limits = move || {
        let choice = choice.get();
        let mut limits = Vec::new();
        if let Some(queue) = &choice.queue {
            let clear = choice.href(|c| c.queue = None);
            limits.push(view! { <span class="pill">"queue " <b>{queue.clone()}</b> " " <a href=clear aria-label="every queue">"×"</a></span> });
        }
        if let Some(task_type) = &choice.task_type {
            let clear = choice.href(|c| c.task_type = None);
            limits.push(view! { <span class="pill">"type " <b>{task_type.clone()}</b> " " <a href=clear aria-label="every type">"×"</a></span> });
        }
        limits
    };
    view! {
        <div class="tabs">
            <nav aria-label="Window">
                {window_link(ChartWindow::Hour, "Last hour")}
                {window_link(ChartWindow::Day, "Last day")}
            </nav>
            <span class="limits" data-testid="chart-limits">{limits}</span>
        </div>
    }
}

#[component]
fn ChartsBody(charts: Charts, choice: Choice) -> impl IntoView {
    let per = match charts.window {
        ChartWindow::Hour => "minute",
        ChartWindow::Day => "hour",
    };
    let window_words = match charts.window {
        ChartWindow::Hour => "the last hour",
        ChartWindow::Day => "the last day",
    };
    let total = &charts.total;
    let bars = charts
        .slots
        .iter()
        .map(|slot| slot_bar(slot, charts.window))
        .collect();
    let bar_summary = format!(
        "In {window_words}: {} succeeded, {} failed, {} cancelled.",
        total.succeeded, total.failed, total.cancelled
    );
    let run_p95: Vec<_> = charts
        .slots
        .iter()
        .map(|slot| slot.finished.run.p95_ms)
        .collect();
    let wait_p95: Vec<_> = charts
        .slots
        .iter()
        .map(|slot| slot.finished.wait.p95_ms)
        .collect();
    let peak = run_p95
        .iter()
        .chain(&wait_p95)
        .flatten()
        .copied()
        .max()
        .unwrap_or(0);
    let latency_summary = format!(
        "Over {window_words}: wait p50 {}, p95 {}; run p50 {}, p95 {}.",
        latency(total.wait.p50_ms),
        latency(total.wait.p95_ms),
        latency(total.run.p50_ms),
        latency(total.run.p95_ms)
    );
    view! {
        <div class="columns">
            <section aria-labelledby="finished-heading">
                <h2 id="finished-heading">{format!("Finished per {per}")}</h2>
                <BarChart bars summary=bar_summary testid="finished-chart" ok_legend="succeeded" bad_legend="failed or cancelled"/>
            </section>
            <section aria-labelledby="latency-heading">
                <h2 id="latency-heading">{format!("95th percentile latency per {per}")}</h2>
                <LineChart
                    first=run_p95
                    second=wait_p95
                    summary=latency_summary
                    testid="latency-chart"
                    first_legend="run time"
                    second_legend="wait time (due to started)"
                    peak_label=human_duration(peak)
                />
            </section>
        </div>
        <h2>"By queue"</h2>
        <GroupTable groups=charts.queues choice=choice.clone() by_queue=true/>
        <h2>"By kind"</h2>
        <GroupTable groups=charts.kinds choice by_queue=false/>
    }
}

fn slot_bar(slot: &ChartSlot, window: ChartWindow) -> Bar {
    let at = match window {
        ChartWindow::Hour => format!("{:02}:{:02} UTC", slot.at.hour(), slot.at.minute()),
        ChartWindow::Day => format!("{:02}:00 UTC", slot.at.hour()),
    };
    let finished = &slot.finished;
    Bar {
        label: format!(
            "{at}: {} succeeded, {} failed, {} cancelled; run p95 {}, wait p95 {}",
            finished.succeeded,
            finished.failed,
            finished.cancelled,
            latency(finished.run.p95_ms),
            latency(finished.wait.p95_ms)
        ),
        ok: finished.succeeded,
        bad: finished.failed + finished.cancelled,
    }
}

fn latency(ms: Option<i64>) -> String {
    ms.map(human_duration).unwrap_or_else(|| "—".into())
}

/// Queues or kinds over the window, each name a link that charts it alone.
#[component]
fn GroupTable(groups: Vec<ChartGroup>, choice: Choice, by_queue: bool) -> impl IntoView {
    if groups.is_empty() {
        return view! { <p class="empty">"Nothing finished in this window."</p> }.into_any();
    }
    let testid = if by_queue {
        "chart-queues"
    } else {
        "chart-kinds"
    };
    let rows = groups
        .into_iter()
        .map(|group| {
            let name = group.name.clone();
            let href = choice.href(|c| {
                if by_queue {
                    c.queue = Some(name.clone())
                } else {
                    c.task_type = Some(name.clone())
                }
            });
            let Finished { succeeded, failed, cancelled, wait, run } = group.finished;
            let row_name = group.name.clone();
            let oldest = by_queue.then(|| view! { <td class="num" data-testid="oldest-pending">{latency(group.oldest_pending_ms)}</td> });
            view! {
                <tr data-testid="chart-group" data-name=row_name>
                    <th scope="row"><a href=href>{group.name}</a></th>
                    <td class="num">{succeeded}</td>
                    <td class="num">{failed}</td>
                    <td class="num">{cancelled}</td>
                    <td class="num">{latency(wait.p50_ms)}</td>
                    <td class="num">{latency(wait.p95_ms)}</td>
                    <td class="num">{latency(run.p50_ms)}</td>
                    <td class="num" data-testid="run-p95">{latency(run.p95_ms)}</td>
                    {oldest}
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="grid" data-testid=testid>
                <thead>
                    <tr>
                        <th scope="col">{if by_queue { "Queue" } else { "Kind" }}</th>
                        <th scope="col">"Succeeded"</th>
                        <th scope="col">"Failed"</th>
                        <th scope="col">"Cancelled"</th>
                        <th scope="col">"Wait p50"</th>
                        <th scope="col">"Wait p95"</th>
                        <th scope="col">"Run p50"</th>
                        <th scope="col">"Run p95"</th>
                        {by_queue.then(|| view! { <th scope="col">"Oldest pending"</th> })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
