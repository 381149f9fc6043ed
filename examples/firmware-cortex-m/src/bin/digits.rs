//! Inference only: the digits classifier trained on the host, loaded from
//! flash, run on the held-out test digits. Builds for the Cortex-M0
//! (`thumbv6m-none-eabi`, no FPU: `f32` in software) as well as the
//! Cortex-M4; `run.sh` builds it for both and runs the Cortex-M0 build on
//! the emulated Cortex-M4, whose instruction set contains the M0's.
//!
//! Its last line is one record:
//! `digits: result=pass correct=.../... same_as_host=.../... inference_instructions=... stack_bytes=...`.

#![no_std]
#![no_main]

use core::mem::MaybeUninit;

use panic_halt as _;

use firmware_cortex_m::{
    Clock, Mlp, entry, exit, fail, load_digits, paint_stack, predict, println, score, stack_high_water, test_digits,
};

const PROGRAM: &str = "digits";

/// The model: a `static`, so its 19 KB are not on the stack.
static mut MODEL: MaybeUninit<Mlp> = MaybeUninit::uninit();

#[entry]
fn main() -> ! {
    paint_stack();
    let mut clock = Clock::take(PROGRAM);
    // SAFETY: `main` runs once and never returns: this is the only
    // reference to the static there ever is.
    let slot = unsafe { &mut *core::ptr::addr_of_mut!(MODEL) };
    let model = load_digits(PROGRAM, slot);
    let Some(first) = test_digits().next() else { fail(PROGRAM, "no test digits") };
    let (_, inference_instructions) = clock.instructions(|| predict(model, first.pixels));
    let score = score(model);
    let stack = stack_high_water();
    let passed = score.passed();
    println!(
        "digits: result={} correct={}/{} same_as_host={}/{} inference_instructions={} stack_bytes={}",
        if passed { "pass" } else { "FAIL" },
        score.correct,
        score.total,
        score.same_as_host,
        score.total,
        inference_instructions,
        stack
    );
    exit(passed)
}
