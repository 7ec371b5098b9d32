//! The dashboard: the HTML shell, the root component and its routes. Each page or
//! component lives in a file of its own under `app/`.

mod dashboard;
mod live;
mod submit_form;
mod task_table;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::StaticSegment;

/// The HTML document every page is rendered into.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The dashboard application.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    view! {
        <Stylesheet id="leptos" href="/pkg/spool.css"/>
        <Title text="Spool"/>
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Spool"</a>
                <span class="tagline">"durable background tasks"</span>
            </header>
            <main class="content">
                <Routes fallback=|| view! { <p class="empty">"There is no such page."</p> }>
                    <Route path=StaticSegment("") view=dashboard::Dashboard/>
                </Routes>
            </main>
        </Router>
    }
}

/// Sets `data-hydrated="true"` on `<body>` once the WebAssembly has taken over the page
/// (effects run only in the browser), so tests and scripts can wait for interactivity.
fn mark_hydrated() {
    Effect::new(|_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
