//! Finished and failed tasks per minute over the last hour, as an SVG bar chart with a
//! text summary for screen readers.

use crate::model::MinuteThroughput;
use leptos::prelude::*;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 120.0;

#[component]
pub fn ThroughputChart(minutes: Vec<MinuteThroughput>) -> impl IntoView {
    let succeeded: i64 = minutes.iter().map(|m| m.succeeded).sum();
    let failed: i64 = minutes.iter().map(|m| m.failed + m.cancelled).sum();
    let peak = minutes
        .iter()
        .map(|m| m.succeeded + m.failed + m.cancelled)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = WIDTH / minutes.len().max(1) as f64;
    let summary = format!("In the last hour: {succeeded} succeeded, {failed} failed or cancelled.");
    let bars = minutes
        .into_iter()
        .enumerate()
        .map(|(i, minute)| {
            let x = i as f64 * slot + 1.0;
            let ok_height = minute.succeeded as f64 / peak * HEIGHT;
            let bad_height = (minute.failed + minute.cancelled) as f64 / peak * HEIGHT;
            let label = format!(
                "{}: {} succeeded, {} failed, {} cancelled",
                minute.minute.format("%H:%M"),
                minute.succeeded,
                minute.failed,
                minute.cancelled
            );
            view! {
                <g>
                    <title>{label}</title>
                    <rect class="bar-ok" x=x y=HEIGHT - ok_height width=slot - 2.0 height=ok_height></rect>
                    <rect
                        class="bar-bad"
                        x=x
                        y=HEIGHT - ok_height - bad_height
                        width=slot - 2.0
                        height=bad_height
                    ></rect>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid="throughput-chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary.clone() preserveAspectRatio="none">
                {bars}
            </svg>
            <figcaption>
                <span class="legend legend-ok">"■ succeeded"</span>
                <span class="legend legend-bad">"■ failed or cancelled"</span>
                <span class="summary">{summary}</span>
            </figcaption>
        </figure>
    }
}
