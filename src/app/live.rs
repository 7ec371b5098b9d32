//! Keeping a view live: re-fetch through a server function every two seconds, one request
//! at a time, for as long as the component that asked is mounted.

use leptos::prelude::*;

/// How often the dashboard refreshes.
pub const REFRESH_MS: u32 = 2_000;

/// Calls `fetch` every [`REFRESH_MS`] (after the previous call has answered) and stores
/// each answer in `target`. Runs in the browser only; stops when `target` is disposed.
pub fn refresh_every<T, Fut>(target: RwSignal<Option<T>>, fetch: impl Fn() -> Fut + 'static)
where
    T: Send + Sync + 'static,
    Fut: std::future::Future<Output = T> + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        let fetch = std::rc::Rc::new(fetch);
        Effect::new(move |started: Option<()>| {
            if started.is_some() {
                return;
            }
            let fetch = std::rc::Rc::clone(&fetch);
            leptos::task::spawn_local(async move {
                loop {
                    gloo_timers::future::TimeoutFuture::new(REFRESH_MS).await;
                    let value = fetch().await;
                    if target.try_set(Some(value)).is_some() {
                        break;
                    }
                }
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (target, fetch, REFRESH_MS);
    }
}
