//! The embedded reference server: a tokio-tungstenite echo server on 127.0.0.1 with an
//! ephemeral port, written the way tokio-tungstenite's own Autobahn server is, so that
//! `wsspec run` with no URL has something conformant to test.

use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// Agent name reported for the embedded server.
pub const AGENT: &str = "tokio-tungstenite 0.30 (embedded)";

/// A running reference server; stops when dropped.
pub struct RefServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl RefServer {
    /// `ws://127.0.0.1:PORT/`
    pub fn url(&self) -> String {
        format!("ws://{}/", self.addr)
    }
}

impl Drop for RefServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start the echo server on 127.0.0.1 (port 0 = ephemeral).
pub async fn start(port: u16) -> std::io::Result<RefServer> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(echo(stream));
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    });
    Ok(RefServer { addr, task })
}

/// Echo every text and binary message; any error ends the connection.
async fn echo(stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    while let Some(Ok(msg)) = ws.next().await {
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            return;
        }
    }
}
