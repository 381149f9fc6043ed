//! Sets the configuration flags of the Arm kernel leaves, by target: stable
//! rustc reports no Arm target feature to `cfg`, so
//! `cfg(target_feature = "dsp")` (or `"vfp2"`) alone would leave those
//! kernels out of every stable build.
//!
//! - `cfg(typenet_arm_dsp)`: the int8 kernels may use the Armv7E-M DSP
//!   instructions (`SMLAD`, `SXTB16`): the `thumbv7em` targets (Cortex-M4
//!   and M7, every one of which has them), or an Arm Thumb target built
//!   with the `dsp` target feature (on a toolchain that reports it).
//! - `cfg(typenet_arm_fpu)`: the `f32` kernels may use the single-precision
//!   floating-point unit (`VLDM`, `VMLA.F32`, `VSQRT.F32`): the hard-float
//!   Thumb targets (`thumbv7em-none-eabihf`, Cortex-M4F and M7;
//!   `thumbv8m.main-none-eabihf`, Cortex-M33 and M55), whose ABI passes
//!   floats in the FPU's registers, so every core they build for has one.

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(typenet_arm_dsp)");
    println!("cargo::rustc-check-cfg=cfg(typenet_arm_fpu)");
    println!("cargo::rerun-if-changed=build.rs");
    let var = |name| env::var(name).unwrap_or_default();
    let (arch, target, features) = (var("CARGO_CFG_TARGET_ARCH"), var("TARGET"), var("CARGO_CFG_TARGET_FEATURE"));
    let thumb = arch == "arm" && target.starts_with("thumb");
    if thumb && (target.starts_with("thumbv7em") || features.split(',').any(|f| f == "dsp")) {
        println!("cargo::rustc-cfg=typenet_arm_dsp");
    }
    if thumb && target.ends_with("eabihf") {
        println!("cargo::rustc-cfg=typenet_arm_fpu");
    }
}
