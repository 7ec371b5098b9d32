//! The submit form's JSON editor, for a kind whose schema declares no properties (a kind
//! external workers run, say): the parameters typed as one JSON object, and every
//! problem the server found listed under it.

use crate::error::FieldError;
use leptos::prelude::*;
use serde_json::Value;

#[component]
pub fn JsonParameters(text: RwSignal<String>, errors: Signal<Vec<FieldError>>) -> impl IntoView {
    let problems = move || {
        errors
            .get()
            .into_iter()
            .filter(|e| e.field == "parameters" || e.field.starts_with("parameters."))
            .collect::<Vec<_>>()
    };
    view! {
        <div class="field">
            <label for="param-json">"Parameters (JSON)"</label>
            <textarea
                id="param-json"
                data-testid="param-json"
                rows="6"
                spellcheck="false"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
                aria-invalid=move || (!problems().is_empty()).to_string()
            ></textarea>
            <ul class="field-error" role="alert" data-testid="json-errors">
                {move || {
                    problems()
                        .into_iter()
                        .map(|e| view! { <li>{format!("{}: {}", e.field, e.message)}</li> })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}

/// The typed text as the submit's parameters, or the problem with it.
pub fn parse(text: &str) -> Result<Value, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|e| FieldError::new("parameters", format!("not JSON: {e}")))
}
