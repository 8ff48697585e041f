//! `madang-bench`: the load generator for Madang's benchmarks (see `docs/benchmarks.md`).
//! Each scenario prepares its server under test (fresh database, seeded; server started),
//! then measures only what clients do through the public REST API and gateway, and prints
//! its result as JSON. `suite` runs them all side by side with the peers and writes the
//! table.

mod clients;
mod janus;
mod process;
mod scenarios;
mod seed;
mod servers;
mod stats;
mod suite;
mod voice;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use clients::Target;
use scenarios::{FanoutOptions, Setup};
use seed::{Layout, Schema};
use servers::{Engine, Programs};

#[derive(Parser)]
#[command(
    name = "madang-bench",
    version,
    about = "Benchmarks madang against the seed's Socket.IO stack and a raw WebSocket limit"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// What to run a scenario against.
#[derive(clap::Args)]
struct SetupArgs {
    /// The server under test.
    #[arg(long, value_enum, default_value = "madang")]
    target: Target,
    /// madang's database (the Socket.IO peer always uses PostgreSQL).
    #[arg(long, value_enum, default_value = "sqlite")]
    engine: Engine,
    /// madang nodes; more than one forms a cluster on PostgreSQL and NATS.
    #[arg(long, default_value_t = 1)]
    nodes: usize,
    /// The status madang sessions identify with: `online` announces each arrival to every
    /// connected member; `invisible` does not.
    #[arg(long, default_value = "online", value_parser = ["online", "invisible"])]
    presence: String,
    #[command(flatten)]
    programs: Programs,
}

impl SetupArgs {
    fn setup(&self) -> anyhow::Result<Setup> {
        anyhow::ensure!(
            self.nodes == 1 || (self.target == Target::Madang && self.engine == Engine::Postgres),
            "a cluster is madang on PostgreSQL: use --engine postgres"
        );
        Ok(Setup {
            target: self.target,
            engine: self.engine,
            nodes: self.nodes.max(1),
        })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Write users, one guild with one channel (everyone a member) and a history straight
    /// into an empty database; the scenarios do this themselves before each run.
    Seed {
        /// sqlite://…?mode=rwc or postgres://…
        #[arg(long)]
        database_url: String,
        #[arg(long, value_enum, default_value = "madang")]
        schema: Schema,
        #[arg(long, default_value_t = 1000)]
        users: usize,
        /// Messages in the channel's history.
        #[arg(long, default_value_t = 0)]
        history: u64,
        /// The Socket.IO peer's schema, for `--schema socketio`.
        #[arg(long, default_value = "bench/peers/socketio/schema.sql")]
        socketio_schema: PathBuf,
    },
    /// K connected members of one channel, S senders at a fixed rate: deliveries per second,
    /// send→receive latency, server CPU and memory.
    Fanout {
        #[command(flatten)]
        setup: SetupArgs,
        #[command(flatten)]
        options: FanoutOptions,
    },
    /// N idle authenticated sessions from several client processes: resident memory per
    /// session and the time to connect them.
    Connections {
        #[command(flatten)]
        setup: SetupArgs,
        #[arg(long, default_value_t = 10_000)]
        sessions: usize,
    },
    /// C senders posting as fast as acknowledgements come (or paced): acknowledged messages
    /// per second and send→ack latency.
    SendPath {
        #[command(flatten)]
        setup: SetupArgs,
        #[arg(long, default_value_t = 32)]
        senders: usize,
        /// Messages per second in all; 0: as fast as acknowledgements come.
        #[arg(long, default_value_t = 0.0)]
        rate: f64,
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
    },
    /// 50-message pages at random points of a long history.
    History {
        #[command(flatten)]
        setup: SetupArgs,
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
        #[arg(long, default_value_t = 1_000)]
        pages: usize,
    },
    /// Every scenario against madang, the Socket.IO peer and the raw limit, repeated; writes
    /// `latest.json` and `latest.md` to the output directory.
    Suite {
        #[arg(long, value_enum, default_value = "full")]
        profile: suite::Profile,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        #[arg(long, default_value = "bench/results")]
        out: PathBuf,
        /// Also run fan-out with 10,000 members.
        #[arg(long)]
        fanout_10k: bool,
        /// madang's identify status. `invisible` by default: with `online`, every arrival is
        /// announced to every connected member, so connecting N sessions sends N²/2 presence
        /// frames, which makes the connect phase take minutes at these sizes (measured
        /// separately; see docs/benchmarks.md).
        #[arg(long, default_value = "invisible", value_parser = ["online", "invisible"])]
        presence: String,
        #[command(flatten)]
        programs: Programs,
    },
    /// N publishers and M listeners in one voice call through madang's SFU and/or Janus's
    /// videoroom: forwarded packets per second, server CPU per forwarded stream, and
    /// join-to-first-frame time. Prints the table, and with `--out` writes it and every
    /// measurement as `voice-<N>x<M>[-video<kbps>].md` and `.json` there.
    Voice {
        /// The SFUs to run, in turn in each repeat: `madang`, `janus` or `madang,janus`.
        #[arg(long, value_enum, value_delimiter = ',', default_value = "madang")]
        targets: Vec<voice::VoiceTarget>,
        #[arg(long, default_value_t = 1)]
        repeats: usize,
        #[arg(long)]
        out: Option<PathBuf>,
        /// The Janus binary (Debian: `apt-get install janus`).
        #[arg(long, default_value = "janus")]
        janus_bin: String,
        #[command(flatten)]
        options: voice::VoiceOptions,
        #[command(flatten)]
        programs: Programs,
    },
    /// Internal: one client process of `connections`.
    #[command(hide = true)]
    ConnectWorker {
        #[arg(long, value_enum)]
        target: Target,
        #[arg(long)]
        server: SocketAddr,
        #[arg(long)]
        tokens_file: PathBuf,
        #[arg(long)]
        first: usize,
        #[arg(long)]
        count: usize,
        #[arg(long)]
        channel_id: i64,
        #[arg(long)]
        presence: String,
    },
}

fn print(result: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(result)?);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Seed {
            database_url,
            schema,
            users,
            history,
            socketio_schema,
        } => {
            let schema_sql = match schema {
                Schema::Socketio => std::fs::read_to_string(&socketio_schema)
                    .with_context(|| format!("cannot read {}", socketio_schema.display()))?,
                Schema::Madang => String::new(),
            };
            seed::seed(
                &database_url,
                schema,
                Layout { users, history },
                &schema_sql,
            )
            .await
        }
        Command::Fanout { setup, options } => {
            let stage = scenarios::prepare(
                &setup.programs,
                setup.setup()?,
                options.members + options.senders,
                0,
            )
            .await?;
            let result = scenarios::fanout(&stage, options, &setup.presence).await;
            stage.server.stop().await;
            print(&result?)
        }
        Command::Connections { setup, sessions } => {
            let stage = scenarios::prepare(&setup.programs, setup.setup()?, sessions, 0).await?;
            let own_binary = std::env::current_exe()?;
            let result =
                scenarios::connections(&stage, sessions, &setup.presence, &own_binary).await;
            stage.server.stop().await;
            print(&result?)
        }
        Command::SendPath {
            setup,
            senders,
            rate,
            seconds,
        } => {
            let stage = scenarios::prepare(&setup.programs, setup.setup()?, senders, 0).await?;
            let result = scenarios::send_path(&stage, senders, rate, seconds).await;
            stage.server.stop().await;
            print(&result?)
        }
        Command::History {
            setup,
            messages,
            pages,
        } => {
            let stage = scenarios::prepare(&setup.programs, setup.setup()?, 8, messages).await?;
            let result = scenarios::history(&stage, pages).await;
            stage.server.stop().await;
            print(&result?)
        }
        Command::Suite {
            profile,
            repeats,
            out,
            fanout_10k,
            presence,
            programs,
        } => {
            std::fs::create_dir_all(&out)?;
            let measurements = suite::run(suite::SuiteOptions {
                programs: &programs,
                profile,
                repeats: repeats.max(1),
                out_dir: &out,
                fanout_10k,
                presence: &presence,
                own_binary: std::env::current_exe()?,
            })
            .await?;
            let table = suite::table(&measurements, repeats.max(1));
            std::fs::write(out.join("latest.md"), &table)?;
            println!("{table}");
            Ok(())
        }
        Command::Voice {
            targets,
            repeats,
            out,
            janus_bin,
            options,
            programs,
        } => {
            let runs =
                voice::side_by_side(&programs, &janus_bin, &targets, &options, repeats.max(1))
                    .await?;
            let table = voice::table(&runs, &options);
            if let Some(out) = out {
                std::fs::create_dir_all(&out)?;
                let name = options.file_stem();
                std::fs::write(out.join(format!("{name}.md")), &table)?;
                std::fs::write(
                    out.join(format!("{name}.json")),
                    serde_json::to_string_pretty(&runs)?,
                )?;
            }
            print(&runs)?;
            println!("{table}");
            Ok(())
        }
        Command::ConnectWorker {
            target,
            server,
            tokens_file,
            first,
            count,
            channel_id,
            presence,
        } => {
            let tokens: Vec<String> = serde_json::from_slice(&std::fs::read(&tokens_file)?)?;
            let share = tokens[first..first + count].to_vec();
            scenarios::connect_worker(target, server, share, first, channel_id, &presence).await
        }
    }
}
