//! Clearing a copied secret from the system clipboard, as password
//! managers do: [`CLEAR_AFTER`] after the window copied it (or when farmhook
//! closes first), the clipboard is cleared if it still holds exactly what
//! was copied; anything the user copied since is left alone. Every call to
//! the clipboard runs on tokio's blocking pool, never on the UI thread.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// How long a copied secret stays on the clipboard.
pub const CLEAR_AFTER: Duration = Duration::from_secs(30);

/// Which secret the window asked to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretToCopy {
    ApiKey,
    SigningSecret,
}

impl SecretToCopy {
    /// The secret's name in sentences.
    pub fn label(self) -> &'static str {
        match self {
            SecretToCopy::ApiKey => "API key",
            SecretToCopy::SigningSecret => "signing secret",
        }
    }
}

/// The latest copy, so that a timer knows whether it is still its turn: a
/// later copy restarts the wait, as in a password manager.
#[derive(Default)]
struct Pending {
    latest: Option<(u64, SecretToCopy, SecretString)>,
    copies: u64,
}

impl Pending {
    /// Records a new copy; its number for the timer.
    fn start(&mut self, what: SecretToCopy, secret: SecretString) -> u64 {
        self.copies += 1;
        self.latest = Some((self.copies, what, secret));
        self.copies
    }

    /// What the timer of copy `number` should clear (`None` when a later
    /// copy took over or it was cleared already); with `None` for `number`,
    /// whatever is pending (farmhook is closing).
    fn take(&mut self, number: Option<u64>) -> Option<(SecretToCopy, SecretString)> {
        match &self.latest {
            Some((n, _, _)) if number.is_none_or(|wanted| wanted == *n) => {
                self.latest.take().map(|(_, what, secret)| (what, secret))
            }
            _ => None,
        }
    }
}

/// True when the clipboard still holds exactly what farmhook put there:
/// anything the user copied since is theirs and stays.
fn still_ours(clipboard_now: Option<&str>, copied: &str) -> bool {
    clipboard_now == Some(copied)
}

/// The engine's hold on the clipboard. Cheap to clone; clones share the
/// clipboard and the pending copy.
#[derive(Clone, Default)]
pub struct SecretClipboard {
    /// Opened on first use and kept while farmhook runs.
    system: Arc<Mutex<Option<arboard::Clipboard>>>,
    pending: Arc<Mutex<Pending>>,
}

impl SecretClipboard {
    /// Clears `secret` from the clipboard after [`CLEAR_AFTER`] if it is
    /// still there; a later copy restarts the wait. `on_done` hears whether
    /// the clipboard could be reached (not when a later copy took over).
    pub fn clear_later(
        &self,
        what: SecretToCopy,
        secret: SecretString,
        on_done: impl FnOnce(Result<(), String>) + Send + 'static,
    ) {
        let number = lock(&self.pending).start(what, secret);
        let this = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(CLEAR_AFTER).await;
            if let Some(result) = this.clear(Some(number)).await {
                on_done(result);
            }
        });
    }

    /// Clears copy `number` (with `None`, whatever is pending: farmhook is
    /// closing) if it is still the latest and still on the clipboard.
    /// `None` when there was nothing to do.
    pub async fn clear(&self, number: Option<u64>) -> Option<Result<(), String>> {
        let (_, secret) = lock(&self.pending).take(number)?;
        let system = self.system.clone();
        let cleared = tokio::task::spawn_blocking(move || {
            let mut guard = lock(&system);
            let clipboard = open(&mut guard)?;
            let now = clipboard.get_text().ok();
            if still_ours(now.as_deref(), secret.expose_secret()) {
                clipboard
                    .clear()
                    .map_err(|e| format!("the clipboard could not be cleared: {e}"))?;
            }
            Ok(())
        })
        .await
        .unwrap_or_else(|e| Err(format!("the clipboard task stopped: {e}")));
        Some(cleared)
    }
}

fn open(slot: &mut Option<arboard::Clipboard>) -> Result<&mut arboard::Clipboard, String> {
    if slot.is_none() {
        *slot = Some(
            arboard::Clipboard::new()
                .map_err(|e| format!("the system clipboard cannot be reached: {e}"))?,
        );
    }
    // Filled just above when it was empty.
    slot.as_mut()
        .ok_or_else(|| "the system clipboard cannot be reached".to_string())
}

/// Each change is one assignment, so the data stays whole even after a
/// panic elsewhere.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        s.into()
    }

    #[test]
    fn only_the_latest_copy_is_cleared_and_only_once() {
        let mut pending = Pending::default();
        let first = pending.start(SecretToCopy::ApiKey, secret("key-1"));
        let second = pending.start(SecretToCopy::SigningSecret, secret("whsec_2"));
        // The first timer finds a later copy: it leaves it alone.
        assert!(pending.take(Some(first)).is_none());
        let (what, taken) = pending.take(Some(second)).unwrap();
        assert_eq!(what, SecretToCopy::SigningSecret);
        assert_eq!(taken.expose_secret(), "whsec_2");
        assert!(pending.take(Some(second)).is_none());
        assert!(pending.take(None).is_none());
    }

    #[test]
    fn closing_clears_whatever_is_pending() {
        let mut pending = Pending::default();
        pending.start(SecretToCopy::ApiKey, secret("key-1"));
        assert_eq!(pending.take(None).unwrap().0, SecretToCopy::ApiKey);
        assert!(pending.take(None).is_none());
    }

    #[test]
    fn only_our_own_text_is_cleared() {
        assert!(still_ours(Some("key-1"), "key-1"));
        assert!(!still_ours(Some("something the user copied"), "key-1"));
        assert!(!still_ours(Some("key-1 "), "key-1"));
        assert!(!still_ours(None, "key-1"));
    }
}
