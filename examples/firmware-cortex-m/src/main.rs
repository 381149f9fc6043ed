//! typenet on a microcontroller, no allocator: trains the XOR network on
//! the device with the library's `Trainer` and Adam, classifies the
//! held-out test digits with a model trained on the host and embedded in
//! flash, prints the sizes of what training keeps in RAM and the
//! instructions a training step and an inference take, and ends QEMU with
//! a status that says whether everything came out right. One program for
//! every core: what differs (start, output, exit, instruction counter,
//! stack painting) is in the library's `arch` module.
//!
//! ```text
//! bash examples/firmware-cortex-m/run.sh    # every core, in QEMU, with the size report
//! ```
//!
//! The digits model is the `f32` one, except on a board whose RAM cannot
//! hold its 19 KB (the `microbit`'s 16 KB; `build.rs` sets
//! `cfg(digits_int8)`), which runs its int8 twin.
//!
//! Its last line is one record:
//! `firmware: core=... board=... result=pass xor_correct=4/4 digits_model=... digits_correct=.../... ...`.

#![no_std]
#![no_main]

use core::mem::MaybeUninit;

use panic_halt as _;
use typenet::optim::Optimizer;
use typenet::prelude::*;

use firmware_cortex_m::{
    BOARD, CORE, Clock, Fixed, Score, XOR_EPOCHS, Xor, XorInput, XorTrainer, entry, exit, fail, paint_stack, println,
    stack_high_water, test_digits, xor_correct, xor_start, xor_table,
};

type XorGrads = <Xor as Params<f32>>::Grads;

const PROGRAM: &str = "firmware";

#[entry]
fn main() -> ! {
    paint_stack();
    let mut clock = Clock::take(PROGRAM);

    println!(
        "firmware: size_of xor model={} grads={} cache={} adam_state={} trainer={} digits_model={} (bytes)",
        size_of::<Xor>(),
        size_of::<XorGrads>(),
        size_of::<<Xor as Train<XorInput>>::Cache>(),
        size_of::<<Adam as Optimizer<f32>>::State<XorGrads>>(),
        size_of::<XorTrainer>(),
        size_of::<digits::Model>()
    );

    let xor = xor(&mut clock);
    let (digits, inference_instructions) = digits::run(&mut clock);
    let stack = stack_high_water();
    println!("firmware: stack high-water mark {} bytes", stack);

    let passed = xor.correct == 4 && digits.passed();
    println!(
        "firmware: core={} board={} result={} xor_correct={}/4 digits_model={} digits_correct={}/{} same_as_host={}/{} xor_epoch_instructions={} inference_instructions={} stack_bytes={}",
        CORE,
        BOARD,
        if passed { "pass" } else { "FAIL" },
        xor.correct,
        digits::NAME,
        digits.correct,
        digits.total,
        digits.same_as_host,
        digits.total,
        xor.epoch_instructions,
        inference_instructions,
        stack
    );
    exit(passed)
}

struct XorOutcome {
    correct: usize,
    epoch_instructions: u32,
}

/// Trains XOR from a seeded initialisation with the library's `Trainer`,
/// everything on the stack (a few hundred bytes).
fn xor(clock: &mut Clock) -> XorOutcome {
    let table = xor_table();
    let (mut model, mut rng, mut trainer) = xor_start();

    // The library's training loop, timed whole: an epoch's figure is the
    // mean over the run (each epoch a new order of the four samples, then
    // one step on them), the settings and targets checked once.
    let (fit, fit_instructions) =
        clock.instructions(|| trainer.fit(&mut model, &Bce, &table, &mut rng).epochs(XOR_EPOCHS).run());
    let Ok(fit) = fit else { fail(PROGRAM, "XOR training stopped with an error") };
    let epochs = fit.epochs;
    let epoch_instructions = fit_instructions / epochs as u32;
    let Some(metrics) = evaluate(&model, &Bce, &table) else { fail(PROGRAM, "no XOR samples") };
    let correct = xor_correct(&model, &table);

    for (x, t) in &table {
        println!(
            "firmware: xor {} {} -> {} (target {})",
            x[0] as u8,
            x[1] as u8,
            Fixed(model.forward(x)[0], 4),
            t[0] as u8
        );
    }
    println!(
        "firmware: xor training: {} epochs (each a new order, one step of 4, Adam) {} instructions, {} an epoch",
        epochs, fit_instructions, epoch_instructions
    );
    println!("firmware: xor correct={}/4 loss={} epochs={}", correct, Fixed(metrics.loss, 4), epochs);
    XorOutcome { correct, epoch_instructions }
}

/// The digits, with the `f32` model: loaded from flash into a `static`.
#[cfg(not(digits_int8))]
mod digits {
    use super::*;
    use firmware_cortex_m::{Mlp, load_digits, predict, score};

    pub type Model = Mlp;
    pub const NAME: &str = "f32";

    /// The digits model: a `static`, so its 19 KB are not on the stack.
    static mut DIGITS: MaybeUninit<Mlp> = MaybeUninit::uninit();

    /// Loads the model from flash and classifies the test digits; returns
    /// the score and the instructions of one inference.
    pub fn run(clock: &mut Clock) -> (Score, u32) {
        // SAFETY: `main` calls this once and never returns, so this is the
        // only reference to the static there ever is.
        let slot = unsafe { &mut *core::ptr::addr_of_mut!(DIGITS) };
        let (model, load_instructions) = clock.instructions(|| load_digits(PROGRAM, slot));
        let Some(first) = test_digits().next() else { fail(PROGRAM, "no test digits") };
        let (_, inference_instructions) = clock.instructions(|| predict(model, first.pixels));
        let (score, all_instructions) = clock.instructions(|| score(model));
        report(load_instructions, inference_instructions, &score, all_instructions);
        (score, inference_instructions)
    }
}

/// The digits, with the int8 model (a board with too little RAM for the
/// `f32` one): loaded from flash into a `static`, classes checked against
/// the host's int8 classes.
#[cfg(digits_int8)]
mod digits {
    use super::*;
    use firmware_cortex_m::{Int8Mlp, int8_pixel_table, load_int8_digits, predict_int8, score_int8};

    pub type Model = Int8Mlp;
    pub const NAME: &str = "int8";

    /// The int8 digits model: a `static` (5.9 KB).
    static mut DIGITS: MaybeUninit<Int8Mlp> = MaybeUninit::uninit();

    /// Loads the model from flash and classifies the test digits; returns
    /// the score and the instructions of one inference.
    pub fn run(clock: &mut Clock) -> (Score, u32) {
        // SAFETY: `main` calls this once and never returns, so this is the
        // only reference to the static there ever is.
        let slot = unsafe { &mut *core::ptr::addr_of_mut!(DIGITS) };
        let (model, load_instructions) = clock.instructions(|| load_int8_digits(PROGRAM, slot));
        let model: &Int8Mlp = model;
        let table = int8_pixel_table(model);
        let Some(first) = test_digits().next() else { fail(PROGRAM, "no test digits") };
        let (_, inference_instructions) = clock.instructions(|| predict_int8(model, &table, first.pixels));
        let (score, all_instructions) = clock.instructions(|| score_int8(model, &table));
        report(load_instructions, inference_instructions, &score, all_instructions);
        (score, inference_instructions)
    }
}

fn report(load_instructions: u32, inference_instructions: u32, score: &Score, all_instructions: u32) {
    println!(
        "firmware: digits ({}) load (checks and copy): {} instructions; one inference: {} instructions; {} digits: {} instructions",
        digits::NAME,
        load_instructions,
        inference_instructions,
        score.total,
        all_instructions
    );
    println!("firmware: digits same predictions as the host: {}/{}", score.same_as_host, score.total);
    println!("firmware: digits correct={}/{}", score.correct, score.total);
}
