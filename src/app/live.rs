//! Keeping views live. A view's data is rendered on the server with the page, then
//! refreshed in the browser every two seconds through a server function: one request at a
//! time, none while the tab is hidden, and on after a failure until the server answers
//! again, and none while the viewer has paused refreshing (a choice the browser keeps
//! across reloads). The connection's state (live, paused, offline) is shared for the
//! header to show.

use crate::error::AppError;
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::future::Future;

/// How often views refresh.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub const REFRESH_MS: u32 = 2_000;

/// What the refreshes have seen lately (only the browser refreshes, so the server renders
/// every page as live).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Connection {
    /// The last refresh was answered.
    Live,
    /// The tab is hidden, or the viewer paused refreshing: it waits until resumed.
    Paused,
    /// The last refresh failed: the server could not be reached.
    Offline,
}

#[derive(Clone, Copy)]
struct ConnectionState(RwSignal<Connection>);

/// Whether the viewer paused refreshing.
#[derive(Clone, Copy)]
struct RefreshPaused(RwSignal<bool>);

/// Where the browser keeps the viewer's pause across reloads.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
const PAUSED_KEY: &str = "spool.refresh-paused";

/// The browser's clock, for relative times ("3 min ago"). None on the server and during
/// hydration, so the server's absolute times hydrate unchanged and then turn relative.
#[derive(Clone, Copy)]
pub struct Clock(pub RwSignal<Option<chrono::DateTime<chrono::Utc>>>);

/// Makes the connection state and the clock available to every view; call once, in the
/// root.
pub fn provide_connection() {
    let connection = RwSignal::new(Connection::Live);
    provide_context(ConnectionState(connection));
    // Unpaused on the server and while hydrating, so the page hydrates as rendered; the
    // stored choice applies right after.
    let paused = RwSignal::new(false);
    provide_context(RefreshPaused(paused));
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if stored_pause() {
            paused.set(true);
            connection.set(Connection::Paused);
        }
    });
    let clock = Clock(RwSignal::new(None));
    provide_context(clock);
    #[cfg(feature = "hydrate")]
    Effect::new(move |started: Option<()>| {
        if started.is_some() {
            return;
        }
        leptos::task::spawn_local(async move {
            while clock.0.try_set(Some(chrono::Utc::now())).is_none() {
                gloo_timers::future::TimeoutFuture::new(REFRESH_MS).await;
            }
        });
    });
}

/// The clock's reading (see [`Clock`]).
pub fn now() -> Option<chrono::DateTime<chrono::Utc>> {
    use_context::<Clock>().and_then(|clock| clock.0.get())
}

/// Whether the viewer paused refreshing.
fn refresh_paused() -> RwSignal<bool> {
    use_context::<RefreshPaused>()
        .map(|state| state.0)
        .unwrap_or_else(|| RwSignal::new(false))
}

#[cfg(feature = "hydrate")]
fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

#[cfg(feature = "hydrate")]
fn stored_pause() -> bool {
    local_storage()
        .and_then(|storage| storage.get_item(PAUSED_KEY).ok()?)
        .is_some_and(|value| value == "1")
}

/// Remembers the choice in the browser; a browser that keeps nothing (private mode)
/// forgets it at the next reload.
#[cfg(feature = "hydrate")]
fn store_pause(paused: bool) {
    if let Some(storage) = local_storage() {
        let _ = match paused {
            true => storage.set_item(PAUSED_KEY, "1"),
            false => storage.remove_item(PAUSED_KEY),
        };
    }
}

/// The shared connection state.
pub fn connection() -> RwSignal<Connection> {
    use_context::<ConnectionState>()
        .map(|state| state.0)
        .unwrap_or_else(|| RwSignal::new(Connection::Live))
}

/// A view's live data and a way to refresh it at once (after an action).
pub struct Live<T: Send + Sync + 'static> {
    pub data: Signal<Option<Result<T, AppError>>>,
    pub refresh: Callback<()>,
}

impl<T: Send + Sync + 'static> Clone for Live<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Live<T> {}

/// Data for a view, keyed by `source` (the filters in the URL, an id): fetched with the
/// page on the server, refetched when the key changes, refreshed every [`REFRESH_MS`].
pub fn use_live<S, T, F, Fut>(source: impl Fn() -> S + Send + Sync + 'static, fetch: F) -> Live<T>
where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + Serialize + DeserializeOwned + 'static,
    F: Fn(S) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    let key = Memo::new(move |_| source());
    let initial = Resource::new(move || key.get(), {
        let fetch = fetch.clone();
        move |key| fetch(key)
    });
    // Newer than `initial` once a refresh has answered; cleared when the key changes.
    let latest: RwSignal<Option<Result<T, AppError>>> = RwSignal::new(None);
    Effect::new(move |previous: Option<S>| {
        let current = key.get();
        if previous.is_some_and(|previous| previous != current) {
            latest.set(None);
        }
        current
    });
    let refresh = Callback::new({
        let fetch = fetch.clone();
        move |_: ()| {
            let fetch = fetch.clone();
            leptos::task::spawn_local(async move {
                let Some(asked) = key.try_get_untracked() else {
                    return;
                };
                let answer = fetch(asked.clone()).await;
                if key.try_get_untracked().as_ref() == Some(&asked) {
                    let _ = latest.try_set(Some(answer));
                }
            });
        }
    });
    keep_refreshing(key, latest, fetch);
    Live {
        data: Signal::derive(move || latest.get().or_else(|| initial.get())),
        refresh,
    }
}

#[cfg(feature = "hydrate")]
fn keep_refreshing<S, T, F, Fut>(
    key: Memo<S>,
    latest: RwSignal<Option<Result<T, AppError>>>,
    fetch: F,
) where
    S: PartialEq + Clone + Send + Sync + 'static,
    T: Send + Sync + 'static,
    F: Fn(S) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    let connection = connection();
    let paused = refresh_paused();
    Effect::new(move |started: Option<()>| {
        if started.is_some() {
            return;
        }
        let fetch = fetch.clone();
        leptos::task::spawn_local(async move {
            loop {
                gloo_timers::future::TimeoutFuture::new(REFRESH_MS).await;
                let Some(asked) = key.try_get_untracked() else {
                    break;
                };
                if tab_hidden() || paused.try_get_untracked().unwrap_or(false) {
                    connection.set(Connection::Paused);
                    continue;
                }
                match fetch(asked.clone()).await {
                    Ok(value) => {
                        connection.set(Connection::Live);
                        if key.try_get_untracked().as_ref() == Some(&asked)
                            && latest.try_set(Some(Ok(value))).is_some()
                        {
                            break;
                        }
                    }
                    // Keep showing the last answer; the banner says it may be stale.
                    Err(_) => connection.set(Connection::Offline),
                }
            }
        });
    });
}

#[cfg(not(feature = "hydrate"))]
fn keep_refreshing<S, T, F>(
    _key: Memo<S>,
    _latest: RwSignal<Option<Result<T, AppError>>>,
    _fetch: F,
) where
    S: Send + Sync + 'static,
    T: Send + Sync + 'static,
{
}

#[cfg(feature = "hydrate")]
fn tab_hidden() -> bool {
    document().visibility_state() == web_sys::VisibilityState::Hidden
}

/// The header's indicator: live, paused or offline, in words and colour.
#[component]
pub fn ConnectionIndicator() -> impl IntoView {
    let connection = connection();
    let (class, text) = (
        move || match connection.get() {
            Connection::Live => "indicator indicator-live",
            Connection::Paused => "indicator indicator-paused",
            Connection::Offline => "indicator indicator-offline",
        },
        move || match connection.get() {
            Connection::Live => "● live",
            Connection::Paused => "❚❚ paused",
            Connection::Offline => "✕ offline",
        },
    );
    view! {
        <span class=class data-testid="live-indicator" role="status" aria-live="polite">
            {text}
        </span>
    }
}

/// Pauses and resumes refreshing for this browser; the choice outlives a reload.
#[component]
pub fn RefreshToggle() -> impl IntoView {
    let paused = refresh_paused();
    let connection = connection();
    let toggle = move |_| {
        let now_paused = !paused.get_untracked();
        paused.set(now_paused);
        #[cfg(feature = "hydrate")]
        store_pause(now_paused);
        // Said at once; the next refresh confirms it.
        connection.set(if now_paused {
            Connection::Paused
        } else {
            Connection::Live
        });
    };
    view! {
        <button
            class="refresh-toggle"
            data-testid="refresh-toggle"
            data-shortcut="refresh"
            aria-pressed=move || paused.get().to_string()
            title="Pause or resume refreshing every 2 seconds (remembered by this browser)"
            on:click=toggle
        >
            {move || if paused.get() { "Resume refresh" } else { "Pause refresh" }}
        </button>
    }
}

/// A banner while the server cannot be reached; it goes away by itself on recovery.
#[component]
pub fn OfflineBanner() -> impl IntoView {
    let connection = connection();
    view! {
        <Show when=move || connection.get() == Connection::Offline>
            <div class="banner" role="alert" data-testid="offline-banner">
                "The server cannot be reached. Showing the last known state; retrying every 2 seconds…"
            </div>
        </Show>
    }
}
