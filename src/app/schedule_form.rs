//! The form that makes or edits a schedule. As the timing is typed, the server explains
//! it in words and lists its next run times (shown in the viewer's zone), so no cron or
//! time-zone code enters the WebAssembly.

use super::local_time::{viewers_zone, LocalTime};
use crate::api::{preview_timing, save_schedule, task_kinds};
use crate::error::AppError;
use crate::model::{CatchUp, ScheduleDefinition, ScheduleTiming, SubmitRequest, TimingPreview};
use leptos::prelude::*;

/// A problem as one line: each field's message, or the error's own.
fn problems(err: AppError) -> String {
    if err.details.is_empty() {
        return err.message;
    }
    let lines: Vec<String> = err
        .details
        .iter()
        .map(|detail| format!("{}: {}", detail.field, detail.message))
        .collect();
    lines.join("; ")
}

fn blank() -> ScheduleDefinition {
    ScheduleDefinition {
        name: String::new(),
        cron: Some("0 * * * *".into()),
        timezone: None,
        every_secs: None,
        catch_up: CatchUp::Skip,
        catch_up_max: 10,
        jitter_secs: 0,
        enabled: true,
        task: SubmitRequest {
            task_type: "noop".into(),
            ..SubmitRequest::default()
        },
    }
}

fn catch_up_name(catch_up: CatchUp) -> &'static str {
    match catch_up {
        CatchUp::Skip => "skip",
        CatchUp::Once => "once",
        CatchUp::Each => "each",
    }
}

#[component]
pub fn ScheduleForm(
    initial: Option<ScheduleDefinition>,
    saved: Callback<()>,
    cancel: Callback<()>,
) -> impl IntoView {
    let is_new = initial.is_none();
    let start = initial.unwrap_or_else(blank);
    let name = RwSignal::new(start.name.clone());
    let use_cron = RwSignal::new(start.every_secs.is_none());
    let cron = RwSignal::new(start.cron.clone().unwrap_or_else(|| "0 * * * *".into()));
    // A new schedule starts in the viewer's zone; a stored one keeps its own (UTC if none).
    let zone = match (&start.timezone, is_new) {
        (Some(zone), _) => Some(zone.clone()),
        (None, true) => viewers_zone(),
        (None, false) => None,
    };
    let timezone = RwSignal::new(zone.unwrap_or_else(|| "UTC".into()));
    let every = RwSignal::new(start.every_secs.unwrap_or(60).to_string());
    let catch_up = RwSignal::new(catch_up_name(start.catch_up).to_string());
    let catch_up_max = RwSignal::new(start.catch_up_max.to_string());
    let jitter = RwSignal::new(start.jitter_secs.to_string());
    let enabled = RwSignal::new(start.enabled);
    let task_type = RwSignal::new(start.task.task_type.clone());
    let parameters = RwSignal::new(if start.task.parameters.is_null() {
        "{}".to_string()
    } else {
        start.task.parameters.to_string()
    });
    let queue = RwSignal::new(start.task.queue.clone().unwrap_or_default());
    let kinds = Resource::new(|| (), |_| task_kinds());

    let timing = move || ScheduleTiming {
        cron: use_cron.get().then(|| cron.get()),
        timezone: use_cron.get().then(|| timezone.get()),
        // Not a number: 0, which the server explains is out of range.
        every_secs: (!use_cron.get()).then(|| every.get().trim().parse().unwrap_or(0)),
        after: None,
    };
    let preview: RwSignal<Option<Result<TimingPreview, String>>> = RwSignal::new(None);
    let asked = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let timing = timing();
        let ticket = asked.get_value() + 1;
        asked.set_value(ticket);
        leptos::task::spawn_local(async move {
            let answer = preview_timing(timing).await.map_err(problems);
            // Only the answer to the latest timing typed is shown.
            if asked.try_get_value() == Some(ticket) {
                let _ = preview.try_set(Some(answer));
            }
        });
    });

    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let save = Action::new(move |definition: &ScheduleDefinition| {
        let definition = definition.clone();
        async move { save_schedule(definition).await }
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => saved.run(()),
        Some(Err(err)) => error.set(Some(problems(err))),
        None => {}
    });
    let base_task = start.task.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parameters = match serde_json::from_str(&parameters.get_untracked()) {
            Ok(parameters) => parameters,
            Err(err) => {
                error.set(Some(format!("task.parameters: not JSON ({err})")));
                return;
            }
        };
        let (Ok(catch_up_max), Ok(jitter_secs)) = (
            catch_up_max.get_untracked().trim().parse(),
            jitter.get_untracked().trim().parse(),
        ) else {
            error.set(Some(
                "catch-up bound and jitter are whole numbers of 0 or more".into(),
            ));
            return;
        };
        let timing = timing();
        let queue = queue.get_untracked();
        error.set(None);
        save.dispatch(ScheduleDefinition {
            name: name.get_untracked().trim().to_string(),
            cron: timing.cron,
            timezone: timing.timezone,
            every_secs: timing.every_secs,
            catch_up: match catch_up.get_untracked().as_str() {
                "once" => CatchUp::Once,
                "each" => CatchUp::Each,
                _ => CatchUp::Skip,
            },
            catch_up_max,
            jitter_secs,
            enabled: enabled.get_untracked(),
            task: SubmitRequest {
                task_type: task_type.get_untracked(),
                parameters,
                queue: (!queue.trim().is_empty()).then(|| queue.trim().to_string()),
                ..base_task.clone()
            },
        });
    };

    view! {
        <form class="submit-form" data-testid="schedule-form" on:submit=on_submit>
            <div class="field">
                <label for="schedule-name">"Name"</label>
                <input id="schedule-name" data-testid="schedule-name" required disabled=!is_new
                    prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                <span class="help">"Letters, digits, _ - . (up to 64)."</span>
            </div>
            <div class="field">
                <label for="schedule-timing-kind">"Timing"</label>
                <select id="schedule-timing-kind" data-testid="schedule-timing-kind"
                    on:change=move |ev| use_cron.set(event_target_value(&ev) == "cron")>
                    <option value="cron" selected=move || use_cron.get()>"Cron expression"</option>
                    <option value="every" selected=move || !use_cron.get()>"Fixed interval"</option>
                </select>
            </div>
            <Show when=move || use_cron.get() fallback=move || view! {
                <div class="field">
                    <label for="schedule-every">"Every (seconds)"</label>
                    <input id="schedule-every" data-testid="schedule-every" inputmode="numeric"
                        prop:value=move || every.get() on:input=move |ev| every.set(event_target_value(&ev))/>
                </div>
            }>
                <div class="field">
                    <label for="schedule-cron">"Cron"</label>
                    <input id="schedule-cron" data-testid="schedule-cron" class="mono"
                        prop:value=move || cron.get() on:input=move |ev| cron.set(event_target_value(&ev))/>
                    <span class="help">"Five fields, or six with seconds first: 0 9 * * MON-FRI"</span>
                </div>
                <div class="field">
                    <label for="schedule-timezone">"Time zone"</label>
                    <input id="schedule-timezone" data-testid="schedule-timezone"
                        prop:value=move || timezone.get() on:input=move |ev| timezone.set(event_target_value(&ev))/>
                    <span class="help">"An IANA name, such as Europe/Paris."</span>
                </div>
            </Show>
            <div class="field timing-preview" aria-live="polite">
                {move || match preview.get() {
                    None => view! { <span class="help">"…"</span> }.into_any(),
                    Some(Ok(preview)) => view! {
                        <strong data-testid="timing-description">{preview.description}</strong>
                        <ol class="json-list" data-testid="timing-next">
                            {preview.next.into_iter().map(|at| view! { <li><LocalTime at/></li> }).collect_view()}
                        </ol>
                    }.into_any(),
                    Some(Err(message)) => view! {
                        <span class="field-error" role="alert" data-testid="timing-error">{message}</span>
                    }.into_any(),
                }}
            </div>
            <div class="field">
                <label for="schedule-catch-up">"Missed runs"</label>
                <select id="schedule-catch-up" data-testid="schedule-catch-up"
                    on:change=move |ev| catch_up.set(event_target_value(&ev))>
                    {[("skip", "Skip them"), ("once", "Run once"), ("each", "Run each")]
                        .into_iter()
                        .map(|(value, label)| view! { <option value=value selected=move || catch_up.get() == value>{label}</option> })
                        .collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="schedule-catch-up-max">"At most (run each)"</label>
                <input id="schedule-catch-up-max" inputmode="numeric"
                    prop:value=move || catch_up_max.get() on:input=move |ev| catch_up_max.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="schedule-jitter">"Jitter (seconds)"</label>
                <input id="schedule-jitter" inputmode="numeric"
                    prop:value=move || jitter.get() on:input=move |ev| jitter.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="schedule-task-type">"Task type"</label>
                <select id="schedule-task-type" data-testid="schedule-task-type"
                    on:change=move |ev| task_type.set(event_target_value(&ev))>
                    <Suspense fallback=|| ()>
                        {move || kinds.get().and_then(Result::ok).map(|kinds| kinds.into_iter().map(|kind| {
                            let (value, label, chosen) = (kind.name.clone(), kind.name.clone(), kind.name);
                            view! { <option value=value selected=move || task_type.get() == chosen>{label}</option> }
                        }).collect_view())}
                    </Suspense>
                </select>
            </div>
            <div class="field">
                <label for="schedule-parameters">"Parameters (JSON)"</label>
                <textarea id="schedule-parameters" data-testid="schedule-parameters" class="mono" rows="3"
                    prop:value=move || parameters.get() on:input=move |ev| parameters.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="schedule-queue">"Queue"</label>
                <input id="schedule-queue" data-testid="schedule-queue" placeholder="the kind's default"
                    prop:value=move || queue.get() on:input=move |ev| queue.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label>
                    <input type="checkbox" data-testid="schedule-enabled" prop:checked=move || enabled.get()
                        on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                    " Enabled"
                </label>
            </div>
            <div class="actions">
                <button type="submit" class="primary" data-testid="schedule-save" disabled=move || save.pending().get()>
                    {if is_new { "Create schedule" } else { "Save schedule" }}
                </button>
                <button type="button" on:click=move |_| cancel.run(())>"Cancel"</button>
                <span class="field-error" role="alert" data-testid="schedule-form-error">
                    {move || error.get().unwrap_or_default()}
                </span>
            </div>
        </form>
    }
}
