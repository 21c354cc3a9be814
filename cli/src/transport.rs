//! The native [`Transport`]: blocking HTTP through ureq, one thread per
//! request so a scan's concurrent requests really run side by side.

use std::time::Duration;

use cleanreg_core::{Transport, TransportError};
use futures_channel::oneshot;
use http::{Request, Response};
use time::OffsetDateTime;

/// Manifests and configs are small; this only stops a runaway answer.
const MAX_BODY: u64 = 64 * 1024 * 1024;

pub struct NativeTransport {
    agent: ureq::Agent,
}

impl NativeTransport {
    /// `use_env_proxy`: honour `HTTP(S)_PROXY`; the original cleanreg reached
    /// the registry without a proxy unless asked (`-p`).
    pub fn new(use_env_proxy: bool) -> NativeTransport {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // The client follows redirects itself, so credentials stay on the registry.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .proxy(if use_env_proxy {
                ureq::Proxy::try_from_env()
            } else {
                None
            })
            .timeout_global(Some(Duration::from_secs(120)))
            .user_agent(concat!("cleanreg/", env!("CARGO_PKG_VERSION")))
            .build();
        NativeTransport {
            agent: ureq::Agent::new_with_config(config),
        }
    }
}

fn send_blocking(
    agent: &ureq::Agent,
    request: Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, TransportError> {
    let response = agent
        .run(request)
        .map_err(|e| TransportError(e.to_string()))?;
    let (parts, body) = response.into_parts();
    let bytes = body
        .into_with_config()
        .limit(MAX_BODY)
        .read_to_vec()
        .map_err(|e| TransportError(format!("reading the answer: {e}")))?;
    Ok(Response::from_parts(parts, bytes))
}

impl Transport for NativeTransport {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let (answer, answered) = oneshot::channel();
        let agent = self.agent.clone();
        std::thread::Builder::new()
            .name("cleanreg-http".into())
            .spawn(move || {
                let _ = answer.send(send_blocking(&agent, request));
            })
            .map_err(|e| TransportError(format!("could not start a request thread: {e}")))?;
        answered
            .await
            .map_err(|_| TransportError("the request thread ended without an answer".into()))?
    }

    async fn sleep(&self, duration: Duration) {
        let (done, waited) = oneshot::channel::<()>();
        let started = std::thread::Builder::new()
            .name("cleanreg-wait".into())
            .spawn(move || {
                std::thread::sleep(duration);
                let _ = done.send(());
            });
        match started {
            Ok(_) => {
                let _ = waited.await;
            }
            Err(_) => std::thread::sleep(duration),
        }
    }

    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}
