//! The submit form, drawn from each kind's parameters schema (see `schema_fields`), or a
//! JSON editor where the schema declares no properties; the server's per-field
//! validation messages are shown next to the fields they concern.

use super::json_parameters::{self, JsonParameters};
use super::schema_fields::{self, Control, Field};
use crate::api::{submit_task, task_kinds};
use crate::error::{AppError, FieldError};
use crate::model::{SubmitRequest, TaskKindInfo, TaskView};
use leptos::prelude::*;
use serde_json::Value;
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
    // The parameters as JSON, for a kind whose schema declares no properties.
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
        let parameters = match current().map(|kind| schema_fields::fields(&kind.parameters_schema))
        {
            Some(Some(fields)) => schema_fields::parameters(&fields, &inputs.get_untracked()),
            Some(None) => match json_parameters::parse(&json_text.get_untracked()) {
                Ok(parameters) => parameters,
                Err(problem) => return errors.set(vec![problem]),
            },
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
                    .map(|kind| match schema_fields::fields(&kind.parameters_schema) {
                        None => {
                            let errors = errors.into();
                            view! { <JsonParameters text=json_text errors/> }.into_any()
                        }
                        Some(fields) => fields
                            .into_iter()
                            .map(|field| {
                                let prefix = format!("parameters.{}", field.key);
                                let message = Signal::derive(move || {
                                    errors.with(|errors| {
                                        errors
                                            .iter()
                                            .find(|e| e.field == prefix || e.field.starts_with(&format!("{prefix}.")))
                                            .map(|e| e.message.clone())
                                    })
                                });
                                view! { <ParamInput field inputs message/> }
                            })
                            .collect_view()
                            .into_any(),
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
                    {move || submitted.get().map(|task| format!("Submitted {}", crate::model::short_id(&task.id)))}
                </span>
            </div>
            // Whatever no field shows: an error of the whole, or of a part the form does
            // not draw.
            <FieldMessage message=Signal::derive(move || {
                let fields = current().and_then(|kind| schema_fields::fields(&kind.parameters_schema));
                errors.with(|errors| {
                    errors
                        .iter()
                        .find(|e| !shown_by_a_field(&e.field, fields.as_deref()))
                        .map(|e| if e.field.is_empty() { e.message.clone() } else { format!("{}: {}", e.field, e.message) })
                })
            })/>
        </form>
    }
}

#[component]
fn ParamInput(
    field: Field,
    inputs: RwSignal<BTreeMap<String, String>>,
    message: Signal<Option<String>>,
) -> impl IntoView {
    let id = format!("param-{}", field.key);
    let key = field.key.clone();
    let value = {
        let key = key.clone();
        let default = field.default.clone();
        move || {
            inputs
                .with(|inputs| inputs.get(&key).cloned())
                .unwrap_or_else(|| default.clone())
        }
    };
    let set = move |text: String| {
        inputs.update(|inputs| {
            inputs.insert(key.clone(), text);
        })
    };
    let on_input = {
        let set = set.clone();
        move |ev| set(event_target_value(&ev))
    };
    let invalid = move || message.get().is_some().to_string();
    let area = |placeholder: &'static str| {
        view! {
            <textarea id=id.clone() rows="3" placeholder=placeholder data-testid=id.clone()
                prop:value=value.clone() on:input=on_input.clone() aria-invalid=invalid></textarea>
        }
        .into_any()
    };
    let number = |min: Option<f64>, max: Option<f64>, step: &'static str| {
        view! {
            <input id=id.clone() type="number" inputmode="decimal" min=min max=max step=step
                data-testid=id.clone() prop:value=value.clone() on:input=on_input.clone() aria-invalid=invalid/>
        }
        .into_any()
    };
    let control = match field.control.clone() {
        Control::Integer { min, max } => number(min, max, "1"),
        Control::Number { min, max } => number(min, max, "any"),
        Control::Choice(options) => view! {
            <select id=id.clone() data-testid=id.clone() prop:value=value.clone() on:change=on_input.clone()>
                {options.into_iter().map(|o| view! { <option value=o.clone()>{o.clone()}</option> }).collect_view()}
            </select>
        }
        .into_any(),
        Control::Boolean => view! {
            <input id=id.clone() type="checkbox" data-testid=id.clone()
                prop:checked=move || value() == "true"
                on:change=move |ev| set(event_target_checked(&ev).to_string())/>
        }
        .into_any(),
        Control::Text { long: false, max_length } => view! {
            <input id=id.clone() type="text" maxlength=max_length data-testid=id.clone()
                prop:value=value.clone() on:input=on_input.clone() aria-invalid=invalid/>
        }
        .into_any(),
        Control::Text { long: true, .. } => area(""),
        Control::TextMap => area("Name: value, one a line"),
        Control::List(_) => area("One a line"),
        Control::Json => area("JSON"),
    };
    let label = if field.required {
        format!("{} *", field.key)
    } else {
        field.key.clone()
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {control}
            <span class="help">{field.help.clone()}</span>
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

/// True when the error of `field` is shown beside a field of the form: the task type, an
/// advanced option, a drawn parameter (or part of one), or any parameter in the JSON
/// editor (`fields` is `None`).
fn shown_by_a_field(field: &str, fields: Option<&[Field]>) -> bool {
    if field == "task_type" || ADVANCED.iter().any(|(name, _, _)| *name == field) {
        return true;
    }
    if field != "parameters" && !field.starts_with("parameters.") {
        return false;
    }
    let Some(fields) = fields else {
        return true;
    };
    fields.iter().any(|drawn| {
        let path = format!("parameters.{}", drawn.key);
        field == path || field.starts_with(&format!("{path}."))
    })
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
