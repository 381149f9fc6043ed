//! Sets `cfg(typenet_arm_dsp)` where the int8 kernels may use the Armv7E-M
//! DSP instructions (`SMLAD`, `SXTB16`): the `thumbv7em` targets (Cortex-M4
//! and M7, every one of which has them), or an Arm Thumb target built with
//! the `dsp` target feature (on a toolchain that reports it). Stable rustc
//! reports no Arm target feature to `cfg`, so `cfg(target_feature = "dsp")`
//! alone would leave the DSP kernels out of every stable build.

use std::env;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(typenet_arm_dsp)");
    println!("cargo::rerun-if-changed=build.rs");
    let var = |name| env::var(name).unwrap_or_default();
    let (arch, target, features) = (var("CARGO_CFG_TARGET_ARCH"), var("TARGET"), var("CARGO_CFG_TARGET_FEATURE"));
    let thumb = arch == "arm" && target.starts_with("thumb");
    if thumb && (target.starts_with("thumbv7em") || features.split(',').any(|f| f == "dsp")) {
        println!("cargo::rustc-cfg=typenet_arm_dsp");
    }
}
