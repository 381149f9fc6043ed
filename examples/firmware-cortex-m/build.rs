//! Chooses the board the firmware is linked for, puts its `memory.x`
//! where the linker finds it, and tells the code what it needs to know
//! about the core and the board.
//!
//! The board comes from the environment variable `FIRMWARE_BOARD` (one of
//! the directories of `boards/`), else from the Rust target: `microbit`
//! for `thumbv6m-none-eabi`, `lm3s6965evb` for `thumbv7m-none-eabi`,
//! `mps2-an386` for `thumbv7em-none-eabihf`, `mps2-an505` for
//! `thumbv8m.main-none-eabihf`, `virt` for `riscv32imac-unknown-none-elf`.
//! No `memory.x` lives in the crate's root: the linker would find that
//! one first, whatever the board.

use std::path::PathBuf;
use std::{env, fs};

/// A board QEMU emulates.
struct Board {
    name: &'static str,
    /// `arm` or `riscv32`: the targets whose code it runs.
    arch: &'static str,
    /// Its RAM in bytes, as its `memory.x` says.
    ram: u32,
    /// Instructions per tick of the instruction counter under QEMU's
    /// `-icount shift=0` (one nanosecond of virtual time per instruction),
    /// as a fraction: the SysTick clock's period in nanoseconds on the
    /// Arm boards, 1 for `minstret` on RISC-V. Measured, and checked by
    /// the firmware against a loop of known length every run.
    per_tick: (u32, u32),
}

const BOARDS: &[Board] = &[
    // nRF51: SysTick at the 16 MHz HCLK, 62.5 ns.
    Board { name: "microbit", arch: "arm", ram: 16 << 10, per_tick: (125, 2) },
    // Stellaris: SysTick at the system clock the firmware sets (see `arch::cortex_m`).
    Board { name: "lm3s6965evb", arch: "arm", ram: 64 << 10, per_tick: (20, 1) },
    // MPS2 FPGA images: SysTick at 25 MHz (an386, an500) and 20 MHz (an505).
    Board { name: "mps2-an386", arch: "arm", ram: 4 << 20, per_tick: (40, 1) },
    Board { name: "mps2-an500", arch: "arm", ram: 4 << 20, per_tick: (40, 1) },
    Board { name: "mps2-an505", arch: "arm", ram: 4 << 20, per_tick: (50, 1) },
    Board { name: "virt", arch: "riscv32", ram: 16 << 20, per_tick: (1, 1) },
];

/// RAM below which the 19 KB `f32` digits model does not fit beside the
/// stack: such a board classifies the digits with the int8 model.
const F32_DIGITS_RAM: u32 = 32 << 10;

/// RAM below which fine-tuning the digits head with Adam (its two moments
/// beside the gradients) does not fit beside the stack: such a board
/// fine-tunes with SGD (`src/bin/finetune.rs`, whose budget check says so
/// at compile time when it does not fit).
const ADAM_FINETUNE_RAM: u32 = 32 << 10;

fn main() {
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let arch = env::var("CARGO_CFG_TARGET_ARCH").expect("cargo sets CARGO_CFG_TARGET_ARCH");
    println!("cargo:rerun-if-env-changed=FIRMWARE_BOARD");
    let name = env::var("FIRMWARE_BOARD").ok().filter(|b| !b.is_empty()).unwrap_or_else(|| {
        match target.as_str() {
            "thumbv6m-none-eabi" => "microbit",
            "thumbv7m-none-eabi" => "lm3s6965evb",
            "thumbv8m.main-none-eabihf" => "mps2-an505",
            t if t.starts_with("riscv32") => "virt",
            _ => "mps2-an386",
        }
        .to_owned()
    });
    let Some(board) = BOARDS.iter().find(|b| b.name == name) else {
        let names: Vec<_> = BOARDS.iter().map(|b| b.name).collect();
        panic!("FIRMWARE_BOARD={name}: not a board of boards/ (one of {})", names.join(", "));
    };
    assert_eq!(board.arch, arch, "FIRMWARE_BOARD={name} does not run {target} code");

    // A memory.x in the crate's root would win over the board's (rustc
    // links from there, and the linker looks there first). Checked when
    // this script runs (a missing file named in `rerun-if-changed` would
    // make every build rerun it).
    assert!(
        !std::path::Path::new("memory.x").exists(),
        "a memory.x in the crate's root would be linked instead of boards/{name}/memory.x: remove it"
    );

    // The board's memory.x, in a directory of its own on the link path.
    let memory = format!("boards/{name}/memory.x");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::copy(&memory, out.join("memory.x")).unwrap_or_else(|e| panic!("copying {memory}: {e}"));
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed={memory}");
    // The runtimes' linker scripts: cortex-m-rt's `link.x` includes
    // `memory.x`; riscv-rt's needs it named first.
    if arch == "riscv32" {
        println!("cargo:rustc-link-arg=-Tmemory.x");
    }
    println!("cargo:rustc-link-arg=-Tlink.x");

    // The core the code is built for: the target, and `-C target-cpu`.
    let flags = env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default().replace('\x1f', " ");
    let cpu = flags.split_whitespace().find_map(|f| f.trim_start_matches("-C").strip_prefix("target-cpu="));
    let core = match (target.as_str(), cpu) {
        (_, Some("cortex-m7")) => "cortex-m7",
        ("thumbv7em-none-eabihf", _) => "cortex-m4f",
        ("thumbv7em-none-eabi", _) => "cortex-m4",
        ("thumbv7m-none-eabi", _) => "cortex-m3",
        ("thumbv6m-none-eabi", _) => "cortex-m0",
        ("thumbv8m.main-none-eabihf", _) => "cortex-m33",
        ("riscv32imac-unknown-none-elf", _) => "rv32imac",
        (other, _) => other,
    };
    println!("cargo:rustc-env=FIRMWARE_CORE={core}");
    println!("cargo:rustc-env=FIRMWARE_BOARD={name}");
    println!("cargo:rustc-env=FIRMWARE_PER_TICK_NUM={}", board.per_tick.0);
    println!("cargo:rustc-env=FIRMWARE_PER_TICK_DEN={}", board.per_tick.1);
    println!("cargo:rustc-env=FIRMWARE_RAM_BYTES={}", board.ram);
    let names: Vec<_> = BOARDS.iter().map(|b| format!("\"{}\"", b.name)).collect();
    println!("cargo:rustc-check-cfg=cfg(firmware_board, values({}))", names.join(", "));
    println!("cargo:rustc-cfg=firmware_board=\"{name}\"");
    println!("cargo:rustc-check-cfg=cfg(digits_int8)");
    if board.ram < F32_DIGITS_RAM {
        println!("cargo:rustc-cfg=digits_int8");
    }
    println!("cargo:rustc-check-cfg=cfg(finetune_sgd)");
    if board.ram < ADAM_FINETUNE_RAM {
        println!("cargo:rustc-cfg=finetune_sgd");
    }
}
