//! Fine-tuning on the device: the digits classifier trained on the host
//! stays in flash (a `static` built by the compiler, `typenet::embedded!`),
//! its body frozen where it is (`Frozen`, a borrow of the static's first
//! layer), and its head, a RAM copy of the static's last `Dense`, is
//! retrained on the device with the library's `Trainer` on digits it has
//! not seen: the 359 validation digits, each shifted one pixel to the
//! right on the device (a new distribution: the host's model gets half of
//! the test digits so shifted). Then it scores the test digits shifted
//! alike, before and after, and unshifted after (what the head forgets).
//! For comparison it then fine-tunes the cheapest way, TinyTL's bias-only
//! update: every weight borrowed from flash, every bias trained
//! (`BiasOnly`; the same data, order, optimiser and epochs).
//!
//! What training holds in RAM is known from the types
//! (`Trainer::BUDGET`) and checked at compile time against the board's RAM
//! (`Budget::assert_fits`): the build fails, with the figures, when it
//! does not fit. The firmware prints that budget, the bias-only one and
//! the one of full training of the same model with the same optimiser and
//! block (computed, not run), the stack's high-water mark and the
//! instructions of a step.
//!
//! The optimiser: Adam (rate 0.01) where its two moments fit, SGD (rate
//! 0.1) on a board with less than 32 KB of RAM (`build.rs` sets
//! `cfg(finetune_sgd)`: the `microbit`).
//!
//! Cortex-M only (the flash check reads cortex-m-rt's linker symbols). Its
//! last line is one record:
//! `finetune: before_accuracy=0.xxxx after_accuracy=0.xxxx ram_bytes=N step_instructions=N`.

#![no_std]
#![no_main]

use core::mem::MaybeUninit;

use panic_halt as _;
use typenet::layers::{BiasOnly, Frozen};
use typenet::loss::argmax;
use typenet::optim::Optimizer;
use typenet::prelude::*;
use typenet::train::{Budget, Limits, Permutation};

use firmware_cortex_m::{
    BOARD, BOARD_RAM, CORE, Clock, DIGITS_EMBEDDED, DIGITS_MLP, Fixed, Mlp, Shift, TEST_LEN, VAL_LEN, entry, exit,
    fail, input, paint_stack, println, score, stack_high_water, test_digits, val_digit,
};

const PROGRAM: &str = "finetune";

type Input = Vector<f32, U64>;

/// The model trained on the device: the digits MLP's first layer frozen
/// in flash, its ReLU, and its head in RAM.
type Tuned = (Frozen<'static, Dense<U64, U64>>, (Relu, (Dense<U64, U10>,)));

/// Adam where it fits.
#[cfg(not(finetune_sgd))]
mod optimiser {
    pub type Optim = typenet::prelude::Adam;
    pub const OPTIMIZER: Optim = Optim::new(0.01);
    pub const NAME: &str = "adam";
    /// Epochs over the fine-tuning digits (on the host, the shifted test
    /// digits' accuracy levels off after about 10 at this rate).
    pub const EPOCHS: usize = 10;
}

/// SGD on a board too small for Adam's moments.
#[cfg(finetune_sgd)]
mod optimiser {
    pub type Optim = typenet::prelude::Sgd;
    pub const OPTIMIZER: Optim = Optim::new(0.1);
    pub const NAME: &str = "sgd";
    /// Epochs over the fine-tuning digits (SGD takes about twice Adam's).
    pub const EPOCHS: usize = 20;
}

use optimiser::{EPOCHS, NAME as OPTIMIZER_NAME, OPTIMIZER, Optim};

/// Samples per gradient step.
const BATCH: usize = 16;

/// Samples per block through the network: the trainer keeps this many
/// caches and outputs.
const BLOCK: usize = 1;

/// The seed of the samples' order.
const SEED: u64 = 18;

/// The distribution the head is fine-tuned for.
const SHIFT: Shift = Shift::RIGHT;

/// The stack the firmware keeps beside training's RAM: the batch being
/// built (`BATCH` inputs and classes), the passes and the output.
const STACK_RESERVE: usize = 8 << 10;

/// Fine-tuning the head, the body frozen.
type FineTuning = Trainer<Tuned, Input, Optim, BLOCK>;

/// Bias-only fine-tuning (TinyTL): both layers' weights borrowed where
/// they are, in flash, both biases trained.
type Biases = (BiasOnly<'static, Dense<U64, U64>>, (Relu, (BiasOnly<'static, Dense<U64, U10>>,)));

/// Training [`Biases`], run after the head's for comparison.
type BiasTuning = Trainer<Biases, Input, Optim, BLOCK>;

/// Full training of the same model with the same optimiser and block: its
/// budget only (not run).
type FullTraining = Trainer<Mlp, Input, Optim, BLOCK>;

/// The RAM and stack a board offers training.
const LIMITS: Limits = Limits { ram: BOARD_RAM - STACK_RESERVE, stack: STACK_RESERVE };

// Fails the build, with the figures, when fine-tuning does not fit the
// board.
const _: () = FineTuning::BUDGET.assert_fits(LIMITS);
const _: () = BiasTuning::BUDGET.assert_fits(LIMITS);

/// The model being fine-tuned: the body borrowed where it is, in flash;
/// the head a copy in RAM of the host's head (in `.data`, which the
/// runtime copies from flash before `main`), the starting point. With the
/// trainer, a static too: `BUDGET.ram()` is their `.data` and `.bss`, and
/// the stack's high-water mark is the rest.
static mut MODEL: Tuned = (Frozen(&DIGITS_MLP.0), (Relu, (DIGITS_EMBEDDED.1.1.0,)));
static mut TRAINER: MaybeUninit<FineTuning> = MaybeUninit::uninit();

/// The bias-only model and its trainer.
static mut BIAS_MODEL: MaybeUninit<Biases> = MaybeUninit::uninit();
static mut BIAS_TRAINER: MaybeUninit<BiasTuning> = MaybeUninit::uninit();

#[entry]
fn main() -> ! {
    paint_stack();
    let mut clock = Clock::take(PROGRAM);

    let tuned = FineTuning::BUDGET;
    let full = FullTraining::BUDGET;
    let bias = BiasTuning::BUDGET;
    budget_line("frozen_body", &tuned);
    budget_line("full_training", &full);
    budget_line("bias_only", &bias);
    println!(
        "finetune: board {} has {} bytes of RAM, {} for training beside a {}-byte stack reserve: frozen body {} ({} bytes), full training {} ({} bytes), bias only {} ({} bytes)",
        BOARD,
        BOARD_RAM,
        LIMITS.ram,
        STACK_RESERVE,
        fits(&tuned),
        tuned.ram(),
        fits(&full),
        full.ram(),
        fits(&bias),
        bias.ram()
    );

    // The host's model, as the compiler built it in flash: every test
    // digit gets the host's class.
    let embedded = score(&DIGITS_MLP);
    println!(
        "finetune: the embedded model (a static, {} bytes at {:#010x}): correct={}/{} same_as_host={}/{}",
        size_of::<Mlp>(),
        core::ptr::addr_of!(DIGITS_MLP) as usize,
        embedded.correct,
        embedded.total,
        embedded.same_as_host,
        embedded.total
    );

    // SAFETY: `main` runs once and never returns: these are the only
    // references to the two statics there ever are.
    let (model, trainer) = unsafe { (&mut *core::ptr::addr_of_mut!(MODEL), &mut *core::ptr::addr_of_mut!(TRAINER)) };
    let body_in_flash = !in_ram(model.0.0 as *const _ as usize);
    let head_in_ram = in_ram(&model.1.1.0 as *const _ as usize);
    println!(
        "finetune: body at {:#010x} ({}), head at {:#010x} ({}); trainer {} bytes at {:#010x}",
        model.0.0 as *const _ as usize,
        if body_in_flash { "flash" } else { "RAM" },
        &model.1.1.0 as *const _ as usize,
        if head_in_ram { "RAM" } else { "flash" },
        size_of::<FineTuning>(),
        trainer.as_ptr() as usize
    );
    let trainer = FineTuning::new_in(trainer, OPTIMIZER, Config { batch_size: BATCH, ..Config::default() });

    let before = test_accuracy(model, SHIFT);
    let train_before = val_accuracy(model, SHIFT);
    println!(
        "finetune: before: shifted test correct={}/{} shifted fine-tuning digits correct={}/{}",
        before.0, before.1, train_before.0, train_before.1
    );

    let Some(run) = fine_tune(&mut clock, model, trainer) else { fail(PROGRAM, "fine-tuning stopped with an error") };
    println!(
        "finetune: trained the head: {} epochs of {} digits shifted right by {} pixel, batches of {}, blocks of {}, {} at rate {}: {} steps, loss {} after the last",
        EPOCHS,
        VAL_LEN,
        SHIFT.right,
        BATCH,
        BLOCK,
        OPTIMIZER_NAME,
        Fixed(OPTIMIZER.learning_rate(), 2),
        run.steps,
        Fixed(run.last_loss, 4)
    );
    println!(
        "finetune: one step of {} samples (forward through the frozen body and the head, the head's backward, the optimiser's update): {} instructions; the {} steps {} instructions, {} a step",
        BATCH,
        run.first_full_step,
        run.steps,
        run.step_sum,
        run.step_sum / u64::from(run.steps)
    );

    let after = test_accuracy(model, SHIFT);
    let train_after = val_accuracy(model, SHIFT);
    let unshifted = test_accuracy(model, Shift::NONE);
    println!(
        "finetune: after: shifted test correct={}/{} shifted fine-tuning digits correct={}/{} unshifted test correct={}/{} (before {}/{})",
        after.0, after.1, train_after.0, train_after.1, unshifted.0, unshifted.1, embedded.correct, embedded.total
    );
    let (before_accuracy, after_accuracy) = (ratio(before), ratio(after));
    println!(
        "finetune: accuracy on the shifted test digits {} -> {}, on the unshifted ones {} -> {}",
        Fixed(before_accuracy, 4),
        Fixed(after_accuracy, 4),
        Fixed(ratio((embedded.correct, embedded.total)), 4),
        Fixed(ratio(unshifted), 4)
    );

    // Bias-only, for comparison: the same data, order, optimiser and epochs.
    // SAFETY: as above, the only references to these two statics.
    let (bias_model, bias_trainer) =
        unsafe { (&mut *core::ptr::addr_of_mut!(BIAS_MODEL), &mut *core::ptr::addr_of_mut!(BIAS_TRAINER)) };
    let bias_model = bias_model.write((BiasOnly::new(&DIGITS_MLP.0), (Relu, (BiasOnly::new(&DIGITS_MLP.1.1.0),))));
    let bias_trainer = BiasTuning::new_in(bias_trainer, OPTIMIZER, Config { batch_size: BATCH, ..Config::default() });
    let bias_before = test_accuracy(bias_model, SHIFT);
    let Some(bias_run) = fine_tune(&mut clock, bias_model, bias_trainer) else {
        fail(PROGRAM, "bias-only fine-tuning stopped with an error")
    };
    let bias_after = test_accuracy(bias_model, SHIFT);
    let bias_unshifted = test_accuracy(bias_model, Shift::NONE);
    println!(
        "finetune: bias_only: shifted test correct={}/{} -> {}/{}, unshifted test correct={}/{} after; one step of {}: {} instructions",
        bias_before.0,
        bias_before.1,
        bias_after.0,
        bias_after.1,
        bias_unshifted.0,
        bias_unshifted.1,
        BATCH,
        bias_run.first_full_step
    );

    let stack = stack_high_water();
    let ram_bytes = tuned.ram() + stack;
    println!(
        "finetune: ram_bytes = budget RAM of the frozen-body training {} (model {} + trainer {}) + stack high-water mark {} = {}",
        tuned.ram(),
        tuned.model,
        tuned.trainer,
        stack,
        ram_bytes
    );

    let passed = embedded.passed()
        && body_in_flash
        && head_in_ram
        && after.1 == TEST_LEN
        && after_accuracy > before_accuracy
        && stack <= STACK_RESERVE
        && bias_before == before;
    println!(
        "finetune: core={} board={} result={} optimizer={} epochs={} block={} frozen_ram_bytes={} full_ram_bytes={} bias_only_ram_bytes={} stack_bytes={} unshifted_after_accuracy={} bias_only_after_accuracy={}",
        CORE,
        BOARD,
        if passed { "pass" } else { "FAIL" },
        OPTIMIZER_NAME,
        EPOCHS,
        BLOCK,
        tuned.ram(),
        full.ram(),
        bias.ram(),
        stack,
        Fixed(ratio(unshifted), 4),
        Fixed(ratio(bias_after), 4)
    );
    println!(
        "finetune: before_accuracy={} after_accuracy={} ram_bytes={} step_instructions={}",
        Fixed(before_accuracy, 4),
        Fixed(after_accuracy, 4),
        ram_bytes,
        run.first_full_step
    );
    exit(passed)
}

/// One line of a training's budget (bytes).
fn budget_line(what: &str, b: &Budget) {
    println!(
        "finetune: budget {} optimizer={} block={} model={} gradients={} optimizer_state={} caches={} outputs={} trainer={} stack={} ram={}",
        what,
        OPTIMIZER_NAME,
        BLOCK,
        b.model,
        b.gradients,
        b.optimizer_state,
        b.caches,
        b.outputs,
        b.trainer,
        b.stack,
        b.ram()
    );
}

fn fits(b: &Budget) -> &'static str {
    if b.ram() <= LIMITS.ram && b.stack <= LIMITS.stack { "fits" } else { "does not fit" }
}

/// Whether `address` is in the RAM cortex-m-rt lays out (from `.data` to
/// the top of the stack).
fn in_ram(address: usize) -> bool {
    unsafe extern "C" {
        static __sdata: u32;
        static _stack_start: u32;
    }
    (&raw const __sdata as usize..&raw const _stack_start as usize).contains(&address)
}

/// `correct / total` as an `f32`.
fn ratio((correct, total): (usize, usize)) -> f32 {
    correct as f32 / total as f32
}

/// A digits classifier.
trait Classifier: Layer<Input, Output = Vector<f32, U10>> {}
impl<M: Layer<Input, Output = Vector<f32, U10>>> Classifier for M {}

/// The class `model` gives `pixels` shifted by `shift`.
fn class(model: &impl Classifier, shift: Shift, pixels: &[u8; 64]) -> usize {
    argmax(&model.forward(&input(&shift.apply(pixels))))
}

/// The test digits, shifted, that `model` gets right, and how many.
#[inline(never)]
fn test_accuracy(model: &impl Classifier, shift: Shift) -> (usize, usize) {
    test_digits().fold((0, 0), |(correct, total), d| {
        (correct + usize::from(class(model, shift, d.pixels) == usize::from(d.label)), total + 1)
    })
}

/// The fine-tuning digits, shifted, that `model` gets right, and how many.
#[inline(never)]
fn val_accuracy(model: &impl Classifier, shift: Shift) -> (usize, usize) {
    let correct = (0..VAL_LEN).filter(|&i| class(model, shift, val_digit(i).pixels) == usize::from(val_digit(i).label));
    (correct.count(), VAL_LEN)
}

struct Run {
    steps: u32,
    /// The steps alone, each measured (more than 2³² on a core without
    /// an FPU).
    step_sum: u64,
    /// The first step of a whole batch.
    first_full_step: u32,
    last_loss: f32,
}

/// Fine-tunes the head for [`EPOCHS`] epochs: each a new order of the
/// validation digits, cut in batches of [`BATCH`], each batch shifted and
/// converted on the stack and given to `Trainer::step`, each step counted.
#[inline(never)]
fn fine_tune<M>(clock: &mut Clock, model: &mut M, trainer: &mut Trainer<M, Input, Optim, BLOCK>) -> Option<Run>
where
    M: Train<Input, Output = Vector<f32, U10>>,
{
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(SEED);
    let mut run = Run { steps: 0, step_sum: 0, first_full_step: 0, last_loss: f32::NAN };
    let mut batch = [(Input::default(), 0usize); BATCH];
    for epoch in 1..=EPOCHS {
        // The optimiser's schedule gives the rate of the trainer's epoch.
        trainer.set_epoch(epoch - 1);
        let order = Permutation::new(VAL_LEN, &mut rng);
        for first in (0..VAL_LEN).step_by(BATCH) {
            let len = BATCH.min(VAL_LEN - first);
            for (slot, i) in batch.iter_mut().zip(first..first + len) {
                let digit = val_digit(order.get(i));
                *slot = (input(&SHIFT.apply(digit.pixels)), usize::from(digit.label));
            }
            let (step, instructions) =
                clock.instructions(|| trainer.step(model, &SoftmaxCrossEntropy, &batch[..len], &mut rng));
            run.last_loss = step.ok()?.loss;
            run.steps += 1;
            run.step_sum += u64::from(instructions);
            if len == BATCH && run.first_full_step == 0 {
                run.first_full_step = instructions;
            }
        }
    }
    Some(run)
}
