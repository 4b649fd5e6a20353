//! The settings file of a profile: read with care, written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::core::profile::ProfileName;
use crate::core::settings::{SETTINGS_SCHEMA_VERSION, Settings};

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
}

impl ConfigStore {
    /// The config dir chosen by `--config-dir`, `FARMHOOK_CONFIG_DIR`, or the
    /// platform's (e.g. `~/.config/farmhook`).
    pub fn locate(explicit: Option<PathBuf>, profile: ProfileName) -> Result<Self, ConfigError> {
        let dir = match explicit {
            Some(dir) => dir,
            None => directories::ProjectDirs::from("", "", "farmhook")
                .ok_or(ConfigError::NoConfigDir)?
                .config_dir()
                .to_path_buf(),
        };
        Ok(ConfigStore { dir, profile })
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

    /// Writes the settings atomically: a temp file beside it, fsync, rename,
    /// fsync of the directory. A crash leaves the old file or the new one.
    pub fn save(&self, settings: &Settings) -> Result<(), ConfigError> {
        let path = self.path();
        let dir = path.parent().unwrap_or(&self.dir).to_path_buf();
        let io = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| ConfigError::Io {
                action,
                path,
                source,
            }
        };
        std::fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        let text = serde_json::to_string_pretty(settings).expect("settings always serialize");
        let tmp = dir.join(format!(".{}.json.tmp-{}", self.profile, std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()
        };
        if let Err(source) = write() {
            std::fs::remove_file(&tmp).ok();
            return Err(ConfigError::Io {
                action: "write",
                path: tmp,
                source,
            });
        }
        std::fs::rename(&tmp, &path).map_err(io("replace", &path))?;
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
}
