//! The reference client: tokio-tungstenite's WebSocket client as an Autobahn testee,
//! echoing every text and binary message of a case until the server closes. The logic
//! is that of tokio-tungstenite's `autobahn-client` example (no size limits, pings
//! answered and closes replied by the library), plus a time limit per connection so a
//! case never hangs the driver loop.

use anyhow::{Context, Result};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Error as WsError;

/// Play one case: connect to `url` (a `/runCase` URL, or any echo test URL), echo until
/// the connection ends. `Ok` when it ended with a closing handshake; a protocol error
/// (which a case may provoke on purpose) or the time limit is an `Err`.
pub async fn play(url: &str, limit: Duration) -> Result<()> {
    let config = WebSocketConfig::default()
        .max_message_size(None)
        .max_frame_size(None);
    let work = async {
        let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
            .await
            .with_context(|| format!("connecting to {url}"))?;
        while let Some(msg) = ws.next().await {
            let msg = match msg {
                Ok(m) => m,
                Err(WsError::ConnectionClosed) => break,
                Err(e) => return Err(e).context("receiving"),
            };
            if msg.is_text() || msg.is_binary() {
                match ws.send(msg).await {
                    Ok(()) => {}
                    Err(WsError::ConnectionClosed) => break,
                    Err(e) => return Err(e).context("echoing"),
                }
            }
        }
        Ok(())
    };
    timeout(limit, work)
        .await
        .with_context(|| format!("{url}: not finished within {} s", limit.as_secs_f64()))?
}
