//! The voice benchmark's peer: a throwaway Janus (Debian's `janus` package, 1.1.2 on
//! bookworm) with a generated minimal configuration — only the videoroom plugin and the
//! HTTP transport, on a free loopback port — driven through its HTTP API: one session, a
//! handle per PeerConnection, and a long poll that routes events to handles.
//!
//! Janus (libnice) never gathers ICE candidates on the loopback interface, so its media runs
//! on the host's own address (`ice_enforce_list` names only that address, and the clients
//! bind to it). Linux routes traffic to a local address through the loopback device all the
//! same: no network card is involved.

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::servers::free_port;

/// The videoroom room every participant joins, defined in the generated configuration.
pub const ROOM: u64 = 1234;
/// How long a videoroom request may take to bring its event.
const EVENT_LIMIT: Duration = Duration::from_secs(15);
const LIBRARIES: &str = "/usr/lib/x86_64-linux-gnu/janus";

/// A plugin event: its `plugindata.data` and the JSEP it carried, if any.
pub struct PluginEvent {
    pub data: Value,
    pub jsep: Option<Value>,
}

type Routes = Arc<Mutex<HashMap<u64, mpsc::UnboundedSender<Value>>>>;

pub struct Janus {
    child: Child,
    /// The host address Janus's ICE uses; clients bind to it too.
    media_ip: IpAddr,
    http: reqwest::Client,
    /// `http://127.0.0.1:port/janus/<session>`.
    session_url: String,
    routes: Routes,
    poller: tokio::task::JoinHandle<()>,
    /// Holds the generated configuration for as long as Janus runs.
    _config_dir: tempfile::TempDir,
}

/// A JSEP object for Janus from str0m's SDP (which serialises as `{"type", "sdp"}`); the
/// SDP already holds the client's candidate, so there is no trickle.
pub fn jsep(sdp: &impl serde::Serialize) -> anyhow::Result<Value> {
    let mut jsep = serde_json::to_value(sdp)?;
    jsep["trickle"] = json!(false);
    Ok(jsep)
}

impl Janus {
    pub async fn start(janus_bin: &str) -> anyhow::Result<Janus> {
        let config_dir = tempfile::Builder::new()
            .prefix("madang-bench-janus-")
            .tempdir()?;
        let port = free_port()?;
        let media_ip = host_address()?;
        write_config(config_dir.path(), port, media_ip)?;
        let child = Command::new(janus_bin)
            .arg("--configs-folder")
            .arg(config_dir.path())
            .arg("--config")
            .arg(config_dir.path().join("janus.jcfg"))
            .arg("--disable-colors")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {janus_bin} (Debian: apt-get install janus)"))?;
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}/janus");
        let deadline = Instant::now() + Duration::from_secs(30);
        let session = loop {
            if let Ok(answer) = request(&http, &base, json!({"janus": "create"})).await {
                break answer["data"]["id"]
                    .as_u64()
                    .context("a Janus session without an id")?;
            }
            anyhow::ensure!(Instant::now() < deadline, "Janus did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let session_url = format!("{base}/{session}");
        let routes = Routes::default();
        let poller = tokio::spawn(poll_events(
            http.clone(),
            session_url.clone(),
            routes.clone(),
        ));
        Ok(Janus {
            child,
            media_ip,
            http,
            session_url,
            routes,
            poller,
            _config_dir: config_dir,
        })
    }

    pub fn media_ip(&self) -> IpAddr {
        self.media_ip
    }

    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    pub async fn stop(mut self) {
        self.poller.abort();
        let _ = self.child.kill().await;
    }

    /// Attaches a videoroom handle and starts routing its events to it.
    pub async fn attach(&self) -> anyhow::Result<Handle> {
        let answer = request(
            &self.http,
            &self.session_url,
            json!({"janus": "attach", "plugin": "janus.plugin.videoroom"}),
        )
        .await?;
        let id = answer["data"]["id"]
            .as_u64()
            .context("a Janus handle without an id")?;
        let (events, inbox) = mpsc::unbounded_channel();
        self.routes.lock().unwrap().insert(id, events);
        Ok(Handle { id, inbox })
    }

    /// Sends a videoroom request and waits for its plugin event (Janus acknowledges the
    /// request at once and delivers the result through the long poll).
    pub async fn message(
        &self,
        handle: &mut Handle,
        body: Value,
        jsep: Option<Value>,
    ) -> anyhow::Result<PluginEvent> {
        let mut message = json!({"janus": "message", "body": body});
        if let Some(jsep) = jsep {
            message["jsep"] = jsep;
        }
        request(
            &self.http,
            &format!("{}/{}", self.session_url, handle.id),
            message,
        )
        .await?;
        loop {
            let event = tokio::time::timeout(EVENT_LIMIT, handle.inbox.recv())
                .await
                .context("Janus sent no event within 15 s")?
                .context("Janus's event stream ended")?;
            if event["janus"] != "event" {
                continue; // webrtcup, media, slowlink: not the answer to a request
            }
            let data = event["plugindata"]["data"].clone();
            anyhow::ensure!(data.get("error").is_none(), "Janus refused: {data}");
            return Ok(PluginEvent {
                data,
                jsep: event.get("jsep").cloned(),
            });
        }
    }
}

impl Handle {
    /// Waits until Janus says the handle's PeerConnection is up (ICE and DTLS done):
    /// Janus lets subscribers see a publisher only from then on.
    pub async fn webrtc_up(&mut self) -> anyhow::Result<()> {
        loop {
            let event = tokio::time::timeout(EVENT_LIMIT, self.inbox.recv())
                .await
                .context("Janus's PeerConnection did not come up within 15 s")?
                .context("Janus's event stream ended")?;
            match event["janus"].as_str() {
                Some("webrtcup") => return Ok(()),
                Some("hangup") => anyhow::bail!("Janus hung up: {event}"),
                _ => {}
            }
        }
    }
}

/// A videoroom handle (one PeerConnection) and the events Janus sent it.
pub struct Handle {
    id: u64,
    inbox: mpsc::UnboundedReceiver<Value>,
}

/// Sends a Janus API request with a fresh transaction; its synchronous answer (`success`
/// or `ack`), or the error Janus gave.
async fn request(http: &reqwest::Client, url: &str, mut body: Value) -> anyhow::Result<Value> {
    static TRANSACTIONS: AtomicU64 = AtomicU64::new(0);
    body["transaction"] = json!(format!("t{}", TRANSACTIONS.fetch_add(1, Ordering::Relaxed)));
    let answer: Value = http.post(url).json(&body).send().await?.json().await?;
    anyhow::ensure!(
        answer["janus"] == "success" || answer["janus"] == "ack",
        "Janus answered {answer}"
    );
    Ok(answer)
}

/// The session's long poll: every event goes to the handle it names (`sender`). Janus keeps
/// the session alive while it is polled.
async fn poll_events(http: reqwest::Client, session_url: String, routes: Routes) {
    let url = format!("{session_url}?maxev=50");
    loop {
        let Ok(response) = http.get(&url).send().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(body) = response.json::<Value>().await else {
            continue;
        };
        let events = match body {
            Value::Array(events) => events,
            event => vec![event],
        };
        for event in events {
            let Some(sender) = event["sender"].as_u64() else {
                continue;
            };
            if let Some(route) = routes.lock().unwrap().get(&sender) {
                let _ = route.send(event);
            }
        }
    }
}

/// The address of the interface the default route leaves through (connecting a UDP socket
/// only picks the route; nothing is sent).
fn host_address() -> anyhow::Result<IpAddr> {
    let probe = std::net::UdpSocket::bind("0.0.0.0:0")?;
    probe
        .connect("203.0.113.1:9")
        .context("Janus needs a non-loopback IPv4 address (a default route) for its ICE")?;
    Ok(probe.local_addr()?.ip())
}

/// janus.jcfg, the HTTP transport's and the videoroom's configuration: everything else is
/// disabled so Janus loads only what the benchmark uses.
fn write_config(dir: &Path, port: u16, media_ip: IpAddr) -> anyhow::Result<()> {
    let disabled = |folder: &str, keep: &str| -> anyhow::Result<String> {
        let mut names: Vec<String> = std::fs::read_dir(format!("{LIBRARIES}/{folder}"))
            .with_context(|| format!("{LIBRARIES}/{folder}: is Janus installed?"))?
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name.ends_with(".so") && name != keep)
            .collect();
        names.sort();
        Ok(names.join(","))
    };
    let plugins = disabled("plugins", "libjanus_videoroom.so")?;
    let transports = disabled("transports", "libjanus_http.so")?;
    let loggers = disabled("loggers", "")?;
    let events = disabled("events", "")?;
    let dir_text = dir.display();
    std::fs::write(
        dir.join("janus.jcfg"),
        format!(
            r#"general: {{
	configs_folder = "{dir_text}"
	plugins_folder = "{LIBRARIES}/plugins"
	transports_folder = "{LIBRARIES}/transports"
	events_folder = "{LIBRARIES}/events"
	loggers_folder = "{LIBRARIES}/loggers"
	debug_level = 2
}}
media: {{
	rtp_port_range = "20000-40000"
}}
nat: {{
	ice_enforce_list = "{media_ip}"
	ignore_mdns = true
}}
plugins: {{
	disable = "{plugins}"
}}
transports: {{
	disable = "{transports}"
}}
loggers: {{
	disable = "{loggers}"
}}
events: {{
	broadcast = false
	disable = "{events}"
}}
"#
        ),
    )?;
    std::fs::write(
        dir.join("janus.transport.http.jcfg"),
        format!(
            r#"general: {{
	json = "compact"
	base_path = "/janus"
	http = true
	port = {port}
	ip = "127.0.0.1"
	https = false
}}
admin: {{
	admin_http = false
	admin_https = false
}}
"#
        ),
    )?;
    std::fs::write(
        dir.join("janus.plugin.videoroom.jcfg"),
        format!(
            r#"general: {{
}}
room-{ROOM}: {{
	description = "madang-bench"
	publishers = 1000
	audiocodec = "opus"
	videocodec = "vp8"
	audiolevel_ext = true
	audiolevel_event = false
	record = false
}}
"#
        ),
    )?;
    Ok(())
}
