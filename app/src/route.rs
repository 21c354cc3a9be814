//! The state a link carries: which registry, which view, which repository.
//!
//! It lives in the URL's fragment (`#registry=…&view=plan&repo=acme/api`), so
//! the page works under any sub-path and a static server never sees it.
//! Credentials never go here.

/// The dashboard's views, one tab each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum View {
    #[default]
    Inventory,
    Policy,
    Plan,
    Restore,
}

impl View {
    pub const ALL: [View; 4] = [View::Inventory, View::Policy, View::Plan, View::Restore];

    /// The word in the URL and in `data-testid="tab-…"`.
    pub fn key(self) -> &'static str {
        match self {
            View::Inventory => "inventory",
            View::Policy => "policy",
            View::Plan => "plan",
            View::Restore => "restore",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            View::Inventory => "Inventory",
            View::Policy => "Policy",
            View::Plan => "Plan and apply",
            View::Restore => "Restore",
        }
    }

    pub fn from_key(key: &str) -> Option<View> {
        View::ALL.into_iter().find(|view| view.key() == key)
    }
}

/// What the fragment says. Unknown keys and values are ignored, so an old or
/// hand-edited link still opens the page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Route {
    pub registry: Option<String>,
    pub view: View,
    pub repository: Option<String>,
    /// The Repositories field of the connect form: names and name prefixes
    /// (ending in `/`) to scan instead of the whole catalog, in the URL as
    /// `scope=a/b,c/` (repository names hold no `,`).
    pub scope: Vec<String>,
}

impl Route {
    /// Reads `#a=b&c=d` (the leading `#` is optional).
    pub fn from_fragment(fragment: &str) -> Route {
        let mut route = Route::default();
        for pair in fragment.trim_start_matches('#').split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value);
            match key {
                "registry" if !value.is_empty() => route.registry = Some(value),
                "view" => route.view = View::from_key(&value).unwrap_or_default(),
                "repo" if !value.is_empty() => route.repository = Some(value),
                "scope" => {
                    route.scope = value
                        .split(',')
                        .map(str::trim)
                        .filter(|name| !name.is_empty())
                        .map(str::to_owned)
                        .collect();
                }
                _ => {}
            }
        }
        route
    }

    /// The scope as the Repositories field shows it: one a line.
    pub fn scope_text(&self) -> String {
        self.scope.join("\n")
    }

    /// Takes the Repositories field's lines (blank ones and `#` comments
    /// left out).
    pub fn set_scope_text(&mut self, text: &str) {
        self.scope = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(str::to_owned)
            .collect();
    }

    /// `#registry=…&scope=…&view=…&repo=…`, leaving out what is unset.
    pub fn to_fragment(&self) -> String {
        let mut parts = Vec::new();
        if let Some(registry) = &self.registry {
            parts.push(format!("registry={}", encode(registry)));
        }
        if !self.scope.is_empty() {
            parts.push(format!("scope={}", encode(&self.scope.join(","))));
        }
        parts.push(format!("view={}", self.view.key()));
        if let Some(repository) = &self.repository {
            parts.push(format!("repo={}", encode(repository)));
        }
        format!("#{}", parts.join("&"))
    }
}

/// Percent-encodes everything but unreserved characters, `/` and `:`, which
/// keeps registry URLs and repository names readable in the address bar.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' | b':' => {
                out.push(char::from(byte))
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// Undoes [`encode`]; a malformed escape stays as it is.
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_route_survives_the_fragment() {
        let route = Route {
            registry: Some("https://registry.example:5000".into()),
            view: View::Plan,
            repository: Some("acme/api server".into()),
            scope: Vec::new(),
        };
        let fragment = route.to_fragment();
        assert_eq!(
            fragment,
            "#registry=https://registry.example:5000&view=plan&repo=acme/api%20server"
        );
        assert_eq!(Route::from_fragment(&fragment), route);
    }

    #[test]
    fn unknown_or_broken_parts_are_ignored() {
        assert_eq!(Route::from_fragment(""), Route::default());
        let route = Route::from_fragment("#view=nonsense&x=1&repo=a%2&registry=");
        assert_eq!(route.view, View::Inventory);
        assert_eq!(route.repository.as_deref(), Some("a%2"));
        assert_eq!(route.registry, None);
        assert_eq!(
            Route::from_fragment("view=restore").view,
            View::Restore,
            "the # is optional"
        );
    }

    #[test]
    fn the_scope_survives_the_fragment() {
        let mut route = Route {
            registry: Some("http://r".into()),
            ..Route::default()
        };
        route.set_scope_text("team/app\n\n  # a note\n group/ \n");
        assert_eq!(route.scope, ["team/app", "group/"]);
        let fragment = route.to_fragment();
        assert_eq!(
            fragment,
            "#registry=http://r&scope=team/app%2Cgroup/&view=inventory"
        );
        let back = Route::from_fragment(&fragment);
        assert_eq!(back, route);
        assert_eq!(back.scope_text(), "team/app\ngroup/");
        assert!(Route::from_fragment("#scope=,,").scope.is_empty());
    }

    #[test]
    fn separators_in_values_are_escaped() {
        let route = Route {
            registry: Some("http://r/?a=b&c".into()),
            ..Route::default()
        };
        assert_eq!(Route::from_fragment(&route.to_fragment()), route);
    }
}
