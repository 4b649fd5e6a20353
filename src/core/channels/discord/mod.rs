//! Discord: the webhook URL a user pastes, and the embeds farmhook posts.

pub mod message;
pub mod url;
