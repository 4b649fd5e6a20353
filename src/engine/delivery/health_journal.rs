//! The health journal: a small JSON Lines file per profile with how each
//! delivery ended and every pause and resume, so the health figures (and a
//! pause) survive a restart and `farmhook status` can show them. It holds
//! outcomes in words, never a URL or a secret.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use super::health::{HEALTH_WINDOW_MS, HealthEntry, HealthEntryKind};
use crate::core::settings::Channel;
use crate::engine::private_files;

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
        // Line by line as bytes: a line that is not UTF-8 or not an entry is
        // skipped, and the lines after it still count.
        let mut all = Vec::new();
        let mut read_whole = true;
        for line in std::io::BufReader::new(file).split(b'\n') {
            match line {
                Ok(line) => all.extend(serde_json::from_slice::<HealthEntry>(&line).ok()),
                Err(_) => {
                    read_whole = false;
                    break;
                }
            }
        }
        let total = all.len();
        let latest_switch = |d: Channel, all: &[HealthEntry]| {
            all.iter().rposition(|e| {
                e.destination == d
                    && matches!(
                        e.kind,
                        HealthEntryKind::Paused { .. } | HealthEntryKind::Resumed
                    )
            })
        };
        let keep_switch: Vec<usize> = Channel::ALL
            .iter()
            .filter_map(|d| latest_switch(*d, &all))
            .collect();
        let mut index = 0;
        all.retain(|e| {
            // abs_diff: an absurd time in the file must not overflow.
            let keep = e.at_ms.abs_diff(now_ms) <= HEALTH_WINDOW_MS.unsigned_abs()
                || keep_switch.contains(&index);
            index += 1;
            keep
        });
        // Only a journal read to its end is rewritten: what could not be
        // read is never dropped.
        if read_whole && total > 2 * all.len() + 100 {
            self.rewrite(&all).ok();
        }
        all
    }

    /// Appends entries (blocking; the dispatcher calls it off the async
    /// threads).
    pub fn append(&self, entries: &[HealthEntry]) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            private_files::create_dir(dir)?;
        }
        let mut text = String::new();
        for e in entries {
            text.push_str(&serde_json::to_string(e).expect("entries serialize"));
            text.push('\n');
        }
        // One write per batch, so lines from two processes do not interleave.
        let mut file = private_files::file_options()
            .create(true)
            .append(true)
            .open(&self.path)?;
        // One owned by another user cannot be tightened; it is still written.
        private_files::tighten_file(&file).ok();
        file.write_all(text.as_bytes())
    }

    /// Replaces the journal with `entries`, through a temp file created
    /// exclusively under a name no one can guess (owner-only).
    fn rewrite(&self, entries: &[HealthEntry]) -> std::io::Result<()> {
        let dir = match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".health.")
            .suffix(".tmp")
            .tempfile_in(dir)?;
        {
            let mut out = std::io::BufWriter::new(tmp.as_file_mut());
            for e in entries {
                serde_json::to_writer(&mut out, e)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
        }
        tmp.as_file().sync_all()?;
        tmp.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: i64, kind: HealthEntryKind) -> HealthEntry {
        HealthEntry {
            at_ms,
            destination: Channel::Discord,
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

    #[test]
    fn a_line_that_is_not_utf8_is_skipped_and_the_rest_is_kept_through_a_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let journal = HealthJournal::new(dir.path().join("p.health.jsonl"));
        let hour = HEALTH_WINDOW_MS;
        let now = 10 * hour;
        // Old entries enough to make the reader rewrite the journal shorter.
        let old: Vec<HealthEntry> = (0..300)
            .map(|i| entry(i, HealthEntryKind::Delivered { latency_ms: None }))
            .collect();
        journal.append(&old).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap()
            .write_all(b"{\"at_ms\": \xff\xfe broken\n")
            .unwrap();
        journal
            .append(&[
                entry(
                    now - 5,
                    HealthEntryKind::Delivered {
                        latency_ms: Some(1),
                    },
                ),
                entry(
                    now - 4,
                    HealthEntryKind::Paused {
                        reason: "deleted".into(),
                    },
                ),
            ])
            .unwrap();
        let kept = journal.load(now);
        assert_eq!(kept.len(), 2, "{kept:?}");
        assert!(matches!(kept[1].kind, HealthEntryKind::Paused { .. }));
        // The rewrite happened and kept what followed the bad line.
        let text = std::fs::read_to_string(journal.path()).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert_eq!(journal.load(now).len(), 2);
    }

    #[test]
    fn absurd_times_neither_overflow_nor_count_as_recent() {
        let dir = tempfile::tempdir().unwrap();
        let journal = HealthJournal::new(dir.path().join("p.health.jsonl"));
        journal
            .append(&[
                entry(i64::MIN, HealthEntryKind::Delivered { latency_ms: None }),
                entry(i64::MAX, HealthEntryKind::Delivered { latency_ms: None }),
                entry(5, HealthEntryKind::Delivered { latency_ms: None }),
            ])
            .unwrap();
        for now in [i64::MIN, 0, i64::MAX] {
            let kept = journal.load(now);
            assert!(
                kept.iter().all(|e| e.at_ms.abs_diff(now) <= 3_600_000),
                "{kept:?}"
            );
        }
        assert_eq!(journal.load(0).len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn the_journal_is_owner_only_and_its_rewrite_follows_no_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let profiles = dir.path().join("profiles");
        let journal = HealthJournal::new(profiles.join("p.health.jsonl"));
        let old: Vec<HealthEntry> = (0..300)
            .map(|i| entry(i, HealthEntryKind::Delivered { latency_ms: None }))
            .collect();
        journal.append(&old).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&profiles), 0o700);
        assert_eq!(mode(journal.path()), 0o600);
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        let planted = profiles.join(format!("p.health.jsonl.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        assert!(journal.load(HEALTH_WINDOW_MS * 10).is_empty());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert_eq!(std::fs::read_to_string(journal.path()).unwrap(), "");
        assert_eq!(mode(journal.path()), 0o600);
    }
}
