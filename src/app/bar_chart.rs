//! Charts drawn as SVG by the dashboard itself: stacked bars of finished and failed tasks
//! per slot of time, and lines of latency percentiles. Coordinates are integers in a fixed
//! view box the browser scales, so no float is formatted in the WebAssembly; each chart
//! has a text summary for screen readers, and each slot a tooltip.

use leptos::prelude::*;

const WIDTH: i64 = 600;
const HEIGHT: i64 = 120;

/// One slot's bar: what went well and what did not.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bar {
    /// The tooltip.
    pub label: String,
    pub ok: i64,
    pub bad: i64,
}

/// Bars of successes, with failures stacked on them.
#[component]
pub fn BarChart(
    bars: Vec<Bar>,
    /// What the chart shows, in a sentence (read out in place of the picture).
    summary: String,
    #[prop(into)] testid: String,
    #[prop(into)] ok_legend: String,
    #[prop(into)] bad_legend: String,
) -> impl IntoView {
    let peak = bars
        .iter()
        .map(|bar| bar.ok + bar.bad)
        .max()
        .unwrap_or(0)
        .max(1);
    let count = bars.len().max(1) as i64;
    let bars = bars
        .into_iter()
        .zip(0..)
        .map(|(bar, i)| {
            let x = i * WIDTH / count + 1;
            let width = ((i + 1) * WIDTH / count - i * WIDTH / count - 2).max(1);
            let ok_height = bar.ok * HEIGHT / peak;
            let bad_height = bar.bad * HEIGHT / peak;
            view! {
                <g>
                    <title>{bar.label}</title>
                    <rect class="bar-ok" x=x y=HEIGHT - ok_height width=width height=ok_height></rect>
                    <rect class="bar-bad" x=x y=HEIGHT - ok_height - bad_height width=width height=bad_height></rect>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid=testid.clone()>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby=format!("{testid}-summary") preserveAspectRatio="none">
                {bars}
            </svg>
            <figcaption>
                <span class="legend legend-ok">"■ "{ok_legend}</span>
                <span class="legend legend-bad">"■ "{bad_legend}</span>
                <span class="summary" id=format!("{testid}-summary")>{summary}</span>
            </figcaption>
        </figure>
    }
}

/// Two series of milliseconds per slot, as lines; a slot without a value breaks its line.
#[component]
pub fn LineChart(
    first: Vec<Option<i64>>,
    second: Vec<Option<i64>>,
    summary: String,
    #[prop(into)] testid: String,
    #[prop(into)] first_legend: String,
    #[prop(into)] second_legend: String,
    /// The largest value, as text, for the scale's label.
    #[prop(into)]
    peak_label: String,
) -> impl IntoView {
    let peak = first
        .iter()
        .chain(&second)
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    let first_path = line_path(&first, peak);
    let second_path = line_path(&second, peak);
    view! {
        <figure class="chart" data-testid=testid.clone()>
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-labelledby=format!("{testid}-summary") preserveAspectRatio="none">
                <path class="line-first" d=first_path></path>
                <path class="line-second" d=second_path></path>
            </svg>
            <figcaption>
                <span class="legend legend-first">"— "{first_legend}</span>
                <span class="legend legend-second">"— "{second_legend}</span>
                <span class="summary" id=format!("{testid}-summary")>"Top of the scale: "{peak_label}". "{summary}</span>
            </figcaption>
        </figure>
    }
}

/// An SVG path through each slot's value, at the middle of its slot; a lone value is a
/// short dash so it shows.
fn line_path(values: &[Option<i64>], peak: i64) -> String {
    let count = values.len().max(1) as i64;
    let slot = WIDTH / count;
    let mut path = String::new();
    let mut drawing = false;
    for (value, i) in values.iter().zip(0..) {
        let Some(value) = value else {
            drawing = false;
            continue;
        };
        let x = i * WIDTH / count + slot / 2;
        let y = HEIGHT - (*value).clamp(0, peak) * (HEIGHT - 2) / peak - 1;
        let lone = !drawing && values.get(i as usize + 1).is_none_or(Option::is_none);
        if lone {
            path.push_str(&format!("M{} {y}H{}", x - slot / 3, x + slot / 3));
        } else if drawing {
            path.push_str(&format!("L{x} {y}"));
        } else {
            path.push_str(&format!("M{x} {y}"));
        }
        drawing = !lone;
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_break_at_slots_without_a_value_and_lone_values_are_dashes() {
        let values = [Some(0), Some(100), None, Some(50), None];
        assert_eq!(line_path(&values, 100), "M60 119L180 1M380 60H460");
        assert_eq!(line_path(&[], 1), "");
    }
}
