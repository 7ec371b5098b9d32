//! Bulk actions on everything a filter matches, not just the rows on one page: the
//! count of tasks the action applies to is asked for and stated first, and once
//! confirmed the tasks are acted on a chunk per request, with the progress shown.

use crate::api::{act_on_matching, count_matching};
use crate::model::{thousands, BulkAction, BulkCount, TaskFilter};
use leptos::prelude::*;

/// Where a bulk action by filter stands.
#[derive(Clone, Debug, PartialEq)]
enum Stage {
    Idle,
    Counting(BulkAction),
    /// The count is in: the question, with the filter it was counted for.
    Asking(BulkAction, TaskFilter, BulkCount),
    Acting {
        action: BulkAction,
        changed: u64,
        skipped: u64,
        of: BulkCount,
    },
    Done {
        action: BulkAction,
        changed: u64,
        skipped: u64,
    },
    Failed(String),
}

fn question(action: BulkAction, count: &BulkCount) -> String {
    let which = match action {
        BulkAction::Cancel => "waiting or running",
        BulkAction::Retry => "failed or cancelled",
        BulkAction::Delete => "finished",
    };
    let (verb, n) = (action.verb(), thousands(count.count));
    match (count.more, count.count) {
        (true, _) => format!("{verb} every {which} task this filter matches (more than {n})?"),
        (false, 1) => format!("{verb} the 1 {which} task this filter matches?"),
        (false, _) => format!("{verb} the {n} {which} tasks this filter matches?"),
    }
}

fn said(stage: &Stage) -> String {
    match stage {
        Stage::Idle | Stage::Asking(..) => String::new(),
        Stage::Counting(_) => "Counting…".into(),
        Stage::Acting {
            action,
            changed,
            skipped,
            of,
        } => format!(
            "{} of {of} {}…",
            thousands(changed + skipped),
            action.done()
        ),
        Stage::Done {
            action,
            changed,
            skipped,
        } => format!(
            "{} {}; {} skipped (changed meanwhile).",
            thousands(*changed),
            action.done(),
            thousands(*skipped)
        ),
        Stage::Failed(message) => message.clone(),
    }
}

/// The "… all matching" buttons, shown while a filter is set; `done` runs after each
/// chunk, so the list shows what changed. A run goes on when the page is left: the
/// operator confirmed every task it counted.
#[component]
pub fn MatchingActions(filter: Signal<TaskFilter>, done: Callback<()>) -> impl IntoView {
    let stage = RwSignal::new(Stage::Idle);
    let running = RwSignal::new(false);
    // A new filter makes a question about the old one moot (a run keeps its own).
    Effect::new(move |_| {
        filter.track();
        if !running.get_untracked() {
            stage.set(Stage::Idle);
        }
    });
    let ask = move |action: BulkAction| {
        stage.set(Stage::Counting(action));
        let chosen = filter.get_untracked();
        leptos::task::spawn_local(async move {
            let answer = count_matching(chosen.clone(), action).await;
            // A count for a filter no longer shown, or a question withdrawn, is dropped.
            let current = filter.try_get_untracked().as_ref() == Some(&chosen)
                && stage.try_get_untracked() == Some(Stage::Counting(action));
            if current {
                let _ = stage.try_set(match answer {
                    Ok(count) => Stage::Asking(action, chosen, count),
                    Err(err) => Stage::Failed(err.message),
                });
            }
        });
    };
    let act = move |action: BulkAction, chosen: TaskFilter, of: BulkCount| {
        running.set(true);
        stage.set(Stage::Acting {
            action,
            changed: 0,
            skipped: 0,
            of: of.clone(),
        });
        leptos::task::spawn_local(async move {
            let (mut changed, mut skipped) = (0, 0);
            // From where the count was taken: tasks made since are not part of it.
            let mut cursor = of.cursor.clone();
            let last = loop {
                match act_on_matching(chosen.clone(), action, cursor).await {
                    Ok(chunk) => {
                        changed += chunk.changed;
                        skipped += chunk.skipped;
                        let _ = done.try_run(());
                        let Some(next) = chunk.next else {
                            break Stage::Done {
                                action,
                                changed,
                                skipped,
                            };
                        };
                        cursor = Some(next);
                        let _ = stage.try_set(Stage::Acting {
                            action,
                            changed,
                            skipped,
                            of: of.clone(),
                        });
                    }
                    Err(err) => {
                        break Stage::Failed(format!(
                            "Stopped after {} {}: {}",
                            thousands(changed),
                            action.done(),
                            err.message
                        ))
                    }
                }
            };
            let _ = running.try_set(false);
            let _ = stage.try_set(last);
        });
    };
    let button = move |action: BulkAction| {
        let label = format!("{} all matching…", action.verb());
        view! {
            <button
                data-testid=format!("matching-{}", action.as_str())
                disabled=move || running.get() || matches!(stage.get(), Stage::Counting(_))
                on:click=move |_| ask(action)
            >
                {label}
            </button>
        }
    };
    view! {
        <Show when=move || !filter.with(TaskFilter::is_empty)>
            <div class="bulk" role="group" aria-label="Actions on every matching task">
                {BulkAction::ALL.map(button).collect_view()}
                {move || match stage.get() {
                    Stage::Asking(action, _, count) if count.count == 0 => view! {
                        <span role="status" data-testid="matching-none">
                            {format!("No task this filter matches can be {}.", action.done())}
                            " "
                            <button on:click=move |_| stage.set(Stage::Idle)>"OK"</button>
                        </span>
                    }
                        .into_any(),
                    Stage::Asking(action, chosen, count) => view! {
                        <span role="alertdialog" aria-label="Confirm" data-testid="matching-question">
                            {question(action, &count)}
                            " "
                            <button class="danger" data-testid="matching-confirm" on:click={
                                let count = count.clone();
                                move |_| act(action, chosen.clone(), count.clone())
                            }>
                                {format!("{} {}", action.verb(), count)}
                            </button>
                            <button data-testid="matching-dismiss" on:click=move |_| stage.set(Stage::Idle)>"No"</button>
                        </span>
                    }
                        .into_any(),
                    _ => ().into_any(),
                }}
                <span class="form-status" role="status" data-testid="matching-status">{move || said(&stage.get())}</span>
            </div>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_states_how_many_and_which() {
        let capped = BulkCount {
            count: 1_000_000,
            more: true,
            cursor: None,
        };
        assert_eq!(
            question(BulkAction::Delete, &capped),
            "Delete every finished task this filter matches (more than 1,000,000)?"
        );
        let one = BulkCount {
            count: 1,
            more: false,
            cursor: None,
        };
        assert_eq!(
            question(BulkAction::Retry, &one),
            "Retry the 1 failed or cancelled task this filter matches?"
        );
        let many = BulkCount {
            count: 12_345,
            more: false,
            cursor: None,
        };
        assert_eq!(
            question(BulkAction::Cancel, &many),
            "Cancel the 12,345 waiting or running tasks this filter matches?"
        );
    }
}
