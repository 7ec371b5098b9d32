//! Keyboard shortcuts, and the `?` overlay that lists them. A key acts on the element of
//! the page that carries its `data-shortcut` name (the search box, the paging links, the
//! refresh toggle), exactly as a click or a focus by hand would, so a page offers a
//! shortcut by marking an element and nothing else. Keys typed into a field, or with
//! Ctrl, Alt or Meta held, are left alone.

use leptos::prelude::*;

/// Each key, the element it acts on, and what the overlay says of it.
const SHORTCUTS: [(&str, &str, &str); 4] = [
    ("/", "search", "Search (on the task list)"),
    ("n", "next-page", "Next page (older entries)"),
    ("f", "first-page", "First page (newest entries)"),
    ("r", "refresh", "Pause or resume refreshing"),
];

/// Listens for the shortcuts and shows their list on `?` (closed by Escape or its button).
#[component]
pub fn Shortcuts() -> impl IntoView {
    let open = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |event| {
            if let Some(consumed) = on_key(&event, open) {
                if consumed {
                    event.prevent_default();
                }
            }
        });
        on_cleanup(move || handle.remove());
    }
    let close = move |_| open.set(false);
    let opener = NodeRef::<leptos::html::Button>::new();
    let closer = NodeRef::<leptos::html::Button>::new();
    // Focus moves into the list when it opens and back to its button when it closes.
    Effect::new(move |was_open: Option<bool>| {
        let is_open = open.get();
        let target = if is_open {
            closer.get()
        } else {
            opener.get_untracked()
        };
        if was_open.is_some_and(|was| was != is_open) || is_open {
            if let Some(button) = target {
                let _ = button.focus();
            }
        }
        is_open
    });
    view! {
        <button
            type="button"
            class="shortcuts-button"
            aria-label="Keyboard shortcuts"
            aria-expanded=move || open.get().to_string()
            title="Keyboard shortcuts (?)"
            node_ref=opener
            on:click=move |_| open.update(|open| *open = !*open)
        >
            "?"
        </button>
        <Show when=move || open.get()>
            <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="shortcuts-heading" data-testid="shortcuts">
                <div class="overlay-box">
                    <h2 id="shortcuts-heading">"Keyboard shortcuts"</h2>
                    <table class="grid">
                        <tbody>
                            {SHORTCUTS
                                .iter()
                                .map(|(key, _, what)| view! { <tr><th scope="row"><kbd>{*key}</kbd></th><td>{*what}</td></tr> })
                                .collect_view()}
                            <tr><th scope="row"><kbd>"?"</kbd></th><td>"Show or hide this list"</td></tr>
                        </tbody>
                    </table>
                    <button type="button" on:click=close node_ref=closer>"Close"</button>
                </div>
            </div>
        </Show>
    }
}

/// What a key press does: `None` when it is not ours, else whether it was acted on.
#[cfg(feature = "hydrate")]
fn on_key(event: &web_sys::KeyboardEvent, open: RwSignal<bool>) -> Option<bool> {
    use wasm_bindgen::JsCast;
    // A held key repeats; one press is one action.
    if event.ctrl_key() || event.alt_key() || event.meta_key() || event.repeat() {
        return None;
    }
    // Caps Lock on: N is n (named keys such as Escape stay as they are).
    let key = event.key();
    let key = if key.chars().count() == 1 {
        key.to_lowercase()
    } else {
        key
    };
    if key == "Escape" && open.get_untracked() {
        open.set(false);
        return Some(true);
    }
    let typing = event
        .target()
        .and_then(|target| target.dyn_into::<web_sys::Element>().ok())
        .is_some_and(|element| {
            matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || element.has_attribute("contenteditable")
        });
    if typing {
        return None;
    }
    if key == "?" {
        open.update(|open| *open = !*open);
        return Some(true);
    }
    let (_, name, _) = SHORTCUTS.iter().find(|(k, _, _)| *k == key)?;
    let element = document()
        .query_selector(&format!("[data-shortcut=\"{name}\"]"))
        .ok()??
        .dyn_into::<web_sys::HtmlElement>()
        .ok()?;
    open.set(false);
    if *name == "search" {
        element.focus().ok()?;
    } else {
        element.click();
    }
    Some(true)
}
