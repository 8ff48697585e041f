//! Server frames as bytes. A dispatch's JSON is built once per event and shared by every
//! session that receives it; only `s` differs, so it is spliced between a shared prefix and
//! suffix when the frame is written. The frames of one flush are written into one buffer
//! (one allocation per flush, not one per frame) and share it; unsequenced frames (presence,
//! typing) are one buffer shared by every session.

use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use bytes::{BufMut, BytesMut};
use madang_protocol::gateway::{DispatchType, ServerFrame};
use madang_store::Dispatch;
use serde::Serialize;

use super::outbound::Outbound;

/// A dispatch ready to be sent to any number of sessions.
#[derive(Debug)]
pub struct DispatchFrame {
    /// `{"op":"dispatch","t":"MESSAGE_CREATE","s":`
    prefix: String,
    /// `,"d":{…}}`
    suffix: String,
}

impl DispatchFrame {
    pub fn new(dispatch: &Dispatch) -> Arc<DispatchFrame> {
        Arc::new(DispatchFrame {
            prefix: format!(r#"{{"op":"dispatch","t":"{}","s":"#, dispatch.event_type),
            suffix: format!(r#","d":{}}}"#, dispatch.payload),
        })
    }

    /// The most bytes the frame takes with any sequence number.
    fn max_len(&self) -> usize {
        const MAX_I64_DIGITS: usize = 20;
        self.prefix.len() + MAX_I64_DIGITS + self.suffix.len()
    }

    /// Appends the frame with this session's sequence number.
    fn write_with_seq(&self, seq: i64, buffer: &mut BytesMut) {
        buffer.put_slice(self.prefix.as_bytes());
        buffer.put_slice(itoa::Buffer::new().format(seq).as_bytes());
        buffer.put_slice(self.suffix.as_bytes());
    }
}

/// The texts of queued frames, in order, ready to be written with one flush.
pub fn texts(batch: Vec<Outbound>) -> impl Iterator<Item = Utf8Bytes> {
    let dispatch_bytes = batch
        .iter()
        .map(|outbound| match outbound {
            Outbound::Dispatch { frame, .. } => frame.max_len(),
            Outbound::Unsequenced(_) => 0,
        })
        .sum();
    let mut buffer = BytesMut::with_capacity(dispatch_bytes);
    batch.into_iter().map(move |outbound| match outbound {
        Outbound::Dispatch { seq, frame } => {
            frame.write_with_seq(seq, &mut buffer);
            Utf8Bytes::try_from(buffer.split().freeze())
                .expect("a dispatch frame is made of strings and digits")
        }
        Outbound::Unsequenced(text) => text,
    })
}

/// A dispatch that is never replayed and carries `"s": null`.
pub fn unsequenced(event_type: DispatchType, payload: &impl Serialize) -> String {
    // Serialising our own plain structs cannot fail.
    let payload = serde_json::to_string(payload).expect("payloads serialise");
    format!(
        r#"{{"op":"dispatch","t":"{}","s":null,"d":{payload}}}"#,
        event_type.as_str()
    )
}

pub fn server_frame(frame: &ServerFrame) -> String {
    serde_json::to_string(frame).expect("frames serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spliced_frame_is_the_json_of_the_dispatch() {
        let frame = DispatchFrame::new(&Dispatch::new("MESSAGE_CREATE", r#"{"id":"1"}"#));
        let presence = Utf8Bytes::from(r#"{"op":"dispatch","t":"PRESENCE_UPDATE","s":null}"#);
        let batch = vec![
            Outbound::Dispatch {
                seq: 42,
                frame: frame.clone(),
            },
            Outbound::Unsequenced(presence.clone()),
            Outbound::Dispatch {
                seq: i64::MAX,
                frame,
            },
        ];
        let texts: Vec<Utf8Bytes> = texts(batch).collect();
        let value = |i: usize| serde_json::from_str::<serde_json::Value>(&texts[i]).unwrap();
        assert_eq!(
            value(0),
            serde_json::json!({"op": "dispatch", "t": "MESSAGE_CREATE", "s": 42, "d": {"id": "1"}})
        );
        assert_eq!(texts[1], presence);
        assert_eq!(value(2)["s"], serde_json::json!(i64::MAX));
        let ready: serde_json::Value =
            serde_json::from_str(&unsequenced(DispatchType::Resumed, &serde_json::json!({})))
                .unwrap();
        assert_eq!(ready["s"], serde_json::Value::Null);
    }
}
