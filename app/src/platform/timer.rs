//! Time in the browser: the one timer every wait of the dashboard goes
//! through (the transport's retry pauses, the planner's pauses, yielding to
//! the page), and the clock.

use time::OffsetDateTime;

/// Waits `ms` milliseconds on a `setTimeout`; goes on at once where there
/// is no window or no timer (rather than hang).
pub async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let scheduled = web_sys::window().map(|window| {
            window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
        });
        if !matches!(scheduled, Some(Ok(_))) {
            let _ = resolve.call0(&wasm_bindgen::JsValue::UNDEFINED);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Lets the browser paint and handle input before long work goes on.
pub async fn yield_now() {
    sleep_ms(0).await;
}

/// The browser clock now.
pub fn now() -> OffsetDateTime {
    from_unix_millis(js_sys::Date::now())
}

/// The browser clock's milliseconds as a time; the epoch if out of range.
pub fn from_unix_millis(millis: f64) -> OffsetDateTime {
    (millis as i128)
        .checked_mul(1_000_000)
        .and_then(|nanos| OffsetDateTime::from_unix_timestamp_nanos(nanos).ok())
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn browser_milliseconds_become_a_time() {
        assert_eq!(
            from_unix_millis(1_780_272_000_000.0),
            datetime!(2026-06-01 0:00 UTC)
        );
        assert_eq!(from_unix_millis(f64::MAX), OffsetDateTime::UNIX_EPOCH);
    }
}
