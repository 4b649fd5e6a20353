//! What the chat services' senders share: their pure answer rules take the
//! status, headers and body of an answer.

use super::http::HttpAnswer;

/// An answer as the channels' pure rules in `core` read it.
pub fn parts(answer: &HttpAnswer) -> (u16, &[(String, String)], &[u8]) {
    (answer.status, &answer.headers, &answer.body[..])
}
