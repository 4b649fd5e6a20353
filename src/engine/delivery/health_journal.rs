//! The health journal: a small JSON Lines file per profile with how each
//! delivery ended and every pause and resume, so the health figures (and a
//! pause) survive a restart and `farmhook status` can show them. It holds
//! outcomes in words, never a URL or a secret.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::health::{HEALTH_WINDOW_MS, HealthEntry, HealthEntryKind};
use crate::core::settings::Destination;

/// The journal of one profile.
#[derive(Debug, Clone)]
pub struct HealthJournal {
    path: PathBuf,
}

impl HealthJournal {
    pub fn new(path: PathBuf) -> Self {
        HealthJournal { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entries that still matter at `now_ms`: the last hour, plus the
    /// latest pause or resume of each destination however old. Lines that do
    /// not parse are skipped. A journal much longer than what it keeps is
    /// rewritten shorter.
    pub fn load(&self, now_ms: i64) -> Vec<HealthEntry> {
        let Ok(file) = std::fs::File::open(&self.path) else {
            return Vec::new();
        };
        let mut all: Vec<HealthEntry> = std::io::BufReader::new(file)
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str(&line).ok())
            .collect();
        let total = all.len();
        let latest_switch = |d: Destination, all: &[HealthEntry]| {
            all.iter().rposition(|e| {
                e.destination == d
                    && matches!(
                        e.kind,
                        HealthEntryKind::Paused { .. } | HealthEntryKind::Resumed
                    )
            })
        };
        let keep_switch: Vec<usize> = Destination::ALL
            .iter()
            .filter_map(|d| latest_switch(*d, &all))
            .collect();
        let mut index = 0;
        all.retain(|e| {
            let keep = now_ms - e.at_ms <= HEALTH_WINDOW_MS || keep_switch.contains(&index);
            index += 1;
            keep
        });
        if total > 2 * all.len() + 100 {
            self.rewrite(&all).ok();
        }
        all
    }

    /// Appends entries (blocking; the dispatcher calls it off the async
    /// threads).
    pub fn append(&self, entries: &[HealthEntry]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut text = String::new();
        for e in entries {
            text.push_str(&serde_json::to_string(e).expect("entries serialize"));
            text.push('\n');
        }
        // One write per batch, so lines from two processes do not interleave.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?
            .write_all(text.as_bytes())
    }

    fn rewrite(&self, entries: &[HealthEntry]) -> std::io::Result<()> {
        let tmp = self
            .path
            .with_extension(format!("jsonl.tmp-{}", std::process::id()));
        {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            for e in entries {
                serde_json::to_writer(&mut out, e)?;
                out.write_all(b"\n")?;
            }
            out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: i64, kind: HealthEntryKind) -> HealthEntry {
        HealthEntry {
            at_ms,
            destination: Destination::Discord,
            kind,
        }
    }

    #[test]
    fn keeps_the_last_hour_and_the_latest_pause() {
        let dir = tempfile::tempdir().unwrap();
        let journal = HealthJournal::new(dir.path().join("p.health.jsonl"));
        let hour = HEALTH_WINDOW_MS;
        journal
            .append(&[
                entry(
                    0,
                    HealthEntryKind::Delivered {
                        latency_ms: Some(5),
                    },
                ),
                entry(
                    1,
                    HealthEntryKind::Paused {
                        reason: "deleted".into(),
                    },
                ),
                entry(
                    2 * hour,
                    HealthEntryKind::Delivered {
                        latency_ms: Some(7),
                    },
                ),
            ])
            .unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap()
            .write_all(b"not json\n")
            .unwrap();
        let kept = journal.load(2 * hour + 10);
        assert_eq!(kept.len(), 2);
        assert!(matches!(kept[0].kind, HealthEntryKind::Paused { .. }));
        assert!(matches!(
            kept[1].kind,
            HealthEntryKind::Delivered {
                latency_ms: Some(7)
            }
        ));
        assert!(
            HealthJournal::new(dir.path().join("missing"))
                .load(0)
                .is_empty()
        );
    }
}
