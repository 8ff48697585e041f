//! `madang`: run a node (`serve`, the default), administer accounts, or print the OpenAPI
//! document. Configuration comes from defaults, then a TOML file, then `MADANG_*`
//! environment variables, then flags; each later source overrides the earlier ones.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use madang_server::config::LogFormat;
use madang_server::{Application, Config};
use serde::Serialize;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "madang",
    version,
    about = "Madang: a self-hosted community chat server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    settings: Settings,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API, the gateway and the web client (the default).
    Serve,
    /// Administer the server.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Print the OpenAPI document of the REST API.
    Openapi,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Make the account with this e-mail a system admin.
    GrantAdmin { email: String },
}

/// Settings that can be given as flags; every one is also a `MADANG_*` variable and a key
/// of the TOML file.
#[derive(Args, Serialize)]
struct Settings {
    /// TOML configuration file [default: ./madang.toml when it exists].
    #[arg(long, global = true, env = "MADANG_CONFIG")]
    #[serde(skip)]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    listen: Option<SocketAddr>,
    /// Directory for the SQLite database and local state [default: ./data].
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… [default: SQLite in the data directory].
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    database_url: Option<String>,
    /// `local` or nats://… [default: local].
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    bus_url: Option<String>,
    /// The URL people reach this server at, e.g. https://chat.example.com.
    #[arg(long, global = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    public_url: Option<String>,
    /// `text` or `json` [default: text].
    #[arg(long, global = true, value_parser = ["text", "json"])]
    #[serde(skip_serializing_if = "Option::is_none")]
    log_format: Option<String>,
}

/// Variables of the project's tools (`MADANG_TEST_REQUIRE_ALL`, `MADANG_E2E_SCREENSHOTS`,
/// `MADANG_BENCH_RESULTS`, …), lowercased: not settings, and not worth a warning.
const TOOL_PREFIXES: [&str; 5] = ["test_", "e2e_", "bench_", "ci_", "fuzz_"];

fn load_config(settings: &Settings) -> anyhow::Result<Config> {
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    match &settings.config {
        Some(path) => {
            anyhow::ensure!(
                path.exists(),
                "configuration file {} does not exist",
                path.display()
            );
            figment = figment.merge(Toml::file(path));
        }
        None => figment = figment.merge(Toml::file("madang.toml")),
    }
    // `MADANG_RATE_LIMITS__AUTH__BURST` sets `rate_limits.auth.burst`. Only variables naming a
    // setting are read: the prefix is shared with tools (`MADANG_CONFIG`, `MADANG_BIN` and
    // those of `TOOL_PREFIXES`, which servers started by the test suites inherit), so any
    // other is reported and skipped rather than refused.
    let settings_names = setting_names();
    let readable = settings_names.clone();
    let env = Env::prefixed("MADANG_").split("__").filter(move |key| {
        let name = key
            .as_str()
            .split('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        readable.contains(&name)
    });
    for (name, _) in std::env::vars() {
        let Some(key) = name.strip_prefix("MADANG_") else {
            continue;
        };
        let setting = key
            .split("__")
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let tools = setting == "config"
            || setting == "bin"
            || TOOL_PREFIXES
                .iter()
                .any(|prefix| setting.starts_with(prefix));
        if !settings_names.contains(&setting) && !tools {
            eprintln!("madang: ignoring {name}: it names no setting");
        }
    }
    figment = figment.merge(env).merge(Serialized::defaults(settings));
    figment.extract().context("invalid configuration")
}

/// The top-level keys of the configuration, e.g. `listen`, `rate_limits`.
fn setting_names() -> Vec<String> {
    match serde_json::to_value(Config::default()) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn init_logging(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        println!("{}", madang_server::openapi().to_pretty_json()?);
        return Ok(());
    }
    let config = load_config(&cli.settings)?;
    init_logging(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            Application::build(config)
                .await?
                .run_until_stopped(shutdown_signal())
                .await
        }
        Command::Admin(AdminCommand::GrantAdmin { email }) => {
            let url = config.effective_database_url();
            if config.database_url.is_empty() {
                std::fs::create_dir_all(&config.data_dir)?;
            }
            let store = madang_store::Store::connect(&url).await?;
            let email = email.trim().to_lowercase();
            anyhow::ensure!(
                store.grant_system_admin(&email).await?,
                "no account has the e-mail address {email}"
            );
            println!("{email} is now a system admin");
            Ok(())
        }
        Command::Openapi => unreachable!("handled before configuration is loaded"),
    }
}

// figment's `Jail` (which isolates environment variables and files per test) dictates the
// closure's `figment::Result` return type.
#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    fn no_flags() -> Settings {
        Settings {
            config: None,
            listen: None,
            data_dir: None,
            database_url: None,
            bus_url: None,
            public_url: None,
            log_format: None,
        }
    }

    #[test]
    fn file_then_environment_then_flags() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "madang.toml",
                "listen = \"0.0.0.0:9000\"\npublic_url = \"https://file.example\"\n[rate_limits.auth]\nper_minute = 3\nburst = 4\n",
            )?;
            jail.set_env("MADANG_PUBLIC_URL", "https://env.example");
            jail.set_env("MADANG_RATE_LIMITS__AUTH__BURST", "7");
            jail.set_env("MADANG_TEST_REQUIRE_ALL", "1");
            jail.set_env("MADANG_BIN", "/usr/bin/madang");
            let config = load_config(&no_flags()).map_err(|e| format!("{e:#}"))?;
            assert_eq!(config.listen, "0.0.0.0:9000".parse().unwrap());
            assert_eq!(config.public_url, "https://env.example");
            assert_eq!(config.rate_limits.auth.burst, 7);
            assert_eq!(config.rate_limits.auth.per_minute, 3);

            let flags = Settings {
                public_url: Some("https://flag.example".into()),
                ..no_flags()
            };
            assert_eq!(
                load_config(&flags).map_err(|e| e.to_string())?.public_url,
                "https://flag.example"
            );
            Ok(())
        });
    }

    #[test]
    fn voice_settings_load_from_the_file_and_the_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "madang.toml",
                "[voice]\nudp_bind = \"0.0.0.0:10500\"\nturn_urls = [\"turn:turn.example.com:3478?transport=udp\"]\nturn_secret = \"s\"\n",
            )?;
            jail.set_env("MADANG_VOICE__PUBLIC_ADDRESSES", "[\"203.0.113.7\"]");
            jail.set_env("MADANG_VOICE__MAX_PARTICIPANTS_PER_CHANNEL", "10");
            let config = load_config(&no_flags()).map_err(|e| format!("{e:#}"))?;
            assert_eq!(config.voice.udp_bind, "0.0.0.0:10500".parse().unwrap());
            assert_eq!(
                config.voice.public_addresses,
                vec!["203.0.113.7".parse::<std::net::IpAddr>().unwrap()]
            );
            assert_eq!(config.voice.max_participants_per_channel, 10);
            assert_eq!(config.voice.turn_secret, "s");
            assert!(config.voice.enabled);
            Ok(())
        });
    }

    #[test]
    fn unknown_settings_are_errors_not_silence() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("madang.toml", "listne = \"0.0.0.0:9000\"\n")?;
            assert!(load_config(&no_flags()).is_err());
            Ok(())
        });
    }
}
