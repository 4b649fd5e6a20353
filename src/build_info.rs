//! Facts fixed at build time (see `build.rs`).

/// The crate version, e.g. `0.1.0`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The short git revision this binary was built from, or `unknown`.
pub const GIT_REV: &str = env!("FARMHOOK_GIT_REV");
/// What `--version` and About show.
pub const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("FARMHOOK_GIT_REV"),
    ")"
);
/// Sent with every request.
pub const USER_AGENT: &str = concat!("farmhook/", env!("CARGO_PKG_VERSION"));

/// The window icon as 64×64 RGBA.
pub const ICON_RGBA: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/icon.rgba"));
pub const ICON_SIZE: u32 = 64;
