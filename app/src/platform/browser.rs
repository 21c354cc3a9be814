//! Small wrappers over browser APIs the views share: saving a file, reading
//! a picked file, the clipboard, and the two storages.

use wasm_bindgen::JsCast;

/// Offers `contents` as a download named `name` (a `Blob` and a temporary
/// link). The error is a sentence the page can show.
pub fn download(name: &str, mime: &str, contents: &str) -> Result<(), String> {
    let failed = |what: &str| format!("The browser could not save {name}: {what}.");
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(contents));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options)
        .map_err(|_| failed("no Blob"))?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| failed("no URL"))?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| failed("no document"))?;
    let link: web_sys::HtmlAnchorElement = document
        .create_element("a")
        .map_err(|_| failed("no link"))?
        .unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.set_hidden(true);
    if let Some(body) = document.body() {
        let _ = body.append_child(&link);
        link.click();
        let _ = body.remove_child(&link);
    } else {
        link.click();
    }
    // The click has handed the blob to the download; revoking later is safe.
    let _ = web_sys::Url::revoke_object_url(&url);
    Ok(())
}

/// The text of the first file picked in a file `<input>`, with its name;
/// `None` when nothing is picked.
pub async fn read_picked_file(
    input: &web_sys::HtmlInputElement,
) -> Option<Result<(String, String), String>> {
    let file = input.files()?.get(0)?;
    let name = file.name();
    let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
    Some(match text.ok().and_then(|value| value.as_string()) {
        Some(text) => Ok((name, text)),
        None => Err(format!("The browser could not read {name} as text.")),
    })
}

/// For a file `<input>`'s change event: reads the picked file, clears the
/// input (so picking the same file again, edited or not, reads it again)
/// and hands `then` the name and text, or why it could not be read.
/// Nothing happens when nothing was picked.
pub fn on_file_picked(
    ev: &web_sys::Event,
    then: impl FnOnce(Result<(String, String), String>) + 'static,
) {
    use wasm_bindgen::JsCast;
    let Some(input) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
    else {
        return;
    };
    leptos::task::spawn_local(async move {
        let picked = read_picked_file(&input).await;
        input.set_value("");
        if let Some(picked) = picked {
            then(picked);
        }
    });
}

/// Copies text to the clipboard; silently does nothing where not allowed.
pub fn copy_text(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

/// Which storage: `Local` outlives the tab, `Session` dies with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Local,
    Session,
}

fn storage(store: Store) -> Option<web_sys::Storage> {
    let window = web_sys::window()?;
    match store {
        Store::Local => window.local_storage().ok().flatten(),
        Store::Session => window.session_storage().ok().flatten(),
    }
}

pub fn load(store: Store, key: &str) -> Option<String> {
    storage(store)?.get_item(key).ok().flatten()
}

pub fn save(store: Store, key: &str, value: &str) {
    if let Some(storage) = storage(store) {
        let _ = storage.set_item(key, value);
    }
}

pub fn forget(store: Store, key: &str) {
    if let Some(storage) = storage(store) {
        let _ = storage.remove_item(key);
    }
}

/// The URL fragment, e.g. `#view=plan`.
pub fn fragment() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// Replaces the fragment without adding a history entry or scrolling.
pub fn replace_fragment(fragment: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if window.location().hash().ok().as_deref() == Some(fragment) {
        return;
    }
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(fragment));
    }
}

/// The HTTP version the browser used for the last request it timed under
/// `prefix` (`"h2"`, `"h3"`, `"http/1.1"`), from the page's resource
/// timing entries; `None` where the browser does not say (a registry on
/// another origin without `Timing-Allow-Origin` may show nothing).
pub fn protocol_of_last(prefix: &str) -> Option<String> {
    let window = web_sys::window()?;
    let performance = js_sys::Reflect::get(&window, &"performance".into()).ok()?;
    let entries = js_sys::Reflect::get(&performance, &"getEntriesByType".into())
        .ok()?
        .dyn_into::<js_sys::Function>()
        .ok()?
        .call1(&performance, &"resource".into())
        .ok()?
        .dyn_into::<js_sys::Array>()
        .ok()?;
    entries.iter().rev().find_map(|entry| {
        let name = js_sys::Reflect::get(&entry, &"name".into())
            .ok()?
            .as_string()?;
        if !name.starts_with(prefix) {
            return None;
        }
        js_sys::Reflect::get(&entry, &"nextHopProtocol".into())
            .ok()?
            .as_string()
            .filter(|protocol| !protocol.is_empty())
    })
}
