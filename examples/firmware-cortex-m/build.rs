//! Puts `memory.x` where the linker (cortex-m-rt's `link.x`) finds it, and
//! names the core the build is for (`FIRMWARE_CORE`, which the binaries
//! print) from the Rust target.

use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy("memory.x", out.join("memory.x")).expect("copying memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.x");
    let target = env::var("TARGET").unwrap_or_default();
    let core = match target.as_str() {
        "thumbv7em-none-eabihf" => "cortex-m4f",
        "thumbv7em-none-eabi" => "cortex-m4",
        "thumbv7m-none-eabi" => "cortex-m3",
        "thumbv6m-none-eabi" => "cortex-m0",
        other => other,
    };
    println!("cargo:rustc-env=FIRMWARE_CORE={core}");
}
