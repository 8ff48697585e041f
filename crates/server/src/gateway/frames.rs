//! Server frames as bytes. A dispatch's JSON is built once per event and shared by every
//! session that receives it; only `s` differs, so it is spliced between a shared prefix and
//! suffix when the frame is written.

use std::sync::Arc;

use madang_protocol::gateway::{DispatchType, ServerFrame};
use madang_store::Dispatch;
use serde::Serialize;

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

    /// The frame with this session's sequence number.
    pub fn with_seq(&self, seq: i64) -> String {
        let mut buffer = itoa::Buffer::new();
        let seq = buffer.format(seq);
        let mut text = String::with_capacity(self.prefix.len() + seq.len() + self.suffix.len());
        text.push_str(&self.prefix);
        text.push_str(seq);
        text.push_str(&self.suffix);
        text
    }
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
        let value: serde_json::Value = serde_json::from_str(&frame.with_seq(42)).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"op": "dispatch", "t": "MESSAGE_CREATE", "s": 42, "d": {"id": "1"}})
        );
        let ready: serde_json::Value =
            serde_json::from_str(&unsequenced(DispatchType::Resumed, &serde_json::json!({})))
                .unwrap();
        assert_eq!(ready["s"], serde_json::Value::Null);
    }
}
