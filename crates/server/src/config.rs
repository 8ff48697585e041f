//! The one configuration type. The binary fills it from defaults, then an optional TOML
//! file, then `MADANG_*` environment variables, then command-line flags, and passes it down;
//! nothing reads the environment behind its back.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to serve HTTP and the gateway on.
    pub listen: SocketAddr,
    /// Where the SQLite database and other local state live.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means an SQLite file in `data_dir`.
    pub database_url: String,
    /// `local` (in-process) or `nats://…` for a cluster.
    pub bus_url: String,
    /// The URL people reach this server at, e.g. `https://chat.example.com`. Used for the
    /// browser origin check and for `Secure` cookies; empty means "the host asked for".
    pub public_url: String,
    /// This node's number in a cluster (0–1023); every node needs its own, since ids carry it.
    pub node_id: u16,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Trust the last `X-Forwarded-For` hop as the client address (only behind a proxy
    /// that sets it).
    pub trust_forwarded_for: bool,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    pub access_token_ttl_seconds: i64,
    pub refresh_token_ttl_days: i64,
    pub password_hashing: PasswordHashing,
    pub rate_limits: RateLimits,
    pub gateway: GatewayConfig,
    pub voice: VoiceConfig,
}

/// The WebSocket gateway's timings and limits.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayConfig {
    /// How often clients must heartbeat; a session without one for 1.5 intervals is closed.
    pub heartbeat_interval_ms: u64,
    /// How long a disconnected session can be resumed, and events are kept for it (≥ 120).
    pub resume_window_seconds: u64,
    /// How long a user stays online after their last session ends, to ride out reconnects.
    pub presence_grace_ms: u64,
    /// Dispatches queued for one session before it counts as too slow and is closed.
    pub session_queue_capacity: usize,
    /// Name of the cluster: the prefix of its NATS subjects, so clusters can share a server.
    pub cluster_name: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            heartbeat_interval_ms: 41_250,
            resume_window_seconds: 300,
            presence_grace_ms: 5_000,
            session_queue_capacity: 4096,
            cluster_name: "madang".into(),
        }
    }
}

/// Voice and video calls: the SFU's UDP port, what it announces, limits, and TURN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VoiceConfig {
    /// Serve voice channels at all; when off, voice ops answer `unavailable`.
    pub enabled: bool,
    /// The one UDP socket every call's media goes through (10000, as Jitsi's bridge, so it
    /// stays clear of TURN's 3478 on the same host). Port 0 picks a free port (tests).
    pub udp_bind: SocketAddr,
    /// IP addresses announced to browsers as ICE host candidates, with the bound port: the
    /// public IP of a server behind 1:1 NAT, or the LAN address. Empty: the bind address, or
    /// when that is unspecified (`0.0.0.0`) the address of the default route's interface.
    pub public_addresses: Vec<IpAddr>,
    /// People per voice channel at most, whatever a channel's `user_limit` says.
    pub max_participants_per_channel: usize,
    /// Upper bound on the video bitrate sent to one participant, in bits per second.
    pub max_video_bitrate: u64,
    /// TURN servers for clients behind strict NAT, e.g. `turn:turn.example.com:3478?transport=udp`.
    pub turn_urls: Vec<String>,
    /// coturn's `static-auth-secret`; credentials are minted from it (`use-auth-secret`).
    pub turn_secret: String,
    /// How long a minted TURN credential is valid.
    pub turn_credential_ttl_seconds: u64,
    /// How often a node marks its calls and its holds on voice channels alive.
    pub refresh_interval_ms: u64,
    /// A call or hold not marked alive for this long belongs to a node that stopped: another
    /// node removes the call, announcing the departure, and the next join takes the channel
    /// over. At least twice `refresh_interval_ms`, so one late refresh does not end live calls.
    pub stale_after_ms: u64,
}

impl VoiceConfig {
    pub fn refresh_interval(&self) -> Duration {
        Duration::from_millis(self.refresh_interval_ms)
    }

    pub fn stale_after(&self) -> Duration {
        Duration::from_millis(self.stale_after_ms)
    }
}

impl Default for VoiceConfig {
    fn default() -> Self {
        VoiceConfig {
            enabled: true,
            udp_bind: SocketAddr::from(([0, 0, 0, 0], 10000)),
            public_addresses: Vec::new(),
            max_participants_per_channel: 25,
            max_video_bitrate: 4_000_000,
            turn_urls: Vec::new(),
            turn_secret: String::new(),
            turn_credential_ttl_seconds: 12 * 60 * 60,
            refresh_interval_ms: 15_000,
            stale_after_ms: 60_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// argon2id cost. The defaults are OWASP's recommendation (19 MiB, 2 passes).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordHashing {
    pub memory_kib: u32,
    pub iterations: u32,
}

/// Requests allowed per client before 429: `burst` at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub per_minute: u32,
    pub burst: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Register and login, per client address (guessing passwords).
    pub auth: Quota,
    /// Token refreshes, per client address. Looser than `auth`: a refresh token cannot be
    /// guessed, and every page load of the web client spends one.
    pub refresh: Quota,
    /// Invite previews and joins, per client address (guessing codes).
    pub invites: Quota,
    /// Every authenticated request, per user.
    pub user: Quota,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            bus_url: "local".into(),
            public_url: String::new(),
            node_id: 0,
            log_format: LogFormat::Text,
            trust_forwarded_for: false,
            body_limit_bytes: 1024 * 1024,
            access_token_ttl_seconds: 15 * 60,
            refresh_token_ttl_days: 30,
            password_hashing: PasswordHashing::default(),
            rate_limits: RateLimits::default(),
            gateway: GatewayConfig::default(),
            voice: VoiceConfig::default(),
        }
    }
}

impl Default for PasswordHashing {
    fn default() -> Self {
        PasswordHashing {
            memory_kib: 19 * 1024,
            iterations: 2,
        }
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            auth: Quota {
                per_minute: 10,
                burst: 10,
            },
            refresh: Quota {
                per_minute: 60,
                burst: 30,
            },
            invites: Quota {
                per_minute: 30,
                burst: 30,
            },
            user: Quota {
                per_minute: 1200,
                burst: 200,
            },
        }
    }
}

impl Config {
    /// The database URL in effect: the configured one, or an SQLite file in the data dir.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("madang.db").display()
            )
        } else {
            self.database_url.clone()
        }
    }

    /// `scheme://host[:port]` of the public URL, as browsers send it in `Origin`.
    pub fn public_origin(&self) -> Option<String> {
        let url = self.public_url.trim_end_matches('/');
        let (scheme, rest) = url.split_once("://")?;
        let host = rest.split('/').next()?;
        Some(format!(
            "{}://{}",
            scheme.to_ascii_lowercase(),
            host.to_ascii_lowercase()
        ))
    }

    pub fn served_over_https(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.node_id <= madang_domain::id::MAX_NODE_ID,
            "node_id must be 0 to 1023"
        );
        anyhow::ensure!(
            self.bus_url == "local" || self.bus_url.starts_with("nats://"),
            "bus_url {:?} is not supported: use \"local\" or nats://host:port",
            self.bus_url
        );
        anyhow::ensure!(
            self.gateway.resume_window_seconds >= 120,
            "gateway.resume_window_seconds must be at least 120"
        );
        anyhow::ensure!(
            self.gateway.heartbeat_interval_ms >= 100,
            "gateway.heartbeat_interval_ms must be at least 100"
        );
        anyhow::ensure!(
            self.gateway.session_queue_capacity >= 64,
            "gateway.session_queue_capacity must be at least 64"
        );
        anyhow::ensure!(
            !self.gateway.cluster_name.is_empty()
                && self
                    .gateway
                    .cluster_name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "gateway.cluster_name must be letters, digits, - and _"
        );
        anyhow::ensure!(
            self.public_url.is_empty() || self.public_origin().is_some(),
            "public_url must look like https://chat.example.com"
        );
        anyhow::ensure!(
            self.access_token_ttl_seconds >= 60,
            "access_token_ttl_seconds must be at least 60"
        );
        anyhow::ensure!(
            self.refresh_token_ttl_days >= 1,
            "refresh_token_ttl_days must be at least 1"
        );
        anyhow::ensure!(
            (1..=1000).contains(&self.voice.max_participants_per_channel),
            "voice.max_participants_per_channel must be 1 to 1000"
        );
        anyhow::ensure!(
            self.voice.turn_urls.is_empty() || !self.voice.turn_secret.is_empty(),
            "voice.turn_urls needs voice.turn_secret (coturn's static-auth-secret)"
        );
        anyhow::ensure!(
            self.voice.turn_credential_ttl_seconds >= 60,
            "voice.turn_credential_ttl_seconds must be at least 60"
        );
        anyhow::ensure!(
            self.voice.refresh_interval_ms >= 100,
            "voice.refresh_interval_ms must be at least 100"
        );
        anyhow::ensure!(
            self.voice.stale_after_ms >= 2 * self.voice.refresh_interval_ms,
            "voice.stale_after_ms must be at least twice voice.refresh_interval_ms"
        );
        for (name, quota) in [
            ("auth", self.rate_limits.auth),
            ("refresh", self.rate_limits.refresh),
            ("invites", self.rate_limits.invites),
            ("user", self.rate_limits.user),
        ] {
            anyhow::ensure!(
                quota.per_minute > 0 && quota.burst > 0,
                "rate_limits.{name} must be positive"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_database_is_sqlite_in_the_data_dir() {
        let config = Config {
            data_dir: PathBuf::from("/srv/madang"),
            ..Config::default()
        };
        assert_eq!(
            config.effective_database_url(),
            "sqlite:///srv/madang/madang.db?mode=rwc"
        );
    }

    #[test]
    fn public_origin_drops_the_path_and_normalises_case() {
        let config = Config {
            public_url: "HTTPS://Chat.Example.com/app/".into(),
            ..Config::default()
        };
        assert_eq!(
            config.public_origin().as_deref(),
            Some("https://chat.example.com")
        );
        assert!(Config::default().public_origin().is_none());
    }

    #[test]
    fn invalid_settings_are_refused() {
        assert!(Config::default().validate().is_ok());
        assert!(
            Config {
                node_id: 1024,
                ..Config::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            Config {
                bus_url: "redis://x".into(),
                ..Config::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            Config {
                public_url: "chat.example.com".into(),
                ..Config::default()
            }
            .validate()
            .is_err()
        );
        // Calls would be removed as stale between two refreshes of a live node.
        assert!(
            Config {
                voice: VoiceConfig {
                    refresh_interval_ms: 1_000,
                    stale_after_ms: 1_500,
                    ..VoiceConfig::default()
                },
                ..Config::default()
            }
            .validate()
            .is_err()
        );
    }
}
