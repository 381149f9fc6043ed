//! typenet on a Cortex-M4, no allocator: trains the XOR network on the
//! device with the library's `Trainer` and Adam, classifies the held-out
//! test digits with a model trained on the host and embedded in flash,
//! prints the sizes of what training keeps in RAM and the instructions a
//! training step and an inference take, and ends QEMU with a status that
//! says whether everything came out right.
//!
//! ```text
//! bash examples/firmware-cortex-m/run.sh    # build, run in QEMU, size report
//! ```
//!
//! Its last line is one record:
//! `firmware: result=pass xor_correct=4/4 digits_correct=.../... ...`.

#![no_std]
#![no_main]

use core::mem::MaybeUninit;

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use panic_halt as _;
use typenet::optim::Optimizer;
use typenet::prelude::*;

use firmware_cortex_m::{
    Clock, Fixed, Mlp, Score, exit, fail, load_digits, predict, score, stack_high_water, test_digits,
};

/// The network of the main crate's `xor` example, trained the same way.
type Xor = net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>, Sigmoid];
type XorInput = Vector<f32, U2>;
type XorGrads = <Xor as Params<f32>>::Grads;
/// Blocks of one sample: on a microcontroller the batched path buys
/// nothing and its buffers would cost RAM.
type XorTrainer = Trainer<Xor, XorInput, Adam, 1>;

const PROGRAM: &str = "firmware";
const XOR_EPOCHS: usize = 2000;
const XOR_SEED: u64 = 1;
const ADAM: Adam = Adam::new(0.05);

/// The digits model: a `static`, so its 19 KB are not on the stack.
static mut DIGITS: MaybeUninit<Mlp> = MaybeUninit::uninit();

#[entry]
fn main() -> ! {
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        fail(PROGRAM, "the core peripherals were already taken");
    };
    let mut clock = Clock::start(PROGRAM, peripherals.SYST);

    hprintln!(
        "firmware: size_of xor model={} grads={} cache={} adam_state={} trainer={} digits_model={} (bytes)",
        size_of::<Xor>(),
        size_of::<XorGrads>(),
        size_of::<<Xor as Train<XorInput>>::Cache>(),
        size_of::<<Adam as Optimizer>::State<XorGrads>>(),
        size_of::<XorTrainer>(),
        size_of::<Mlp>()
    );

    let xor = xor(&mut clock);
    let (digits, inference_instructions) = digits(&mut clock);
    let stack = stack_high_water();
    hprintln!("firmware: stack high-water mark {} bytes", stack);

    let passed = xor.correct == 4 && digits.passed();
    hprintln!(
        "firmware: result={} xor_correct={}/4 digits_correct={}/{} digits_same_as_host={}/{} xor_epoch_instructions={} digits_inference_instructions={} stack_bytes={}",
        if passed { "pass" } else { "FAIL" },
        xor.correct,
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
    let table = [
        (vector([0.0f32, 0.0]), vector([0.0])),
        (vector([0.0, 1.0]), vector([1.0])),
        (vector([1.0, 0.0]), vector([1.0])),
        (vector([1.0, 1.0]), vector([0.0])),
    ];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(XOR_SEED);
    let mut model = Xor::default();
    model.init(&mut rng);

    // The library's training loop for all epochs but the last, then the
    // last epoch on its own, as `fit` runs it (a new order of the four
    // samples, then one step on them), to time one epoch in the middle of
    // training: the same run as `fit` for all the epochs, bit for bit.
    let mut trainer = XorTrainer::with_block(ADAM, Config { batch_size: 4, ..Config::default() });
    let (fit, fit_instructions) =
        clock.instructions(|| trainer.fit(&mut model, &Bce, &table, &[], XOR_EPOCHS - 1, &mut rng, ()));
    let Ok(fit) = fit else { fail(PROGRAM, "XOR training stopped with an error") };
    let (last, epoch_instructions) =
        clock.instructions(|| trainer.train_epoch(&mut model, &Bce, &table, XOR_EPOCHS, ADAM.lr, &mut rng, &mut ()));
    if last.is_err() {
        fail(PROGRAM, "the last XOR epoch was refused");
    }
    let epochs = fit.epochs + 1;
    let Some(metrics) = evaluate(&model, &Bce, &table) else { fail(PROGRAM, "no XOR samples") };
    let correct = table.iter().filter(|(x, t)| Bce.is_correct(&model.forward(x), t)).count();

    for (x, t) in &table {
        hprintln!(
            "firmware: xor {} {} -> {} (target {})",
            x[0] as u8,
            x[1] as u8,
            Fixed(model.forward(x)[0].into(), 4),
            t[0] as u8
        );
    }
    hprintln!(
        "firmware: xor training: the last epoch (a new order, one step of 4, Adam) {} instructions, {} epochs {} instructions",
        epoch_instructions,
        epochs,
        fit_instructions + epoch_instructions
    );
    hprintln!("firmware: xor correct={}/4 loss={} epochs={}", correct, Fixed(metrics.loss, 4), epochs);
    XorOutcome { correct, epoch_instructions }
}

/// Loads the digits model from flash and classifies the test digits;
/// returns the score and the instructions of one inference.
fn digits(clock: &mut Clock) -> (Score, u32) {
    // SAFETY: `main` calls this once and never returns, so this is the
    // only reference to the static there ever is.
    let slot = unsafe { &mut *core::ptr::addr_of_mut!(DIGITS) };
    let (model, load_instructions) = clock.instructions(|| load_digits(PROGRAM, slot));
    let Some(first) = test_digits().next() else { fail(PROGRAM, "no test digits") };
    let (_, inference_instructions) = clock.instructions(|| predict(model, first.pixels));
    let (score, all_instructions) = clock.instructions(|| score(model));
    hprintln!(
        "firmware: digits load (checks and copy): {} instructions; one inference: {} instructions; {} digits: {} instructions",
        load_instructions,
        inference_instructions,
        score.total,
        all_instructions
    );
    hprintln!("firmware: digits same predictions as the host: {}/{}", score.same_as_host, score.total);
    hprintln!("firmware: digits correct={}/{}", score.correct, score.total);
    (score, inference_instructions)
}
