//! A task's log on its page: the lines read so far, with a marker where lines were
//! dropped, read on (through a server function) whenever the live task shows more lines
//! written, and kept scrolled to the newest line while "Follow" is on. Lines are read in
//! the browser only, so the server's page and the hydrated one start alike ("Reading…").

use super::local_time::ClockTime;
use crate::api::task_log;
use crate::model::{LogLine, LogPage};
use leptos::prelude::*;
use uuid::Uuid;

/// Most lines the page holds; older ones leave it as newer ones arrive.
const SHOWN: usize = 2000;

/// One entry of the list: a line, or how many lines were dropped before the next.
#[derive(Clone, Debug, PartialEq)]
enum Entry {
    Line(LogLine),
    Dropped { before: i64, count: i64 },
}

impl Entry {
    fn key(&self) -> (i64, bool) {
        match self {
            Entry::Line(line) => (line.seq, true),
            Entry::Dropped { before, .. } => (*before, false),
        }
    }
}

/// `written`: how many lines the task has written, as last read; the log reads on when it
/// grows.
#[component]
pub fn TaskLog(id: Uuid, written: Memo<i64>) -> impl IntoView {
    let entries = RwSignal::new(Vec::<Entry>::new());
    // The number of the last line read (or dropped).
    let read_to = RwSignal::new(0_i64);
    let reading = RwSignal::new(false);
    // Whether a first read has answered: until then the panel says it is reading.
    let loaded = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let follow = RwSignal::new(true);
    let list = NodeRef::<leptos::html::Ol>::new();
    Effect::new(move |_| {
        let behind = written.get() > read_to.get_untracked() || !loaded.get_untracked();
        if !behind || reading.get_untracked() {
            return;
        }
        reading.set(true);
        // The signals are read with `try_`: the page may be left while a read is out.
        leptos::task::spawn_local(async move {
            loop {
                let (Some(from), Some(target), Some(loaded_once)) = (
                    read_to.try_get_untracked(),
                    written.try_get_untracked(),
                    loaded.try_get_untracked(),
                ) else {
                    return;
                };
                // Caught up with what was written when the task was last read.
                if loaded_once && from >= target {
                    break;
                }
                let Ok(page) = task_log(id, from).await else {
                    let _ = failed.try_set(true);
                    break;
                };
                let _ = failed.try_set(false);
                let _ = loaded.try_set(true);
                // Past the last page, lines up to the count read before it are read or
                // dropped (a line's count commits with the line itself).
                let next = if page.more {
                    page.next_after
                } else {
                    page.next_after.max(target)
                };
                let _ = read_to.try_set(next);
                if entries
                    .try_update(|entries| append(entries, page))
                    .is_none()
                {
                    return;
                }
                if follow.try_get_untracked() == Some(true) {
                    request_animation_frame(move || {
                        if let Some(list) = list.try_get_untracked().flatten() {
                            list.set_scroll_top(list.scroll_height());
                        }
                    });
                }
            }
            let _ = reading.try_set(false);
        });
    });
    view! {
        <section class="panel" aria-labelledby="log-heading">
            <div class="log-head">
                <h2 id="log-heading">"Log"</h2>
                <label class="follow">
                    <input type="checkbox" data-testid="log-follow" prop:checked=move || follow.get() on:change=move |ev| follow.set(event_target_checked(&ev))/>
                    " Follow"
                </label>
            </div>
            <Show
                when=move || !entries.with(Vec::is_empty)
                fallback=move || view! { <p class="empty" data-testid="log-empty">{move || match (failed.get(), loaded.get()) {
                    (true, _) => "The log could not be read.",
                    (false, true) => "No lines yet.",
                    (false, false) => "Reading…",
                }}</p> }
            >
                <ol class="log" data-testid="task-log" node_ref=list tabindex="0" aria-label="Log lines">
                    <For each=move || entries.get() key=Entry::key let:entry>
                        {match entry {
                            Entry::Line(line) => view! {
                                <li class=format!("log-line level-{}", line.level) data-testid="log-line" data-seq=line.seq>
                                    <span class="mono log-time"><ClockTime at=line.at/></span>
                                    <span class="log-level">{line.level.as_str()}</span>
                                    <span class="log-attempt" title="attempt">{format!("#{}", line.attempt)}</span>
                                    <span class="log-message">{line.message}</span>
                                </li>
                            }.into_any(),
                            Entry::Dropped { count, .. } => view! {
                                <li class="log-gap" data-testid="log-gap">{format!("… {count} line(s) dropped")}</li>
                            }.into_any(),
                        }}
                    </For>
                </ol>
            </Show>
        </section>
    }
}

/// Adds a page's lines, a marker before each gap, and keeps the newest [`SHOWN`] entries.
fn append(entries: &mut Vec<Entry>, page: LogPage) {
    let mut previous = entries
        .iter()
        .rev()
        .find_map(|entry| match entry {
            Entry::Line(line) => Some(line.seq),
            Entry::Dropped { .. } => None,
        })
        .unwrap_or(0);
    for line in page.lines {
        let count = LogPage::dropped_before(previous, &line);
        if count > 0 {
            entries.push(Entry::Dropped {
                before: line.seq,
                count,
            });
        }
        previous = line.seq;
        entries.push(Entry::Line(line));
    }
    if entries.len() > SHOWN {
        entries.drain(..entries.len() - SHOWN);
    }
}
