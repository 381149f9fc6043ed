//! What the firmware binaries share: the XOR network and its training
//! run, the digits classifier trained on the host (also as a `static` in
//! flash), its int8 twin, the held-out test digits with the host's classes,
//! the validation digits and a one-pixel shift (fine-tuning), and a way to print
//! decimals without `core`'s float formatting (printing one `f64` with
//! `{:.4}` adds 11 KB of flash, twice what the library's code takes here);
//! and, per architecture ([`arch`]), the entry point, output, exit, the
//! instruction counter and the stack's high-water mark.

#![no_std]

use core::fmt;
use core::mem::MaybeUninit;

use typenet::io;
use typenet::loss::argmax;
use typenet::prelude::*;

use typenet::quant::{self, file as int8_file};

/// What differs between the architectures, one module each with the same
/// items: `entry` (the runtime's attribute for `main`), `print` (one line
/// out), `exit` (ends QEMU with a status), `Clock` (counts instructions:
/// `Clock::take`, `Clock::instructions`), `paint_stack` and
/// `stack_high_water`.
#[cfg_attr(target_arch = "arm", path = "arch/cortex_m.rs")]
#[cfg_attr(target_arch = "riscv32", path = "arch/riscv.rs")]
pub mod arch;

pub use arch::{Clock, entry, exit, paint_stack, stack_high_water};

/// Prints one line, as `std`'s `println!` does, through the board's output
/// (semihosting on Cortex-M, the UART on RISC-V).
#[macro_export]
macro_rules! println {
    ($($arg:tt)*) => {
        $crate::arch::print(format_args!($($arg)*))
    };
}

/// The core this binary is built for, from its target and `-C target-cpu`
/// (`build.rs`): `cortex-m0`, `cortex-m3`, `cortex-m4f`, `cortex-m7`,
/// `cortex-m33` or `rv32imac`.
pub const CORE: &str = env!("FIRMWARE_CORE");

/// The QEMU machine this binary is linked for (`FIRMWARE_BOARD`, a
/// directory of `boards/`).
pub const BOARD: &str = env!("FIRMWARE_BOARD");

/// The RAM of the board this binary is linked for, in bytes, as its
/// `memory.x` says.
pub const BOARD_RAM: usize = parse(env!("FIRMWARE_RAM_BYTES")) as usize;

/// Instructions per tick of the instruction counter under QEMU's
/// `-icount shift=0`, a fraction (62.5 on the `microbit`).
#[derive(Clone, Copy, Debug)]
pub struct PerTick {
    /// Numerator.
    pub num: u32,
    /// Denominator.
    pub den: u32,
}

impl PerTick {
    /// This build's board's, from `build.rs`.
    pub const BOARD: PerTick =
        PerTick { num: parse(env!("FIRMWARE_PER_TICK_NUM")), den: parse(env!("FIRMWARE_PER_TICK_DEN")) };

    /// The instructions of `ticks` ticks, rounded to the nearest.
    pub fn instructions(self, ticks: u32) -> u32 {
        let (num, den) = (u64::from(self.num), u64::from(self.den));
        ((u64::from(ticks) * num + den / 2) / den) as u32
    }
}

/// A decimal `u32` at compile time.
const fn parse(digits: &str) -> u32 {
    let (digits, mut value, mut i) = (digits.as_bytes(), 0u32, 0);
    while i < digits.len() {
        value = value * 10 + (digits[i] - b'0') as u32;
        i += 1;
    }
    value
}

/// Checks an instruction counter against a loop of known length: `ticks`
/// runs a loop of `2 · iterations` instructions and returns the ticks it
/// took; ends `program` unless they are what [`PerTick::BOARD`] says, to
/// within one.
pub(crate) fn calibrate(program: &str, what: &str, ticks: impl FnOnce(u32) -> u32) {
    let iterations = 10_000;
    let measured = ticks(iterations);
    let PerTick { num, den } = PerTick::BOARD;
    let expected = (2 * iterations * den + num / 2) / num;
    println!("{}: calibration: a loop of {} instructions took {} {}", program, 2 * iterations, measured, what);
    if measured.abs_diff(expected) > 1 {
        println!("{}: expected {} on {} under -icount shift=0", program, expected, BOARD);
        fail(
            program,
            "the instruction counter does not count instructions: run QEMU with -icount shift=0 on this build's board",
        );
    }
}

/// The network of the main crate's `xor` example, trained the same way.
pub type Xor = net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>, Sigmoid];
/// XOR's input: two bits.
pub type XorInput = Vector<f32, U2>;
/// XOR's target: one bit.
pub type XorTarget = Vector<f32, U1>;
/// The library's trainer for it, in blocks of one sample: on a
/// microcontroller the batched path buys nothing and its buffers would
/// cost RAM.
pub type XorTrainer = Trainer<Xor, XorInput, Adam, 1>;

/// Epochs of the XOR run, as in the `xor` example.
pub const XOR_EPOCHS: usize = 2000;
/// The seed of its initialisation and of its sample order.
pub const XOR_SEED: u64 = 1;
/// Its optimiser.
pub const XOR_ADAM: Adam = Adam::new(0.05);

/// The four XOR samples.
pub fn xor_table() -> [(XorInput, XorTarget); 4] {
    [
        (vector([0.0, 0.0]), vector([0.0])),
        (vector([0.0, 1.0]), vector([1.0])),
        (vector([1.0, 0.0]), vector([1.0])),
        (vector([1.0, 1.0]), vector([0.0])),
    ]
}

/// The XOR network initialised from [`XOR_SEED`], the generator that goes
/// on to shuffle the samples, and the trainer (batches of 4 samples).
pub fn xor_start() -> (Xor, Xoshiro256PlusPlus, XorTrainer) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(XOR_SEED);
    let mut model = Xor::default();
    model.init(&mut rng);
    (model, rng, XorTrainer::with_block(XOR_ADAM, Config { batch_size: 4, ..Config::default() }))
}

/// The XOR samples `model` gets right (output on the target's side of ½).
pub fn xor_correct(model: &Xor, table: &[(XorInput, XorTarget)]) -> usize {
    table.iter().filter(|(x, t)| Bce.is_correct(&model.forward(x), t)).count()
}

/// The digits classifier of the main crate's `digits_mlp` example:
/// 64 pixels → 64 hidden units with ReLU → 10 logits.
pub type Mlp = net![Dense<U64, U64>, Relu, Dense<U64, U10>];

/// Its parameters, trained on the host by `export_digits_model`. Typed
/// with the model's size: a file for another model does not compile.
pub const PARAMS: &[u8; io::encoded_len::<Mlp, f32>()] = include_bytes!("../data/digits_mlp.tnet");

/// The digits model as a constant built by the compiler from [`PARAMS`]'
/// file (`typenet::embedded!`, checked by const evaluation): a `static`
/// of it ([`DIGITS_MLP`]) or of a part of it is in flash; a `static mut`
/// of a part is a RAM copy that the runtime makes before `main`.
pub const DIGITS_EMBEDDED: Mlp = typenet::embedded!(Mlp, "../data/digits_mlp.tnet");

/// The digits model in flash: its 19 KB of parameters stay there, nothing
/// is copied into RAM.
pub static DIGITS_MLP: Mlp = DIGITS_EMBEDDED;

/// The test split the host held out, [`RECORD`] bytes per digit.
const TEST: &[u8] = include_bytes!("../data/digits_test.bin");

/// Bytes per test digit: 64 pixels (0 to 16), the label, and the class the
/// host computed for it with the same model.
pub const RECORD: usize = 66;

const _: () = assert!(TEST.len().is_multiple_of(RECORD) && !TEST.is_empty(), "digits_test.bin holds whole records");

/// One held-out test digit.
#[derive(Clone, Copy)]
pub struct TestDigit {
    /// The 8×8 pixels, row by row, each 0 to 16.
    pub pixels: &'static [u8; 64],
    /// The true class.
    pub label: u8,
    /// The class the model predicted on the host.
    pub host: u8,
    /// The class the int8 model predicted on the host.
    pub host_int8: u8,
}

/// The held-out test digits, in the order the host wrote them.
pub fn test_digits() -> impl Iterator<Item = TestDigit> {
    TEST.chunks_exact(RECORD).zip(INT8_CLASSES).filter_map(|(record, &host_int8)| {
        let (pixels, rest) = record.split_first_chunk::<64>()?;
        Some(TestDigit { pixels, label: rest[0], host: rest[1], host_int8 })
    })
}

/// The number of test digits.
pub const TEST_LEN: usize = TEST.len() / RECORD;

/// The class the host's int8 model gave each test digit, in order.
const INT8_CLASSES: &[u8; TEST_LEN] = include_bytes!("../data/digits_test_int8.bin");

/// The validation split (`digits_mlp` watched its loss but never trained
/// on it), in [`RECORD`]s as the test split: the fine-tuning set.
const VAL: &[u8] = include_bytes!("../data/digits_val.bin");

const _: () = assert!(VAL.len().is_multiple_of(RECORD) && !VAL.is_empty(), "digits_val.bin holds whole records");

/// The number of validation digits.
pub const VAL_LEN: usize = VAL.len() / RECORD;

/// One validation digit: its pixels, its class, and the class the host's
/// model gave it.
#[derive(Clone, Copy)]
pub struct ValDigit {
    /// The 8×8 pixels, row by row, each 0 to 16.
    pub pixels: &'static [u8; 64],
    /// The true class.
    pub label: u8,
    /// The class the model predicted on the host.
    pub host: u8,
}

/// The validation digit `i` (of [`VAL_LEN`]), in the order the host wrote
/// them.
pub fn val_digit(i: usize) -> ValDigit {
    let record = &VAL[i * RECORD..(i + 1) * RECORD];
    let (pixels, rest) = record.split_first_chunk::<64>().expect("a record holds 64 pixels");
    ValDigit { pixels, label: rest[0], host: rest[1] }
}

/// A translation of the 8×8 digits by whole pixels: what comes in at an
/// edge is blank (0), what leaves at the other is lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    /// Columns to the right (negative: to the left).
    pub right: i8,
    /// Rows down (negative: up).
    pub down: i8,
}

impl Shift {
    /// No shift.
    pub const NONE: Shift = Shift { right: 0, down: 0 };
    /// One pixel to the right: the fine-tuning's new distribution. (The
    /// host's model, 98 % on the test digits, gets about half of them
    /// right so shifted.)
    pub const RIGHT: Shift = Shift { right: 1, down: 0 };

    /// `pixels` shifted, computed on the device (no shifted copy is
    /// stored).
    pub fn apply(self, pixels: &[u8; 64]) -> [u8; 64] {
        let mut out = [0u8; 64];
        for row in 0..8i32 {
            for col in 0..8i32 {
                let (from_row, from_col) = (row - i32::from(self.down), col - i32::from(self.right));
                if (0..8).contains(&from_row) && (0..8).contains(&from_col) {
                    out[(row * 8 + col) as usize] = pixels[(from_row * 8 + from_col) as usize];
                }
            }
        }
        out
    }
}

/// The network's input for `pixels`: each divided by 16, as on the host.
pub fn input(pixels: &[u8; 64]) -> Vector<f32, U64> {
    let mut x = Vector::<f32, U64>::default();
    for (x, &p) in x.iter_mut().zip(pixels) {
        *x = f32::from(p) / 16.0;
    }
    x
}

/// The class `model` predicts for `pixels`.
pub fn predict(model: &Mlp, pixels: &[u8; 64]) -> usize {
    argmax(&model.forward(&input(pixels)))
}

/// How the model did on the test digits.
#[derive(Clone, Copy, Debug, Default)]
pub struct Score {
    /// Digits classified correctly.
    pub correct: usize,
    /// Digits given the same class as on the host.
    pub same_as_host: usize,
    /// Digits seen.
    pub total: usize,
}

/// The least share of test digits the device must classify correctly, in
/// percent. The host's model scores 98 % on them, and the device computes
/// the same `f32` operations in the same order (`Dense` and `Relu` call no
/// transcendental function, and Rust never fuses a multiply and an add),
/// so it must also give every digit the class the host gave it. The floor
/// catches a model that loads but is not the trained one (a wrong one
/// scores near 10 %); `export_digits_model` refuses to write a model below
/// it.
pub const DIGITS_FLOOR_PERCENT: usize = 95;

impl Score {
    /// Every test digit seen, every prediction the host's, and the
    /// accuracy at least [`DIGITS_FLOOR_PERCENT`].
    pub fn passed(&self) -> bool {
        self.total == TEST_LEN
            && self.same_as_host == self.total
            && self.correct * 100 >= DIGITS_FLOOR_PERCENT * self.total
    }
}

/// Runs `model` on every test digit.
pub fn score(model: &Mlp) -> Score {
    let mut score = Score::default();
    for digit in test_digits() {
        let class = predict(model, digit.pixels);
        score.correct += usize::from(class == usize::from(digit.label));
        score.same_as_host += usize::from(class == usize::from(digit.host));
        score.total += 1;
    }
    score
}

/// Builds the digits model in `slot` (a `static`: 19 KB stay off the
/// stack) and loads [`PARAMS`] into it with `typenet::io::load`, which
/// checks header, architecture, checksum and values first; ends `program` if they are
/// refused.
pub fn load_digits<'a>(program: &str, slot: &'a mut MaybeUninit<Mlp>) -> &'a mut Mlp {
    let model = typenet::memory::default_in(slot);
    if let Err(e) = io::load(model, PARAMS) {
        println!("{}: the digits parameters are refused: {}", program, e);
        fail(program, "the embedded digits parameters do not load");
    }
    model
}

/// The int8 twin of [`Mlp`] that `export_digits_model` converted with
/// `typenet::quant::quantize` (calibrated on the training digits, the ReLU
/// fused into the first layer's clamp): two int8 `Dense`.
pub type Int8Mlp = quant::QuantizedOf<Mlp, Vector<f32, U64>>;

/// Its parameter file (`typenet::quant::file`), typed with the model's
/// size: a file for another model does not compile.
pub const INT8_PARAMS: &[u8; int8_file::encoded_len::<Int8Mlp>()] = include_bytes!("../data/digits_mlp_int8.tnet");

/// Multiply-adds of one inference of the digits MLP: 64·64 + 64·10.
pub const DIGITS_MACS: usize = 64 * 64 + 64 * 10;

/// Builds the int8 digits model in `slot` and loads [`INT8_PARAMS`] into
/// it with `typenet::quant::file::load` (header, checksum, architecture
/// signature and every value's range checked first); ends `program` if
/// they are refused.
pub fn load_int8_digits<'a>(program: &str, slot: &'a mut MaybeUninit<Int8Mlp>) -> &'a mut Int8Mlp {
    let model = typenet::memory::default_in(slot);
    if let Err(e) = int8_file::load(model, INT8_PARAMS) {
        println!("{}: the int8 digits parameters are refused: {}", program, e);
        fail(program, "the embedded int8 digits parameters do not load");
    }
    model
}

/// The int8 input of every pixel value 0..=16: `quantize(p / 16)` with
/// the model's input quantisation, what `Quantized::quantize_input` gives
/// the `f32` input [`input`] builds (the same `f32` division and rounding,
/// once per value instead of once per pixel).
pub fn int8_pixel_table(model: &Int8Mlp) -> [i8; 17] {
    core::array::from_fn(|p| model.input.quantize(p as f32 / 16.0))
}

/// The class the int8 model gives `pixels` (each 0 to 16, as
/// `export_digits_model` checks), through `table` from
/// [`int8_pixel_table`]: quantised input, int8 forward, argmax of the int8
/// logits.
pub fn predict_int8(model: &Int8Mlp, table: &[i8; 17], pixels: &[u8; 64]) -> usize {
    let mut x = Vector::<i8, U64>::default();
    for (x, &p) in x.iter_mut().zip(pixels) {
        *x = table[usize::from(p.min(16))];
    }
    quant::argmax(&model.forward(&x))
}

/// Runs the int8 model on every test digit, checking each class against
/// the host's int8 class.
pub fn score_int8(model: &Int8Mlp, table: &[i8; 17]) -> Score {
    let mut score = Score::default();
    for digit in test_digits() {
        let class = predict_int8(model, table, digit.pixels);
        score.correct += usize::from(class == usize::from(digit.label));
        score.same_as_host += usize::from(class == usize::from(digit.host_int8));
        score.total += 1;
    }
    score
}

/// `numerator / denominator` to three decimals, by integer arithmetic.
pub struct Ratio(pub u64, pub u64);

impl fmt::Display for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ratio(n, d) = *self;
        if d == 0 {
            return f.write_str("NaN");
        }
        let milli = (n * 1000 + d / 2) / d;
        write!(f, "{}.{:03}", milli / 1000, milli % 1000)
    }
}

/// Prints `<program>: result=FAIL <why>` and ends QEMU with a failure status.
pub fn fail(program: &str, why: &str) -> ! {
    println!("{}: result=FAIL {}", program, why);
    exit(false)
}

/// A number printed with a fixed count of decimals, by integer arithmetic.
pub struct Fixed(pub f32, pub u32);

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Fixed(x, decimals) = *self;
        if x.is_nan() {
            return f.write_str("NaN");
        }
        let scale = 10u64.pow(decimals);
        let scaled = (if x < 0.0 { -x } else { x }) * scale as f32 + 0.5;
        if scaled >= u64::MAX as f32 {
            return f.write_str(if x < 0.0 { "-inf" } else { "inf" });
        }
        let scaled = scaled as u64;
        let sign = if x < 0.0 && scaled > 0 { "-" } else { "" };
        match decimals {
            0 => write!(f, "{sign}{scaled}"),
            _ => write!(f, "{sign}{}.{:0width$}", scaled / scale, scaled % scale, width = decimals as usize),
        }
    }
}
