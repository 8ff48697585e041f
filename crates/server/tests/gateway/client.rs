//! A gateway client for tests: speaks the protocol over a real WebSocket and checks, on
//! every dispatch, that `s` goes up by exactly one.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Generous: CI machines are slow and shared.
pub const WAIT: Duration = Duration::from_secs(20);

#[derive(Debug)]
pub enum Frame {
    Json(Value),
    Closed(Option<u16>),
}

pub struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The last `s` received.
    pub seq: i64,
    pub session_id: Option<String>,
    pub heartbeat_interval_ms: u64,
}

#[derive(Debug, Clone)]
pub struct Dispatch {
    pub t: String,
    pub s: Option<i64>,
    pub d: Value,
}

impl Client {
    pub async fn connect(address: SocketAddr) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{address}/gateway"))
            .await
            .expect("the gateway accepts");
        let mut client = Client {
            ws,
            seq: 0,
            session_id: None,
            heartbeat_interval_ms: 0,
        };
        let hello = client.json().await;
        assert_eq!(hello["op"], "hello", "{hello}");
        client.heartbeat_interval_ms = hello["d"]["heartbeat_interval_ms"].as_u64().unwrap();
        client
    }

    /// The HTTP status of an upgrade attempt that sends `origin`.
    pub async fn upgrade_status(address: SocketAddr, origin: &str) -> u16 {
        let mut request = format!("ws://{address}/gateway")
            .into_client_request()
            .unwrap();
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
        match tokio_tungstenite::connect_async(request).await {
            Ok(_) => 101,
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                response.status().as_u16()
            }
            Err(other) => panic!("unexpected upgrade failure: {other}"),
        }
    }

    pub async fn send(&mut self, frame: Value) {
        self.ws
            .send(Message::Text(frame.to_string().into()))
            .await
            .expect("send a frame");
    }

    pub async fn send_raw(&mut self, message: Message) {
        self.ws.send(message).await.expect("send a frame");
    }

    pub async fn frame(&mut self) -> Frame {
        self.frame_within(WAIT).await
    }

    /// The next frame, allowing `wait` for it (for what takes longer than [`WAIT`]).
    pub async fn frame_within(&mut self, wait: Duration) -> Frame {
        loop {
            let message = tokio::time::timeout(wait, self.ws.next())
                .await
                .expect("a frame within the wait");
            match message {
                Some(Ok(Message::Text(text))) => {
                    return Frame::Json(
                        serde_json::from_str(&text).expect("server frames are JSON"),
                    );
                }
                Some(Ok(Message::Close(frame))) => {
                    return Frame::Closed(frame.map(|f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => return Frame::Closed(None),
            }
        }
    }

    pub async fn json(&mut self) -> Value {
        match self.frame().await {
            Frame::Json(value) => value,
            Frame::Closed(code) => panic!("closed with {code:?} while waiting for a frame"),
        }
    }

    /// The next dispatch (skipping heartbeat acks), checking that `s` follows on.
    pub async fn dispatch(&mut self) -> Dispatch {
        loop {
            let frame = self.json().await;
            if frame["op"] == "heartbeat_ack" {
                continue;
            }
            assert_eq!(frame["op"], "dispatch", "expected a dispatch, got {frame}");
            let s = frame["s"].as_i64();
            if let Some(s) = s {
                assert_eq!(s, self.seq + 1, "s must go up by one: {frame}");
                self.seq = s;
            }
            return Dispatch {
                t: frame["t"].as_str().unwrap().to_owned(),
                s,
                d: frame["d"].clone(),
            };
        }
    }

    /// The next dispatch of type `t`, skipping unsequenced ones (presence, typing).
    pub async fn expect(&mut self, t: &str) -> Value {
        loop {
            let dispatch = self.dispatch().await;
            if dispatch.s.is_none() && dispatch.t != t {
                continue;
            }
            assert_eq!(
                dispatch.t, t,
                "expected {t}, got {} {}",
                dispatch.t, dispatch.d
            );
            return dispatch.d;
        }
    }

    /// The next sequenced dispatch, whatever it is.
    pub async fn next_sequenced(&mut self) -> Dispatch {
        loop {
            let dispatch = self.dispatch().await;
            if dispatch.s.is_some() {
                return dispatch;
            }
        }
    }

    pub async fn identify(&mut self, token: &str) -> Value {
        self.send(json!({"op": "identify", "d": {"token": token}}))
            .await;
        let ready = self.expect("READY").await;
        self.session_id = Some(ready["session_id"].as_str().unwrap().to_owned());
        ready
    }

    pub async fn connect_and_identify(address: SocketAddr, token: &str) -> Client {
        let mut client = Client::connect(address).await;
        client.identify(token).await;
        client
    }

    /// Reconnects to `address` and resumes this session after the last `s` received; the
    /// dispatches replayed before RESUMED are returned.
    pub async fn resume(self, address: SocketAddr, token: &str) -> (Client, Vec<Dispatch>) {
        let session_id = self.session_id.clone().expect("identified");
        let seq = self.seq;
        drop(self);
        let mut client = Client::connect(address).await;
        client.seq = seq;
        client.session_id = Some(session_id.clone());
        client.send(json!({"op": "resume", "d": {"token": token, "session_id": session_id, "seq": seq}})).await;
        let mut replayed = Vec::new();
        loop {
            let dispatch = client.dispatch().await;
            if dispatch.t == "RESUMED" {
                return (client, replayed);
            }
            if dispatch.s.is_some() {
                replayed.push(dispatch);
            }
        }
    }

    /// Waits for the server to close the connection; its close code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            match self.frame().await {
                Frame::Closed(code) => return code,
                Frame::Json(_) => continue,
            }
        }
    }
}
