//! The bus carries committed events (and best-effort presence, typing and session control)
//! from the node that wrote them to every node's gateway. It is for fan-out only: the
//! database is the source of truth, and the gateway detects and fills sequence gaps from
//! it, so a message the bus loses costs latency, never correctness.
//!
//! One code path, two backends picked once at start-up by URL: `local` (an in-process
//! broadcast channel, for a single node) and `nats://…` (a cluster of nodes sharing one
//! NATS server). Messages name their [`Subject`]; the NATS subject strings are made in one
//! place, [`Subject::nats_subject`].

#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, watch};

/// How long the NATS server may take to confirm a subscription.
const SUBSCRIBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// How many messages an in-process subscriber may fall behind before it starts losing them
/// (and must recover from the database).
const LOCAL_CAPACITY: usize = 65_536;

/// What a message is about; decides its NATS subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    /// A committed event of a guild's log.
    GuildEvent { guild_id: i64 },
    /// A committed event of a user's log.
    UserEvent { user_id: i64 },
    /// Best-effort presence of a user.
    Presence { user_id: i64 },
    /// Best-effort typing indicator in a channel.
    Typing { channel_id: i64 },
    /// Gateway session control, such as closing the sessions of a revoked login.
    SessionControl,
    /// Moderators' actions on calls, for the node that holds the call.
    VoiceControl,
    /// Voice signalling for one node: a session's op for the node holding its call, or
    /// that node's reply and frames for the session's node.
    VoiceSignal { node: i64 },
}

impl Subject {
    /// The NATS subject under the cluster's `prefix`. Every subject has the same depth, so
    /// `{prefix}.>` receives them all.
    pub fn nats_subject(&self, prefix: &str) -> String {
        match self {
            Subject::GuildEvent { guild_id } => format!("{prefix}.guild.{guild_id}"),
            Subject::UserEvent { user_id } => format!("{prefix}.user.{user_id}"),
            Subject::Presence { user_id } => format!("{prefix}.presence.{user_id}"),
            Subject::Typing { channel_id } => format!("{prefix}.typing.{channel_id}"),
            Subject::SessionControl => format!("{prefix}.control.sessions"),
            Subject::VoiceControl => format!("{prefix}.control.voice"),
            Subject::VoiceSignal { node } => format!("{prefix}.voice.{node}"),
        }
    }
}

/// A message the bus can carry.
pub trait BusMessage: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    fn subject(&self) -> Subject;
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("unsupported bus URL {0:?}: use \"local\" or nats://host:port")]
    UnsupportedUrl(String),
    #[error("cannot connect to NATS: {0}")]
    Connect(#[from] async_nats::ConnectError),
    #[error("cannot subscribe on NATS: {0}")]
    Subscribe(#[from] async_nats::SubscribeError),
    #[error("cannot publish on NATS: {0}")]
    Publish(#[from] async_nats::PublishError),
    #[error("cannot encode a bus message: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the NATS server did not confirm the subscription in time")]
    SubscriptionUnconfirmed,
}

/// A handle on the bus; cheap to clone.
pub struct Bus<M> {
    backend: Arc<Backend<M>>,
}

impl<M> Clone for Bus<M> {
    fn clone(&self) -> Self {
        Bus {
            backend: self.backend.clone(),
        }
    }
}

enum Backend<M> {
    Local(broadcast::Sender<M>),
    Nats {
        client: async_nats::Client,
        prefix: String,
        /// Counts the times messages may have been lost on the connection (see
        /// [`report_losses`]); each subscription turns a change into [`Received::Lost`].
        losses: watch::Receiver<u64>,
    },
}

/// What a subscription yields next.
#[derive(Debug)]
pub enum Received<M> {
    Message(M),
    /// Some messages were lost (a slow subscriber, a lost NATS connection that has come
    /// back, an undecodable message). Committed events among them are recovered from the
    /// database; whatever else the subscriber derives from messages may be stale.
    Lost,
}

pub struct Subscription<M> {
    source: SubscriptionSource<M>,
}

enum SubscriptionSource<M> {
    Local(broadcast::Receiver<M>),
    Nats {
        subscriber: async_nats::Subscriber,
        losses: watch::Receiver<u64>,
    },
}

impl<M: BusMessage> Bus<M> {
    /// Connects to the bus at `url`: `local`, or `nats://…` where every subject starts with
    /// `prefix` (the cluster's name, so clusters can share a NATS server).
    pub async fn connect(url: &str, prefix: &str) -> Result<Bus<M>, BusError> {
        let backend = if url == "local" {
            Backend::Local(broadcast::channel(LOCAL_CAPACITY).0)
        } else if url.starts_with("nats://") {
            let (losses, lost) = watch::channel(0);
            let connected = Arc::new(OnceLock::new());
            let client = async_nats::ConnectOptions::new()
                .name("madang")
                .event_callback(report_losses(connected.clone(), Arc::new(losses)))
                .connect(url)
                .await?;
            let _ = connected.set(client.clone());
            Backend::Nats {
                client,
                prefix: prefix.to_owned(),
                losses: lost,
            }
        } else {
            return Err(BusError::UnsupportedUrl(url.to_owned()));
        };
        Ok(Bus {
            backend: Arc::new(backend),
        })
    }

    /// Sends `message` to every subscriber of every node, this one included.
    pub async fn publish(&self, message: &M) -> Result<(), BusError> {
        match &*self.backend {
            Backend::Local(sender) => {
                // No subscriber yet is not an error: nobody needed the message.
                let _ = sender.send(message.clone());
                Ok(())
            }
            Backend::Nats { client, prefix, .. } => {
                let payload = serde_json::to_vec(message)?;
                client
                    .publish(message.subject().nats_subject(prefix), payload.into())
                    .await?;
                Ok(())
            }
        }
    }

    /// Receives every message published from now on, on any node: the subscription is live
    /// when this returns.
    pub async fn subscribe(&self) -> Result<Subscription<M>, BusError> {
        let source = match &*self.backend {
            Backend::Local(sender) => SubscriptionSource::Local(sender.subscribe()),
            Backend::Nats {
                client,
                prefix,
                losses,
            } => {
                let mut losses = losses.clone();
                losses.mark_unchanged();
                let subscriber = client.subscribe(format!("{prefix}.>")).await?;
                confirm_subscriptions(client).await?;
                SubscriptionSource::Nats { subscriber, losses }
            }
        };
        Ok(Subscription { source })
    }
}

/// The NATS client's event callback: counts in `losses` each time messages may have been
/// lost. While the connection is down, nothing published reaches this node, so a reconnect
/// counts, once the server has our subscriptions again (the client re-sends them after
/// connecting, and until the server reads them messages still pass us by); so does a
/// subscriber too slow for the client's buffer. The first connection does not count: no
/// subscription existed before it. `client` is the connection's client, once `connect` has
/// returned it.
fn report_losses(
    client: Arc<OnceLock<async_nats::Client>>,
    losses: Arc<watch::Sender<u64>>,
) -> impl Fn(async_nats::Event) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send + Sync>>
+ Send
+ Sync
+ 'static {
    let connected_before = Arc::new(AtomicBool::new(false));
    move |event| {
        let (client, losses, connected_before) =
            (client.clone(), losses.clone(), connected_before.clone());
        Box::pin(async move {
            match event {
                async_nats::Event::Connected if connected_before.swap(true, Ordering::SeqCst) => {
                    tracing::warn!("the NATS connection is back; messages may have been lost");
                    if let Some(client) = client.get()
                        && let Err(error) = confirm_subscriptions(client).await
                    {
                        tracing::warn!(%error, "cannot confirm the subscriptions after a reconnect");
                    }
                    losses.send_modify(|count| *count += 1);
                }
                async_nats::Event::SlowConsumer(_) => {
                    tracing::warn!("a NATS subscriber fell behind; messages were dropped");
                    losses.send_modify(|count| *count += 1);
                }
                _ => {}
            }
        })
    }
}

/// Waits until the server has registered this client's subscriptions. The server handles
/// one connection's commands in order, so once a message sent to a private inbox after them
/// comes back, they are in force; `flush` alone only writes the socket, and messages other
/// nodes publish before the server reads the subscription would never arrive.
async fn confirm_subscriptions(client: &async_nats::Client) -> Result<(), BusError> {
    let inbox = client.new_inbox();
    let mut echo = client.subscribe(inbox.clone()).await?;
    client.publish(inbox, Default::default()).await?;
    let confirmed = tokio::time::timeout(SUBSCRIBE_TIMEOUT, echo.next()).await;
    if !matches!(confirmed, Ok(Some(_))) {
        return Err(BusError::SubscriptionUnconfirmed);
    }
    Ok(())
}

impl<M: BusMessage> Subscription<M> {
    /// The next message; `None` once the bus is gone.
    pub async fn next(&mut self) -> Option<Received<M>> {
        match &mut self.source {
            SubscriptionSource::Local(receiver) => match receiver.recv().await {
                Ok(message) => Some(Received::Message(message)),
                Err(broadcast::error::RecvError::Lagged(_)) => Some(Received::Lost),
                Err(broadcast::error::RecvError::Closed) => None,
            },
            SubscriptionSource::Nats { subscriber, losses } => {
                let message = tokio::select! {
                    biased;
                    Ok(()) = losses.changed() => return Some(Received::Lost),
                    message = subscriber.next() => message?,
                };
                match serde_json::from_slice(&message.payload) {
                    Ok(decoded) => Some(Received::Message(decoded)),
                    Err(error) => {
                        tracing::warn!(%error, subject = %message.subject, "undecodable bus message");
                        Some(Received::Lost)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Note {
        guild_id: i64,
        text: String,
    }

    impl BusMessage for Note {
        fn subject(&self) -> Subject {
            Subject::GuildEvent {
                guild_id: self.guild_id,
            }
        }
    }

    /// Every note published arrives, decoded and in order.
    async fn round_trip(url: &str, prefix: &str) {
        let publisher = Bus::<Note>::connect(url, prefix)
            .await
            .expect("bus connects");
        let subscriber = if url == "local" {
            publisher.clone()
        } else {
            Bus::connect(url, prefix).await.expect("bus connects")
        };
        let mut subscription = subscriber.subscribe().await.expect("subscribes");
        let sent: Vec<String> = (0..100).map(|i| format!("{i:03}")).collect();
        for text in &sent {
            publisher
                .publish(&Note {
                    guild_id: 7,
                    text: text.clone(),
                })
                .await
                .expect("publishes");
        }
        let mut received = Vec::new();
        while received.len() < sent.len() {
            let next =
                tokio::time::timeout(std::time::Duration::from_secs(10), subscription.next())
                    .await
                    .unwrap_or_else(|_| {
                        panic!("only {} of {} notes arrived", received.len(), sent.len())
                    });
            match next {
                Some(Received::Message(note)) => received.push(note.text),
                other => panic!("expected a note, got {other:?}"),
            }
        }
        assert_eq!(received, sent);
    }

    #[test]
    fn subjects_share_one_depth_under_the_prefix() {
        assert_eq!(
            Subject::GuildEvent { guild_id: 5 }.nats_subject("c1"),
            "c1.guild.5"
        );
        assert_eq!(
            Subject::SessionControl.nats_subject("c1"),
            "c1.control.sessions"
        );
    }

    #[tokio::test]
    async fn local_bus_delivers_in_order() {
        round_trip("local", "unused").await;
    }

    #[tokio::test]
    async fn nats_bus_delivers_in_order() {
        let Some(url) = crate::testing::nats_url("the NATS bus test") else {
            return;
        };
        round_trip(&url, &format!("bus-test-{:x}", rand_suffix())).await;
    }

    /// After the connection comes back the subscriber hears that messages may have been lost
    /// (its node then treats what it derives from them as stale), and by then it receives
    /// again.
    #[tokio::test]
    async fn a_nats_reconnect_is_reported_as_lost_messages() {
        let Some(url) = crate::testing::nats_url("the NATS reconnect test") else {
            return;
        };
        let prefix = format!("bus-test-{:x}", rand_suffix());
        let publisher = Bus::<Note>::connect(&url, &prefix).await.expect("connects");
        let subscriber = Bus::<Note>::connect(&url, &prefix).await.expect("connects");
        let mut subscription = subscriber.subscribe().await.expect("subscribes");
        let Backend::Nats { client, .. } = &*subscriber.backend else {
            unreachable!("a nats:// URL makes a NATS bus")
        };
        client.force_reconnect().await.expect("reconnects");
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), subscription.next())
            .await
            .expect("the reconnect is reported");
        assert!(matches!(next, Some(Received::Lost)), "got {next:?}");
        let note = Note {
            guild_id: 7,
            text: "after".into(),
        };
        publisher.publish(&note).await.expect("publishes");
        let next = tokio::time::timeout(std::time::Duration::from_secs(10), subscription.next())
            .await
            .expect("the note arrives");
        assert!(
            matches!(next, Some(Received::Message(ref n)) if *n == note),
            "got {next:?}"
        );
    }

    fn rand_suffix() -> u128 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn unknown_urls_are_refused() {
        assert!(matches!(
            Bus::<Note>::connect("redis://x", "p").await,
            Err(BusError::UnsupportedUrl(_))
        ));
    }
}
