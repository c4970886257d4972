//! Picks the dashboard directory that `http/web.rs` embeds: `web/dist` once `npm run build` (or
//! `make web-build`) has produced it, otherwise a one-page fallback written to OUT_DIR, so that
//! `cargo build` never depends on npm.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::{env, fs};

const FALLBACK: &str = r#"<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>清水 qingshui</title>
<style>body{font-family:system-ui,sans-serif;max-width:44em;margin:3em auto;line-height:1.6;color:#1d2733}code{background:#eef2f6;padding:0 .3em}</style></head>
<body><h1>清水 qingshui</h1>
<p>此版本未包含监测大屏前端。请先运行 <code>make web-build</code>（或在 <code>web/</code> 中运行 <code>npm ci &amp;&amp; npm run build</code>），再重新编译。</p>
<p>This binary was built without the dashboard. Run <code>make web-build</code> (or <code>npm ci &amp;&amp; npm run build</code> in <code>web/</code>), then rebuild.</p>
<p>API: <a href="/api/v1/health">/api/v1/health</a> · <a href="/api/v1/network">/api/v1/network</a> · SensorThings: <a href="/v1.1">/v1.1</a></p>
</body></html>
"#;

fn stamp(dir: &Path, h: &mut DefaultHasher) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        p.hash(h);
        if let Ok(m) = e.metadata() {
            m.len().hash(h);
            if let Ok(t) = m.modified() {
                t.hash(h);
            }
        }
        if p.is_dir() {
            stamp(&p, h);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let web = manifest.join("../../web");
    let dist = web.join("dist");
    println!("cargo:rerun-if-changed=build.rs");
    let dir = if dist.join("index.html").is_file() {
        // Re-embed when the front end is rebuilt.
        println!("cargo:rerun-if-changed={}", dist.display());
        dist.canonicalize().unwrap_or(dist)
    } else {
        // Watch `web/` itself (it always exists) so that a later build of `web/dist` is noticed;
        // a missing path would make cargo rerun this script on every build.
        if web.is_dir() {
            println!(
                "cargo:rerun-if-changed={}",
                web.join("package.json").display()
            );
            println!("cargo:rerun-if-changed={}", web.display());
        }
        let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR")).join("web-fallback");
        fs::create_dir_all(&out).expect("create the fallback dashboard directory");
        fs::write(out.join("index.html"), FALLBACK).expect("write the fallback dashboard");
        out
    };
    let mut h = DefaultHasher::new();
    stamp(&dir, &mut h);
    println!("cargo:rustc-env=QINGSHUI_WEB_DIR={}", dir.display());
    // Read with env!() in web.rs: a changed stamp recompiles the crate, so rust-embed re-expands
    // and picks up new (hashed) asset names in release builds.
    println!("cargo:rustc-env=QINGSHUI_WEB_STAMP={:016x}", h.finish());
}
