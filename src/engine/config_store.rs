//! The settings file of a profile: read with care, written atomically,
//! changed by one process at a time, and the user's alone.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::private_files;
use crate::core::profile::ProfileName;
use crate::core::settings::{SETTINGS_SCHEMA_VERSION, Settings};

/// How long a change waits for another farmhook to finish its own before
/// giving up with an error.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// What went wrong with the config directory or file, in words.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no config directory could be found for this user: pass --config-dir or set FARMHOOK_CONFIG_DIR"
    )]
    NoConfigDir,
    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the settings are being changed by another farmhook process: its lock on {} was held for more than {} s; try again, or close the other farmhook",
        lock.display(),
        waited.as_secs()
    )]
    Busy { lock: PathBuf, waited: Duration },
}

/// Settings as loaded, plus anything the user should be told about them.
#[derive(Debug)]
pub struct LoadedSettings {
    pub settings: Settings,
    /// Set when the file could not be used as it was (moved aside, newer
    /// version): a sentence for the user.
    pub notice: Option<String>,
}

/// Where one profile's settings live.
#[derive(Debug, Clone)]
pub struct ConfigStore {
    dir: PathBuf,
    profile: ProfileName,
    /// The platform's own config folder (not one named by the user): an
    /// older, looser one is tightened.
    platform_dir: bool,
}

/// Held while a profile's settings are read, changed and written; dropping
/// it lets the next process in. An advisory lock on `<profile>.json.lock`,
/// so every farmhook process (window or command line) waits its turn.
#[derive(Debug)]
pub struct SettingsLock {
    _file: std::fs::File,
}

/// Held by the one process that watches this profile's printers (the
/// window or `farmhook watch`): two watchers would deliver every printer
/// event twice. An advisory lock on `<profile>.watching.lock`, released
/// when dropped or when the process ends, however it ends.
/// What the settings file held when last looked at, to tell when another
/// process changed it (the window's engine and `watch` look every second).
#[derive(Debug, Default)]
pub struct FileChanges {
    seen: Option<u64>,
}

impl FileChanges {
    /// The file's bytes (`None` when there is no file) the first time, and
    /// whenever they changed since; `None` when unchanged or unreadable.
    pub async fn look(&mut self, config: &ConfigStore) -> Option<Option<Vec<u8>>> {
        let config = config.clone();
        let bytes = tokio::task::spawn_blocking(move || config.peek())
            .await
            .ok()?
            .ok()?;
        let hash = {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::hash::DefaultHasher::new();
            bytes.hash(&mut hasher);
            hasher.finish()
        };
        (self.seen.replace(hash) != Some(hash)).then_some(bytes)
    }
}

#[derive(Debug)]
pub struct WatchLock {
    _file: std::fs::File,
}

impl ConfigStore {
    /// The config dir chosen by `--config-dir`, `FARMHOOK_CONFIG_DIR`, or the
    /// platform's (e.g. `~/.config/farmhook`).
    pub fn locate(explicit: Option<PathBuf>, profile: ProfileName) -> Result<Self, ConfigError> {
        let platform_dir = explicit.is_none();
        let dir = match explicit {
            Some(dir) => dir,
            None => directories::ProjectDirs::from("", "", "farmhook")
                .ok_or(ConfigError::NoConfigDir)?
                .config_dir()
                .to_path_buf(),
        };
        Ok(ConfigStore {
            dir,
            profile,
            platform_dir,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn profile(&self) -> &ProfileName {
        &self.profile
    }

    /// `<dir>/profiles/<profile>.json`.
    pub fn path(&self) -> PathBuf {
        self.dir
            .join("profiles")
            .join(format!("{}.json", self.profile))
    }

    /// `<dir>/profiles/<profile>.json.lock`: taken while the settings change.
    pub fn lock_path(&self) -> PathBuf {
        self.dir
            .join("profiles")
            .join(format!("{}.json.lock", self.profile))
    }

    /// `<dir>/profiles/<profile>.watching.lock`: held by whoever watches
    /// the printers.
    pub fn watch_lock_path(&self) -> PathBuf {
        self.dir
            .join("profiles")
            .join(format!("{}.watching.lock", self.profile))
    }

    /// Takes the printers of this profile for this process, or `None`
    /// when another farmhook process watches them. Never waits.
    pub fn try_watch_lock(&self) -> Result<Option<WatchLock>, ConfigError> {
        let path = self.watch_lock_path();
        let file = self.open_lock_file(&path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(WatchLock { _file: file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(source)) => Err(ConfigError::Io {
                action: "lock",
                path,
                source,
            }),
        }
    }

    /// `<dir>/profiles/<profile>.health.jsonl`: how deliveries went.
    pub fn health_journal_path(&self) -> PathBuf {
        self.dir
            .join("profiles")
            .join(format!("{}.health.jsonl", self.profile))
    }

    /// Every profile that has a settings file, sorted.
    pub fn profiles(&self) -> Vec<ProfileName> {
        let mut found: Vec<ProfileName> = std::fs::read_dir(self.dir.join("profiles"))
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| {
                let name = entry.file_name().into_string().ok()?;
                ProfileName::parse(name.strip_suffix(".json")?).ok()
            })
            .collect();
        found.sort();
        found
    }

    /// Reads the settings. A missing file gives defaults; a file that does not
    /// parse is moved aside (never overwritten) and defaults are used, with a
    /// notice saying so. `now_unix` names the moved file.
    pub fn load(&self, now_unix: i64) -> Result<LoadedSettings, ConfigError> {
        // Files left readable by others by an older farmhook are tightened
        // as soon as they are seen; one that cannot be is still read.
        self.tighten_existing().ok();
        let path = self.path();
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(LoadedSettings {
                    settings: Settings::default(),
                    notice: None,
                });
            }
            // Not UTF-8 is a corrupt file like any other.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => String::new(),
            Err(source) => {
                return Err(ConfigError::Io {
                    action: "read",
                    path,
                    source,
                });
            }
        };
        match serde_json::from_str::<Settings>(&text) {
            Ok(settings) if settings.schema_version > SETTINGS_SCHEMA_VERSION => {
                Ok(LoadedSettings {
                    notice: Some(format!(
                        "{} was written by a newer farmhook (settings version {}); this one understands version {} and keeps what it knows",
                        path.display(),
                        settings.schema_version,
                        SETTINGS_SCHEMA_VERSION
                    )),
                    settings,
                })
            }
            Ok(settings) => Ok(LoadedSettings {
                settings,
                notice: None,
            }),
            Err(parse_error) => {
                let aside = path.with_extension(format!("json.corrupt-{now_unix}"));
                std::fs::rename(&path, &aside).map_err(|source| ConfigError::Io {
                    action: "move aside the unreadable",
                    path: path.clone(),
                    source,
                })?;
                Ok(LoadedSettings {
                    settings: Settings::default(),
                    notice: Some(format!(
                        "the settings file could not be read ({parse_error}); it was moved to {} and defaults are used",
                        aside.display()
                    )),
                })
            }
        }
    }

    /// What the settings file holds now (`None` when there is none), read
    /// without locking or moving anything: for noticing changes another
    /// process made. Saves replace the file whole, so this never sees half
    /// of one.
    pub fn peek(&self) -> Result<Option<Vec<u8>>, ConfigError> {
        let path = self.path();
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ConfigError::Io {
                action: "read",
                path,
                source,
            }),
        }
    }

    /// Settings from what [`ConfigStore::peek`] read: defaults for no file,
    /// `None` for a file that does not parse (it is left for the next
    /// [`ConfigStore::load`] to deal with).
    pub fn parse(bytes: Option<&[u8]>) -> Option<Settings> {
        match bytes {
            None => Some(Settings::default()),
            Some(bytes) => serde_json::from_slice(bytes).ok(),
        }
    }

    /// Waits (up to [`LOCK_WAIT`]) until no other farmhook process is
    /// changing this profile's settings, and keeps them out until the lock is
    /// dropped. Blocking: call it off the async threads, and never twice in
    /// one process at once (the second call would wait for the first).
    pub fn lock(&self) -> Result<SettingsLock, ConfigError> {
        self.lock_within(LOCK_WAIT)
    }

    fn lock_within(&self, bound: Duration) -> Result<SettingsLock, ConfigError> {
        let path = self.lock_path();
        let file = self.open_lock_file(&path)?;
        let start = Instant::now();
        // Short at first (another process holds it for a few milliseconds),
        // never so long that a freed lock sits unused.
        let mut pause = Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(SettingsLock { _file: file }),
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < bound => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(ConfigError::Busy {
                        lock: path,
                        waited: bound,
                    });
                }
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(ConfigError::Io {
                        action: "lock",
                        path,
                        source,
                    });
                }
            }
        }
    }

    /// Opens (creating it, owner-only) one of this profile's lock files,
    /// after the folders it lives in.
    fn open_lock_file(&self, path: &Path) -> Result<std::fs::File, ConfigError> {
        self.prepare_dirs()?;
        let file = private_files::file_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|source| ConfigError::Io {
                action: "open the lock file",
                path: path.to_path_buf(),
                source,
            })?;
        private_files::tighten_file(&file).ok();
        Ok(file)
    }

    /// Creates the config and profiles folders owner-only; returns the
    /// profiles folder. The platform's config folder is tightened if it is
    /// looser (an older farmhook made it 0755); a folder the user named is
    /// left as it is, but the profiles folder inside it is always ours.
    fn prepare_dirs(&self) -> Result<PathBuf, ConfigError> {
        let profiles = self.dir.join("profiles");
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ConfigError::Io {
                action: "create",
                path,
                source,
            }
        };
        if self.platform_dir || !self.dir.exists() {
            private_files::create_dir(&self.dir).map_err(io(&self.dir))?;
        }
        private_files::create_dir(&profiles).map_err(io(&profiles))?;
        self.tighten_existing().ok();
        Ok(profiles)
    }

    /// Takes group and other access away from this profile's folders and
    /// files that already exist.
    fn tighten_existing(&self) -> std::io::Result<()> {
        if self.platform_dir {
            private_files::tighten_dir(&self.dir)?;
        }
        private_files::tighten_dir(&self.dir.join("profiles"))?;
        private_files::tighten_path(&self.path())?;
        private_files::tighten_path(&self.health_journal_path())?;
        private_files::tighten_path(&self.lock_path())?;
        private_files::tighten_path(&self.watch_lock_path())
    }

    /// Writes the settings atomically: a temp file beside it (created
    /// exclusively, under a name no one can guess, owner-only), fsync,
    /// rename, fsync of the folder. A crash leaves the old file or the new
    /// one. Callers that read first hold [`ConfigStore::lock`].
    pub fn save(&self, settings: &Settings) -> Result<(), ConfigError> {
        let path = self.path();
        let dir = self.prepare_dirs()?;
        let text = serde_json::to_string_pretty(settings).expect("settings always serialize");
        let write = || -> std::io::Result<tempfile::NamedTempFile> {
            let mut file = tempfile::Builder::new()
                .prefix(&format!(".{}.json.", self.profile))
                .suffix(".tmp")
                .tempfile_in(&dir)?;
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")?;
            file.as_file().sync_all()?;
            Ok(file)
        };
        // A temp file that could not be finished is removed when dropped.
        let tmp = write().map_err(|source| ConfigError::Io {
            action: "write a temp file in",
            path: dir.clone(),
            source,
        })?;
        tmp.persist(&path).map_err(|e| ConfigError::Io {
            action: "replace",
            path: path.clone(),
            source: e.error,
        })?;
        // Make the rename itself durable; not every platform can open a dir.
        if let Ok(d) = std::fs::File::open(&dir) {
            d.sync_all().ok();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::settings::Plan;

    fn store(dir: &Path) -> ConfigStore {
        ConfigStore::locate(Some(dir.to_path_buf()), ProfileName::default()).unwrap()
    }

    #[test]
    fn missing_file_gives_defaults_and_save_round_trips() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store(tmp.path());
        let loaded = s.load(0).unwrap();
        assert_eq!(loaded.settings, Settings::default());
        assert!(loaded.notice.is_none());
        let settings = Settings {
            plan: Plan::Commercial,
            ..Settings::default()
        };
        s.save(&settings).unwrap();
        assert_eq!(s.load(0).unwrap().settings, settings);
        // No temp file is left behind.
        let names: Vec<_> = std::fs::read_dir(s.path().parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, [std::ffi::OsString::from("default.json")]);
        assert_eq!(s.profiles(), [ProfileName::default()]);
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_not_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store(tmp.path());
        std::fs::create_dir_all(s.path().parent().unwrap()).unwrap();
        std::fs::write(s.path(), "{ \"plan\": \"commercial\", oops").unwrap();
        let loaded = s.load(1764183000).unwrap();
        assert_eq!(loaded.settings, Settings::default());
        let notice = loaded.notice.unwrap();
        assert!(
            notice.contains("moved to") && notice.contains("corrupt-1764183000"),
            "{notice}"
        );
        let aside = s.path().with_extension("json.corrupt-1764183000");
        assert_eq!(
            std::fs::read_to_string(aside).unwrap(),
            "{ \"plan\": \"commercial\", oops"
        );
        assert!(!s.path().exists());
    }

    #[test]
    fn a_newer_file_is_read_with_a_notice() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store(tmp.path());
        std::fs::create_dir_all(s.path().parent().unwrap()).unwrap();
        std::fs::write(
            s.path(),
            r#"{"schema_version": 9, "plan": "commercial", "future": 1}"#,
        )
        .unwrap();
        let loaded = s.load(0).unwrap();
        assert_eq!(loaded.settings.plan, Plan::Commercial);
        assert!(loaded.notice.unwrap().contains("newer farmhook"));
    }

    #[test]
    fn a_held_lock_makes_the_next_change_wait_then_fail_in_words() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store(tmp.path());
        let held = s.lock().unwrap();
        // flock is per open file: a second lock in this process contends
        // like another process would.
        let e = s.lock_within(Duration::from_millis(50)).unwrap_err();
        let words = e.to_string();
        assert!(
            words.contains("being changed by another farmhook process")
                && words.contains("default.json.lock"),
            "{words}"
        );
        drop(held);
        s.lock_within(Duration::from_millis(50)).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn save_never_follows_a_symlink_at_the_old_temp_name() {
        let tmp = tempfile::tempdir().unwrap();
        let s = store(tmp.path());
        let profiles = tmp.path().join("profiles");
        std::fs::create_dir_all(&profiles).unwrap();
        let victim = tmp.path().join("victim");
        std::fs::write(&victim, "keep me").unwrap();
        // The name older versions wrote to, predictable from the pid.
        let planted = profiles.join(format!(".default.json.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        s.save(&Settings::default()).unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert!(
            std::fs::symlink_metadata(&planted)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(s.load(0).unwrap().settings, Settings::default());
    }

    #[cfg(unix)]
    #[test]
    fn files_and_folders_are_owner_only_and_looser_old_ones_are_tightened() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let tmp = tempfile::tempdir().unwrap();
        let s = store(&tmp.path().join("config"));
        let profiles = tmp.path().join("config/profiles");
        std::fs::create_dir_all(&profiles).unwrap();
        std::fs::set_permissions(&profiles, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(s.health_journal_path(), "").unwrap();
        std::fs::set_permissions(
            s.health_journal_path(),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        drop(s.lock().unwrap());
        s.save(&Settings::default()).unwrap();
        assert_eq!(mode(&profiles), 0o700);
        assert_eq!(mode(&s.path()), 0o600);
        assert_eq!(mode(&s.lock_path()), 0o600);
        assert_eq!(mode(&s.health_journal_path()), 0o600);
    }
}
