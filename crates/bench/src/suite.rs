//! `madang-bench suite`: every scenario against madang and its peers, side by side in one
//! run, repeated; writes the raw measurements as JSON and the table of medians and ratios
//! as Markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::clients::Target;
use crate::scenarios::{self, FanoutOptions, Setup};
use crate::servers::{Engine, Programs};
use crate::stats::median;

/// How big a suite run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Seconds, tiny sizes: checks that every scenario runs, not how fast.
    Smoke,
    /// The sizes this 2-core machine takes in reasonable time.
    Full,
}

struct Sizes {
    fanout_members: Vec<usize>,
    /// Offered deliveries per second in the paced fan-out run (rate × members).
    paced_deliveries_per_second: f64,
    fanout_senders: usize,
    /// Senders in the flood run, each posting as soon as its previous post is acknowledged.
    flood_senders: usize,
    fanout_seconds: f64,
    warmup_seconds: f64,
    sessions: usize,
    send_senders: usize,
    send_seconds: f64,
    /// The paced send-path run's rate, where the p99 goal applies.
    send_rate: f64,
    history_messages: u64,
    history_pages: usize,
    cluster_nodes: usize,
    cluster_members: usize,
}

impl Profile {
    fn sizes(self, fanout_10k: bool) -> Sizes {
        match self {
            Profile::Smoke => Sizes {
                fanout_members: vec![20],
                paced_deliveries_per_second: 400.0,
                fanout_senders: 2,
                flood_senders: 2,
                fanout_seconds: 1.0,
                warmup_seconds: 0.5,
                sessions: 50,
                send_senders: 2,
                send_seconds: 1.0,
                send_rate: 50.0,
                history_messages: 2_000,
                history_pages: 20,
                cluster_nodes: 2,
                cluster_members: 20,
            },
            Profile::Full => Sizes {
                fanout_members: if fanout_10k {
                    vec![1_000, 5_000, 10_000]
                } else {
                    vec![1_000, 5_000]
                },
                paced_deliveries_per_second: 100_000.0,
                fanout_senders: 16,
                flood_senders: 16,
                fanout_seconds: 10.0,
                warmup_seconds: 2.0,
                sessions: 10_000,
                send_senders: 32,
                send_seconds: 10.0,
                send_rate: 1_000.0,
                history_messages: 2_000_000,
                history_pages: 2_000,
                cluster_nodes: 3,
                cluster_members: 1_000,
            },
        }
    }
}

/// One measured figure of one run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// The table row group, e.g. `fan-out 1000 members, paced`.
    pub scenario: String,
    /// What ran, e.g. `madang (SQLite)`.
    pub setup: String,
    pub target: Target,
    pub repeat: usize,
    pub metrics: BTreeMap<String, f64>,
    /// The scenario's whole result.
    pub raw: serde_json::Value,
}

pub struct SuiteOptions<'a> {
    pub programs: &'a Programs,
    pub profile: Profile,
    pub repeats: usize,
    pub out_dir: &'a Path,
    pub fanout_10k: bool,
    pub presence: &'a str,
    pub own_binary: PathBuf,
}

const MADANG_SQLITE: Setup = Setup {
    target: Target::Madang,
    engine: Engine::Sqlite,
    nodes: 1,
};
const MADANG_POSTGRES: Setup = Setup {
    target: Target::Madang,
    engine: Engine::Postgres,
    nodes: 1,
};
const SOCKETIO: Setup = Setup {
    target: Target::Socketio,
    engine: Engine::Postgres,
    nodes: 1,
};
const RAW: Setup = Setup {
    target: Target::Raw,
    engine: Engine::Sqlite,
    nodes: 1,
};

fn record(
    out: &mut Vec<Measurement>,
    scenario: &str,
    setup: Setup,
    repeat: usize,
    metrics: &[(&str, f64)],
    raw: impl Serialize,
) -> anyhow::Result<()> {
    let measurement = Measurement {
        scenario: scenario.to_owned(),
        setup: setup.name(),
        target: setup.target,
        repeat,
        metrics: metrics.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        raw: serde_json::to_value(raw)?,
    };
    eprintln!(
        "  {} | {} | {:?}",
        measurement.scenario, measurement.setup, measurement.metrics
    );
    out.push(measurement);
    Ok(())
}

pub async fn run(options: SuiteOptions<'_>) -> anyhow::Result<Vec<Measurement>> {
    let sizes = options.profile.sizes(options.fanout_10k);
    let programs = options.programs;
    let mut out = Vec::new();
    for repeat in 0..options.repeats {
        eprintln!("repeat {} of {}", repeat + 1, options.repeats);
        for &members in &sizes.fanout_members {
            let users = members + sizes.flood_senders.max(sizes.fanout_senders);
            for (variant, rate, senders) in [
                (
                    "paced",
                    sizes.paced_deliveries_per_second / members as f64,
                    sizes.fanout_senders,
                ),
                ("flood", 0.0, sizes.flood_senders),
            ] {
                let scenario = format!("fan-out {members} members, {variant}");
                for setup in [MADANG_SQLITE, SOCKETIO, RAW] {
                    let stage = scenarios::prepare(programs, setup, users, 0).await?;
                    let fanout = FanoutOptions {
                        members,
                        senders,
                        rate,
                        warmup_seconds: sizes.warmup_seconds,
                        seconds: sizes.fanout_seconds,
                    };
                    let result = scenarios::fanout(&stage, fanout, options.presence).await;
                    stage.server.stop().await;
                    let result = result?;
                    record(
                        &mut out,
                        &scenario,
                        setup,
                        repeat,
                        &[
                            ("deliveries/s", result.deliveries_per_second),
                            ("delivered %", result.delivered_fraction * 100.0),
                            ("p50 ms", result.latency.p50_ms),
                            ("p99 ms", result.latency.p99_ms),
                            ("p99.9 ms", result.latency.p999_ms),
                            ("server cores", result.server.cores_busy),
                            (
                                "deliveries/CPU-s",
                                result.deliveries_per_second / result.server.cores_busy,
                            ),
                            ("server RSS MiB", result.server.rss_bytes as f64 / 1048576.0),
                            ("connect s", result.connect_seconds),
                            ("sessions closed", result.closed_by_server as f64),
                        ],
                        &result,
                    )?;
                }
            }
        }

        let scenario = format!("cluster fan-out {} members, paced", sizes.cluster_members);
        for setup in [
            MADANG_POSTGRES,
            Setup {
                nodes: sizes.cluster_nodes,
                ..MADANG_POSTGRES
            },
        ] {
            let stage = scenarios::prepare(
                programs,
                setup,
                sizes.cluster_members + sizes.fanout_senders,
                0,
            )
            .await?;
            let fanout = FanoutOptions {
                members: sizes.cluster_members,
                senders: sizes.fanout_senders,
                rate: sizes.paced_deliveries_per_second / sizes.cluster_members as f64,
                warmup_seconds: sizes.warmup_seconds,
                seconds: sizes.fanout_seconds,
            };
            let result = scenarios::fanout(&stage, fanout, options.presence).await;
            stage.server.stop().await;
            let result = result?;
            record(
                &mut out,
                &scenario,
                setup,
                repeat,
                &[
                    ("deliveries/s", result.deliveries_per_second),
                    ("delivered %", result.delivered_fraction * 100.0),
                    ("p50 ms", result.latency.p50_ms),
                    ("p99 ms", result.latency.p99_ms),
                    ("server cores", result.server.cores_busy),
                ],
                &result,
            )?;
        }

        let scenario = format!("connections: {} idle sessions", sizes.sessions);
        for setup in [MADANG_SQLITE, SOCKETIO, RAW] {
            let stage = scenarios::prepare(programs, setup, sizes.sessions, 0).await?;
            let result = scenarios::connections(
                &stage,
                sizes.sessions,
                options.presence,
                &options.own_binary,
            )
            .await;
            stage.server.stop().await;
            let result = result?;
            record(
                &mut out,
                &scenario,
                setup,
                repeat,
                &[
                    ("KiB/session", result.rss_per_session_bytes / 1024.0),
                    ("connect s", result.connect_seconds),
                    ("GiB at 100k", result.extrapolated_100k_bytes / 1073741824.0),
                ],
                &result,
            )?;
        }

        for (variant, rate) in [("as fast as acks come", 0.0), ("paced", sizes.send_rate)] {
            let scenario = if rate > 0.0 {
                format!("send path, {} senders, {rate} msg/s", sizes.send_senders)
            } else {
                format!("send path, {} senders, {variant}", sizes.send_senders)
            };
            for setup in [MADANG_SQLITE, MADANG_POSTGRES, SOCKETIO] {
                let stage = scenarios::prepare(programs, setup, sizes.send_senders, 0).await?;
                let result =
                    scenarios::send_path(&stage, sizes.send_senders, rate, sizes.send_seconds)
                        .await;
                stage.server.stop().await;
                let result = result?;
                record(
                    &mut out,
                    &scenario,
                    setup,
                    repeat,
                    &[
                        ("acked msg/s", result.acked_per_second),
                        ("p50 ms", result.send_ack.p50_ms),
                        ("p99 ms", result.send_ack.p99_ms),
                        ("server cores", result.server.cores_busy),
                    ],
                    &result,
                )?;
            }
        }

        std::fs::write(
            options.out_dir.join("latest.json"),
            serde_json::to_vec_pretty(&out)?,
        )?;
    }

    // History is seeded once per setup (millions of rows take minutes); each repeat reads
    // it anew.
    let scenario = format!(
        "history: 50-message pages, {} messages",
        sizes.history_messages
    );
    for setup in [MADANG_SQLITE, MADANG_POSTGRES, SOCKETIO] {
        let stage = scenarios::prepare(programs, setup, 8, sizes.history_messages).await?;
        for repeat in 0..options.repeats {
            let result = match scenarios::history(&stage, sizes.history_pages).await {
                Ok(result) => result,
                Err(error) => {
                    stage.server.stop().await;
                    return Err(error);
                }
            };
            record(
                &mut out,
                &scenario,
                setup,
                repeat,
                &[
                    ("p50 ms", result.page.p50_ms),
                    ("p99 ms", result.page.p99_ms),
                ],
                &result,
            )?;
        }
        stage.server.stop().await;
    }
    std::fs::write(
        options.out_dir.join("latest.json"),
        serde_json::to_vec_pretty(&out)?,
    )?;
    Ok(out)
}

/// Metrics where less is better; ratios of these are written the other way round, so every
/// ratio above 1 favours madang.
fn lower_is_better(metric: &str) -> bool {
    metric.ends_with(" ms")
        || metric.starts_with("KiB")
        || metric.starts_with("GiB")
        || metric.starts_with("server")
        || metric == "connect s"
}

/// The Markdown table: per scenario and metric, the median of each setup over the repeats,
/// and the medians of the per-repeat ratios madang ÷ Socket.IO and madang ÷ raw limit.
pub fn table(measurements: &[Measurement], repeats: usize) -> String {
    let mut scenarios: Vec<&str> = Vec::new();
    for m in measurements {
        if !scenarios.contains(&m.scenario.as_str()) {
            scenarios.push(&m.scenario);
        }
    }
    let mut text = String::new();
    let _ = writeln!(
        text,
        "Medians of {repeats} run(s). Ratios are taken within each run, then the median is shown; a ratio above 1 favours madang \
         (for latencies and memory it is peer ÷ madang)."
    );
    let _ = writeln!(text);
    let _ = writeln!(
        text,
        "| scenario | metric | setup | median | ÷ socket.io | ÷ raw limit |"
    );
    let _ = writeln!(text, "|---|---|---|---:|---:|---:|");
    for scenario in scenarios {
        let rows: Vec<&Measurement> = measurements
            .iter()
            .filter(|m| m.scenario == scenario)
            .collect();
        let mut setups: Vec<&str> = Vec::new();
        for m in &rows {
            if !setups.contains(&m.setup.as_str()) {
                setups.push(&m.setup);
            }
        }
        let metrics: Vec<&String> = rows[0].metrics.keys().collect();
        for metric in metrics {
            for setup in &setups {
                let values: Vec<f64> = rows
                    .iter()
                    .filter(|m| m.setup == *setup)
                    .filter_map(|m| m.metrics.get(metric).copied())
                    .collect();
                let is_madang = rows
                    .iter()
                    .any(|m| m.setup == *setup && m.target == Target::Madang);
                let ratio_to = |peer: Target| -> String {
                    if !is_madang {
                        return String::new();
                    }
                    let ratios: Vec<f64> = rows
                        .iter()
                        .filter(|m| m.setup == *setup)
                        .filter_map(|m| {
                            let peer_value = rows
                                .iter()
                                .find(|p| p.target == peer && p.repeat == m.repeat)?
                                .metrics
                                .get(metric)?;
                            let own = m.metrics.get(metric)?;
                            let ratio = if lower_is_better(metric) {
                                peer_value / own
                            } else {
                                own / peer_value
                            };
                            ratio.is_finite().then_some(ratio)
                        })
                        .collect();
                    if ratios.is_empty() {
                        String::new()
                    } else {
                        format!("{:.2}×", median(&ratios))
                    }
                };
                let _ = writeln!(
                    text,
                    "| {scenario} | {metric} | {setup} | {} | {} | {} |",
                    format_value(median(&values)),
                    ratio_to(Target::Socketio),
                    ratio_to(Target::Raw),
                );
            }
        }
    }
    text
}

fn format_value(value: f64) -> String {
    if !value.is_finite() {
        "–".into()
    } else if value.abs() >= 10_000.0 {
        let mut digits = format!("{:.0}", value);
        let mut grouped = String::new();
        while digits.len() > 3 {
            let tail = digits.split_off(digits.len() - 3);
            grouped = format!(",{tail}{grouped}");
        }
        format!("{digits}{grouped}")
    } else if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_well() {
        assert_eq!(format_value(3_912_345.4), "3,912,345");
        assert_eq!(format_value(145.2), "145");
        assert_eq!(format_value(1.234), "1.23");
        assert!(lower_is_better("p99 ms"));
        assert!(!lower_is_better("deliveries/s"));
    }
}
