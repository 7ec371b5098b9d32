//! The submit form, generated from the task kinds' parameter descriptions; the server's
//! per-field validation messages are shown next to the fields they concern.

use super::json_parameters::{self, JsonParameters};
use crate::api::{submit_task, task_kinds};
use crate::error::{AppError, FieldError};
use crate::model::{ParamKind, ParamSpec, SubmitRequest, TaskKindInfo, TaskView};
use leptos::prelude::*;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[component]
pub fn SubmitForm(on_submitted: Callback<TaskView>) -> impl IntoView {
    let kinds = Resource::new(|| (), |_| task_kinds());
    view! {
        <Suspense fallback=|| view! { <p class="empty">"Loading task types…"</p> }>
            {move || {
                kinds
                    .get()
                    .map(|result| match result {
                        Ok(kinds) => view! { <KindForm kinds on_submitted/> }.into_any(),
                        Err(err) => {
                            view! { <p class="alert" role="alert">{err.message}</p> }.into_any()
                        }
                    })
            }}
        </Suspense>
    }
}

#[component]
fn KindForm(kinds: Vec<TaskKindInfo>, on_submitted: Callback<TaskView>) -> impl IntoView {
    let kinds = StoredValue::new(kinds);
    let selected =
        RwSignal::new(kinds.with_value(|k| k.first().map(|k| k.name.clone()).unwrap_or_default()));
    // What the user typed, per parameter; an absent entry means "the default".
    let inputs: RwSignal<BTreeMap<String, String>> = RwSignal::new(BTreeMap::new());
    // The parameters as JSON, for a kind described by a JSON Schema.
    let json_text = RwSignal::new(String::from("{}"));
    let errors: RwSignal<Vec<FieldError>> = RwSignal::new(Vec::new());
    let submitted: RwSignal<Option<TaskView>> = RwSignal::new(None);

    let submit = Action::new(move |request: &SubmitRequest| {
        let request = request.clone();
        async move { submit_task(request).await }
    });
    Effect::new(move |_| {
        if let Some(result) = submit.value().get() {
            match result {
                Ok(task) => {
                    errors.set(Vec::new());
                    submitted.set(Some(task.clone()));
                    on_submitted.run(task);
                }
                Err(err) => {
                    submitted.set(None);
                    errors.set(form_errors(err));
                }
            }
        }
    });

    let current =
        move || kinds.with_value(|k| k.iter().find(|k| k.name == selected.get()).cloned());
    // Advanced options, as typed; empty means the server's default.
    let options: RwSignal<BTreeMap<&'static str, String>> = RwSignal::new(BTreeMap::new());
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parameters = match current() {
            Some(kind) if kind.parameters_schema.is_some() => {
                match json_parameters::parse(&json_text.get_untracked()) {
                    Ok(parameters) => parameters,
                    Err(problem) => return errors.set(vec![problem]),
                }
            }
            Some(kind) => parameters_from_inputs(&kind.params, &inputs.get_untracked()),
            None => Value::Null,
        };
        let mut request = SubmitRequest {
            task_type: selected.get_untracked(),
            parameters,
            ..SubmitRequest::default()
        };
        match apply_options(&mut request, &options.get_untracked()) {
            Ok(()) => {
                submit.dispatch(request);
            }
            Err(problems) => errors.set(problems),
        }
    };
    let error_for = move |field: &str| {
        errors.with(|errors| {
            errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone())
        })
    };

    view! {
        <form class="submit-form" data-testid="submit-form" on:submit=on_submit novalidate>
            <div class="field">
                <label for="task-type">"Task type"</label>
                <select
                    id="task-type"
                    data-testid="task-type"
                    on:change=move |ev| {
                        selected.set(event_target_value(&ev));
                        inputs.set(BTreeMap::new());
                        json_text.set("{}".into());
                        errors.set(Vec::new());
                    }
                    prop:value=move || selected.get()
                >
                    {kinds
                        .with_value(|kinds| {
                            kinds
                                .iter()
                                .map(|kind| {
                                    view! { <option value=kind.name.clone()>{kind.name.clone()}</option> }
                                })
                                .collect_view()
                        })}
                </select>
                <span class="help">{move || current().map(|k| k.description).unwrap_or_default()}</span>
                <FieldMessage message=Signal::derive(move || error_for("task_type"))/>
            </div>
            {move || {
                current()
                    .map(|kind| {
                        if let Some(schema) = kind.parameters_schema {
                            let errors = errors.into();
                            return view! { <JsonParameters schema text=json_text errors/> }.into_any();
                        }
                        kind.params
                            .into_iter()
                            .map(|spec| {
                                let field = format!("parameters.{}", spec.name);
                                let message = Signal::derive(move || error_for(&field));
                                view! { <ParamInput spec inputs message/> }
                            })
                            .collect_view()
                            .into_any()
                    })
            }}
            <details class="advanced">
                <summary>"Advanced options"</summary>
                <div class="advanced-fields">
                    {ADVANCED
                        .iter()
                        .map(|(name, label, help)| {
                            let name = *name;
                            let message = Signal::derive(move || error_for(name));
                            view! {
                                <div class="field">
                                    <label for=format!("advanced-{name}")>{*label}</label>
                                    <input
                                        id=format!("advanced-{name}")
                                        data-testid=format!("advanced-{name}")
                                        inputmode=if name == "queue" { "text" } else { "numeric" }
                                        prop:value=move || options.with(|o| o.get(name).cloned().unwrap_or_default())
                                        on:input=move |ev| {
                                            let text = event_target_value(&ev);
                                            options.update(|o| { o.insert(name, text); });
                                        }
                                        aria-invalid=move || message.get().is_some().to_string()
                                    />
                                    <span class="help">{*help}</span>
                                    <FieldMessage message/>
                                </div>
                            }
                        })
                        .collect_view()}
                </div>
            </details>
            <div class="actions">
                <button type="submit" class="primary" data-testid="submit-button" disabled=move || submit.pending().get()>
                    {move || if submit.pending().get() { "Submitting…" } else { "Submit task" }}
                </button>
                <span
                    class="form-status"
                    role="status"
                    data-testid="submit-status"
                    data-task-id=move || submitted.get().map(|task| task.id.to_string())
                >
                    {move || submitted.get().map(|task| format!("Submitted {}", &task.id.to_string()[..8]))}
                </span>
            </div>
            <FieldMessage message=Signal::derive(move || {
                errors.with(|errors| {
                    errors.iter().find(|e| e.field.is_empty()).map(|e| e.message.clone())
                })
            })/>
        </form>
    }
}

#[component]
fn ParamInput(
    spec: ParamSpec,
    inputs: RwSignal<BTreeMap<String, String>>,
    message: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("param-{}", spec.name);
    let name = spec.name.clone();
    let value = {
        let name = name.clone();
        let default = default_text(&spec.kind);
        move || {
            inputs
                .with(|inputs| inputs.get(&name).cloned())
                .unwrap_or_else(|| default.clone())
        }
    };
    let on_input = {
        let name = name.clone();
        move |ev| {
            let text = event_target_value(&ev);
            inputs.update(|inputs| {
                inputs.insert(name.clone(), text);
            });
        }
    };
    let control = match spec.kind.clone() {
        ParamKind::Integer { min, max, .. } => view! {
            <input
                id=id.clone()
                type="number"
                inputmode="numeric"
                min=min
                max=max
                step="1"
                data-testid=id.clone()
                prop:value=value
                on:input=on_input
                aria-invalid=move || message.get().is_some().to_string()
            />
        }
            .into_any(),
        ParamKind::Choice { options, .. } => view! {
            <select id=id.clone() data-testid=id.clone() prop:value=value on:change=on_input>
                {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
            </select>
        }
            .into_any(),
        ParamKind::Text { max_length, .. } if max_length <= 2048 => view! {
            <input
                id=id.clone()
                type="text"
                maxlength=max_length
                data-testid=id.clone()
                prop:value=value
                on:input=on_input
                aria-invalid=move || message.get().is_some().to_string()
            />
        }
            .into_any(),
        ParamKind::Text { .. } | ParamKind::TextMap { .. } => view! {
            <textarea
                id=id.clone()
                rows="3"
                placeholder=matches!(spec.kind, ParamKind::TextMap { .. }).then_some("Name: value, one a line")
                data-testid=id.clone()
                prop:value=value
                on:input=on_input
                aria-invalid=move || message.get().is_some().to_string()
            ></textarea>
        }
            .into_any(),
    };
    view! {
        <div class="field">
            <label for=id>{spec.name.clone()}</label>
            {control}
            <span class="help">{spec.help.clone()}</span>
            <FieldMessage message/>
        </div>
    }
}

/// A validation message under a field; empty (but present, so nothing jumps) when none.
#[component]
fn FieldMessage(message: Signal<Option<String>>) -> impl IntoView {
    view! {
        <span class="field-error" role="alert" data-testid="field-error">
            {move || message.get().unwrap_or_default()}
        </span>
    }
}

fn default_text(kind: &ParamKind) -> String {
    match kind {
        ParamKind::Integer { default, .. } => default.to_string(),
        ParamKind::Choice { default, .. } | ParamKind::Text { default, .. } => default.clone(),
        ParamKind::TextMap { .. } => String::new(),
    }
}

/// The typed parameters. Text that is not a number is sent as text, so the server's
/// message (not a silent default) tells the user what is wrong.
fn parameters_from_inputs(specs: &[ParamSpec], inputs: &BTreeMap<String, String>) -> Value {
    let mut out = Map::new();
    for spec in specs {
        let Some(text) = inputs.get(&spec.name) else {
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let value = match spec.kind {
            ParamKind::Integer { .. } => text
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or_else(|_| Value::from(text)),
            ParamKind::Choice { .. } | ParamKind::Text { .. } => Value::from(text),
            ParamKind::TextMap { .. } => text_map(text),
        };
        out.insert(spec.name.clone(), value);
    }
    Value::Object(out)
}

/// `Name: value` lines as an object; text with a line that is not one is sent as it is,
/// for the server to explain.
fn text_map(text: &str) -> Value {
    let mut map = Map::new();
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Value::from(text);
        };
        map.insert(name.trim().to_string(), Value::from(value.trim()));
    }
    Value::Object(map)
}

/// Field errors to show; an error with no details is shown for the form as a whole.
fn form_errors(err: AppError) -> Vec<FieldError> {
    if err.details.is_empty() {
        vec![FieldError::new("", err.message)]
    } else {
        err.details
    }
}

/// The advanced options: field name (as the API and its errors spell it), label, help.
const ADVANCED: [(&str, &str, &str); 5] = [
    ("queue", "Queue", "Named queue; default \"default\"."),
    ("priority", "Priority", "0 (most urgent, the default) to 9."),
    ("delay_ms", "Delay (ms)", "Start no sooner than this."),
    ("max_attempts", "Max attempts", "Default 3."),
    (
        "timeout_ms",
        "Timeout (ms)",
        "Per attempt; none by default.",
    ),
];

/// Copies the advanced options typed into `options` onto the request; a number that does
/// not parse is reported next to its field.
fn apply_options(
    request: &mut SubmitRequest,
    options: &BTreeMap<&'static str, String>,
) -> Result<(), Vec<FieldError>> {
    let mut problems = Vec::new();
    let text = |name: &str| {
        options
            .get(name)
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
    };
    let mut number = |name: &'static str| -> Option<i64> {
        let value = text(name)?;
        match value.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                problems.push(FieldError::new(name, "must be a whole number"));
                None
            }
        }
    };
    request.priority = number("priority").map(|n| n.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
    request.delay_ms = number("delay_ms");
    request.max_attempts =
        number("max_attempts").map(|n| n.clamp(i32::MIN as i64, i32::MAX as i64) as i32);
    request.timeout_ms = number("timeout_ms");
    request.queue = text("queue");
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
