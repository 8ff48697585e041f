//! `raw-broadcast LISTEN_ADDR`: the ceiling madang's fan-out is compared with. Connections
//! to `/sub` receive every text frame that any connection to `/pub` sends (each publish is
//! answered `ack` once queued for every subscriber); nothing is authenticated or stored.
//! Each subscriber has a queue drained by its own task, which writes up to [`WRITE_BATCH`]
//! frames per flush, the same batching madang's gateway does.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{
    Callback, ErrorResponse, Request, Response,
};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Frames written per flush.
const WRITE_BATCH: usize = 256;
/// Frames queued for one subscriber; further frames for it are dropped, and the load
/// generator counts them as lost.
const QUEUE_CAPACITY: usize = 4096;

/// The subscribers' queues; a std mutex because publishing never awaits while holding it.
type Subscribers = Arc<Mutex<Vec<mpsc::Sender<Utf8Bytes>>>>;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let listen: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9300".into())
        .parse()?;
    let listener = TcpListener::bind(listen).await?;
    eprintln!("raw-broadcast listening on {}", listener.local_addr()?);
    let subscribers: Subscribers = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream, subscribers.clone()));
    }
}

/// Notes the request path during the WebSocket handshake.
struct RememberPath<'a>(&'a mut String);

impl Callback for RememberPath<'_> {
    fn on_request(self, request: &Request, response: Response) -> Result<Response, ErrorResponse> {
        *self.0 = request.uri().path().to_owned();
        Ok(response)
    }
}

async fn serve(stream: TcpStream, subscribers: Subscribers) {
    let mut path = String::new();
    // A small read buffer keeps idle connections cheap, as in madang's gateway.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let Ok(socket) = tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        RememberPath(&mut path),
        Some(config),
    )
    .await
    else {
        return;
    };
    let (mut sink, mut source) = socket.split();
    match path.as_str() {
        "/pub" => {
            while let Some(Ok(message)) = source.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                subscribers
                    .lock()
                    .expect("subscribers mutex poisoned")
                    .retain(|queue| {
                        !matches!(
                            queue.try_send(text.clone()),
                            Err(mpsc::error::TrySendError::Closed(_))
                        )
                    });
                // Acknowledged once queued for every subscriber, as madang and the Socket.IO
                // peer acknowledge after publishing: a publisher waiting for acks cannot
                // outrun the server and fill its socket with frames read seconds later.
                if sink
                    .send(Message::Text(Utf8Bytes::from_static("ack")))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
        "/sub" => {
            let (queue, mut frames) = mpsc::channel(QUEUE_CAPACITY);
            subscribers
                .lock()
                .expect("subscribers mutex poisoned")
                .push(queue);
            let mut batch = Vec::with_capacity(WRITE_BATCH);
            loop {
                tokio::select! {
                    count = frames.recv_many(&mut batch, WRITE_BATCH) => {
                        if count == 0 { break }
                        let mut written = true;
                        for text in batch.drain(..) {
                            if sink.feed(Message::Text(text)).await.is_err() { written = false; break }
                        }
                        if !written || sink.flush().await.is_err() { break }
                    }
                    received = source.next() => if !matches!(received, Some(Ok(_))) { break },
                }
            }
        }
        _ => {
            let _ = sink.close().await;
        }
    }
}
