//! Int8 inference only: the digits classifier's int8 twin (converted on
//! the host by `typenet::quant::quantize`), loaded from flash with
//! `typenet::quant::file::load`, run on the held-out test digits with
//! integers alone. Builds for the Cortex-M4F, where the int8 kernels use
//! the DSP instructions (`SMLAD`), and for the Cortex-M0, where they run
//! the portable loop; `run.sh` runs both on the emulated Cortex-M4.
//!
//! Its last line is one record:
//! `int8: core=... result=pass correct=.../... same_as_host=.../... inference_instructions=... macs=... params_bytes=... stack_bytes=...`.

#![no_std]
#![no_main]

use core::mem::MaybeUninit;

use panic_halt as _;
use typenet::__int8_kernels::{KERNEL, matvec};
use typenet::layer::Layer;
use typenet::prelude::*;
use typenet::quant::{self, Int8Tensor};

use firmware_cortex_m::{
    CORE, Clock, DIGITS_FLOOR_PERCENT, DIGITS_MACS, INT8_PARAMS, Int8Mlp, Ratio, TEST_LEN, entry, exit, fail, input,
    int8_pixel_table, load_int8_digits, paint_stack, predict_int8, println, score_int8, stack_high_water, test_digits,
};

const PROGRAM: &str = "int8";

/// The model: a `static`, as the `f32` one is (here 5.7 KB).
static mut MODEL: MaybeUninit<Int8Mlp> = MaybeUninit::uninit();

#[entry]
fn main() -> ! {
    paint_stack();
    let mut clock = Clock::take(PROGRAM);
    // SAFETY: `main` runs once and never returns: this is the only
    // reference to the static there ever is.
    let slot = unsafe { &mut *core::ptr::addr_of_mut!(MODEL) };
    let (model, load_instructions) = clock.instructions(|| load_int8_digits(PROGRAM, slot));
    let model: &Int8Mlp = model;
    let table = int8_pixel_table(model);
    let Some(first) = test_digits().next() else { fail(PROGRAM, "no test digits") };

    // One inference as the `f32` firmware counts one: pixels to class.
    let (_, inference_instructions) = clock.instructions(|| predict_int8(model, &table, first.pixels));
    // Where its instructions go: the same steps one by one.
    let mut x = Vector::<i8, U64>::default();
    let (_, quantize_instructions) = clock.instructions(|| {
        for (x, &p) in x.iter_mut().zip(first.pixels) {
            *x = table[usize::from(p.min(16))];
        }
    });
    let (hidden_layer, output_layer) = (&model.net.0, &model.net.1.0);
    let (hidden, hidden_instructions) = clock.instructions(|| hidden_layer.forward(&x));
    let (logits, output_instructions) = clock.instructions(|| output_layer.forward(&hidden));
    let (_, argmax_instructions) = clock.instructions(|| quant::argmax(&logits));
    // The kernel alone in the first layer: its 4,096 multiply-adds into
    // int32 sums, without the per-channel requantisation.
    let mut sums = [0i32; 64];
    let (_, kernel_instructions) =
        clock.instructions(|| matvec(Int8Tensor::as_flat(hidden_layer.weight()), &x, &mut sums));
    // The library's own path from an `f32` input: `Quantized::classify`
    // (quantise each pixel in `f32`, forward, argmax).
    let (library_class, classify_instructions) = clock.instructions(|| model.classify(&input(first.pixels)));

    let score = score_int8(model, &table);
    // The table and the library's quantisation agree on every digit.
    let same_as_classify = test_digits()
        .filter(|digit| predict_int8(model, &table, digit.pixels) == model.classify(&input(digit.pixels)))
        .count();
    let stack = stack_high_water();

    println!("int8: {} kernel={} load (checks and copy): {} instructions", CORE, KERNEL, load_instructions);
    println!(
        "int8: {} one inference: {} instructions, {} per multiply-add: quantise the pixels {}, dense 64x64 {} ({} per multiply-add; its kernel alone {}, {}), dense 64x10 {} ({}), argmax {}",
        CORE,
        inference_instructions,
        Ratio(inference_instructions.into(), DIGITS_MACS as u64),
        quantize_instructions,
        hidden_instructions,
        Ratio(hidden_instructions.into(), 64 * 64),
        kernel_instructions,
        Ratio(kernel_instructions.into(), 64 * 64),
        output_instructions,
        Ratio(output_instructions.into(), 64 * 10),
        argmax_instructions
    );
    println!(
        "int8: {} Quantized::classify from the f32 pixels: {} instructions (class {}); the same class as through the pixel table on {}/{} digits",
        CORE, classify_instructions, library_class, same_as_classify, TEST_LEN
    );
    let passed = score.total == TEST_LEN
        && score.same_as_host == score.total
        && same_as_classify == score.total
        && score.correct * 100 >= DIGITS_FLOOR_PERCENT * score.total;
    println!(
        "int8: core={} result={} correct={}/{} same_as_host={}/{} inference_instructions={} macs={} params_bytes={} stack_bytes={}",
        CORE,
        if passed { "pass" } else { "FAIL" },
        score.correct,
        score.total,
        score.same_as_host,
        score.total,
        inference_instructions,
        DIGITS_MACS,
        INT8_PARAMS.len(),
        stack
    );
    exit(passed)
}
