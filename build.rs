//! Build-time facts the app shows: the version with the git revision (in
//! `--version`, About and the User-Agent), and the window icon, drawn here so
//! no image decoder is needed at run time.

use std::path::Path;
use std::process::Command;

const ICON_SIZE: u32 = 64;

fn main() {
    let rev = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=FARMHOOK_GIT_REV={rev}");
    // Rebuild when HEAD moves: a checkout changes HEAD, a commit appends to
    // logs/HEAD (HEAD itself only names the branch).
    for path in [".git/HEAD", ".git/logs/HEAD"] {
        if Path::new(path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");

    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    std::fs::write(Path::new(&out).join("icon.rgba"), draw_icon(ICON_SIZE))
        .expect("OUT_DIR is writable");
}

/// A rounded slate square with an orange notification bell-ring: readable
/// at 16 px and at 64 px.
fn draw_icon(size: u32) -> Vec<u8> {
    let mut rgba = Vec::with_capacity((size * size * 4) as usize);
    let s = size as f32;
    let c = s / 2.0;
    for y in 0..size {
        for x in 0..size {
            let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
            // Rounded-square mask.
            let r = s * 0.18;
            let dx = (fx - c).abs() - (c - r);
            let dy = (fy - c).abs() - (c - r);
            let outside = dx.max(0.0).hypot(dy.max(0.0)) - r;
            let mut px = if outside > 0.0 {
                [0, 0, 0, 0]
            } else {
                [0x23, 0x2b, 0x36, 0xff]
            };
            // Ring.
            let d = (fx - c).hypot(fy - c);
            if outside <= 0.0 && (d - s * 0.27).abs() < s * 0.07 {
                px = [0xf3, 0x9c, 0x12, 0xff];
            }
            // Dot in the middle.
            if d < s * 0.09 {
                px = [0xec, 0xf0, 0xf1, 0xff];
            }
            rgba.extend_from_slice(&px);
        }
    }
    rgba
}
