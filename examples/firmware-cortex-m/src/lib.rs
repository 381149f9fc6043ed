//! What the firmware binaries share: the digits classifier trained on the
//! host, its int8 twin, the held-out test digits with the host's classes,
//! an instruction counter, the stack's high-water mark, and a way to print
//! decimals without `core`'s float formatting (printing one `f64` with
//! `{:.4}` adds 11 KB of flash, twice what the library's code takes here).

#![no_std]

use core::fmt;
use core::mem::MaybeUninit;

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hprintln;
use typenet::io;
use typenet::loss::argmax;
use typenet::prelude::*;
use typenet::quant::{self, file as int8_file};

/// The digits classifier of the main crate's `digits_mlp` example:
/// 64 pixels → 64 hidden units with ReLU → 10 logits.
pub type Mlp = net![Dense<U64, U64>, Relu, Dense<U64, U10>];

/// Its parameters, trained on the host by `export_digits_model`. Typed
/// with the model's size: a file for another model does not compile.
pub const PARAMS: &[u8; io::encoded_len::<Mlp, f32>()] = include_bytes!("../data/digits_mlp.tnet");

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
        hprintln!("{}: the digits parameters are refused: {}", program, e);
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
        hprintln!("{}: the int8 digits parameters are refused: {}", program, e);
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

/// The core this binary is built for, from its target (`build.rs`):
/// `cortex-m4f` for `thumbv7em-none-eabihf`, `cortex-m0` for
/// `thumbv6m-none-eabi`.
pub const CORE: &str = env!("FIRMWARE_CORE");

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

/// Ends QEMU with a success or failure status.
pub fn exit(success: bool) -> ! {
    debug::exit(if success { EXIT_SUCCESS } else { EXIT_FAILURE });
    #[allow(clippy::empty_loop)] // reached only outside an emulator or debugger
    loop {}
}

/// Prints `<program>: result=FAIL <why>` and ends QEMU with a failure status.
pub fn fail(program: &str, why: &str) -> ! {
    hprintln!("{}: result=FAIL {}", program, why);
    exit(false)
}

/// Counts instructions with SysTick.
///
/// QEMU run with `-icount shift=0` advances its virtual clock by 1 ns per
/// instruction, and the SysTick of `mps2-an386`, clocked from the core at
/// 25 MHz, ticks once every 40 ns: once per [`INSTRUCTIONS_PER_TICK`]
/// instructions, the same on every run. On real hardware it counts core
/// clock cycles instead.
///
/// [`INSTRUCTIONS_PER_TICK`]: Clock::INSTRUCTIONS_PER_TICK
pub struct Clock {
    _syst: SYST,
}

impl Clock {
    /// Instructions per SysTick tick under `qemu-system-arm -machine
    /// mps2-an386 -icount shift=0`.
    pub const INSTRUCTIONS_PER_TICK: u32 = 40;

    const RELOAD: u32 = 0x00ff_ffff;

    /// Starts SysTick free-running from the core clock, its interrupt off,
    /// and checks that it ticks once per [`INSTRUCTIONS_PER_TICK`]
    /// instructions (else ends `program`: QEMU must run with
    /// `-icount shift=0`).
    ///
    /// [`INSTRUCTIONS_PER_TICK`]: Clock::INSTRUCTIONS_PER_TICK
    pub fn start(program: &str, mut syst: SYST) -> Self {
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(Self::RELOAD);
        syst.clear_current();
        syst.enable_counter();
        let mut clock = Clock { _syst: syst };
        let iterations = 10_000;
        let ticks = clock.calibrate(iterations);
        hprintln!("{}: calibration: a loop of {} instructions took {} SysTick ticks", program, 2 * iterations, ticks);
        if ticks.abs_diff(2 * iterations / Self::INSTRUCTIONS_PER_TICK) > 1 {
            fail(
                program,
                "SysTick does not tick once per 40 instructions: run QEMU with -icount shift=0 on mps2-an386",
            );
        }
        clock
    }

    /// Runs `f` and returns its result and the ticks it took (at most
    /// 2²⁴ − 1 ticks, 671 million instructions, can be measured).
    pub fn ticks<R>(&mut self, f: impl FnOnce() -> R) -> (R, u32) {
        let start = SYST::get_current();
        let result = core::hint::black_box(f());
        let end = SYST::get_current();
        (result, start.wrapping_sub(end) & Self::RELOAD)
    }

    /// Runs `f` and returns its result and the instructions it took, to
    /// within one tick.
    pub fn instructions<R>(&mut self, f: impl FnOnce() -> R) -> (R, u32) {
        let (result, ticks) = self.ticks(f);
        (result, ticks * Self::INSTRUCTIONS_PER_TICK)
    }

    /// Ticks of a loop of exactly `2 · iterations` instructions (a
    /// subtract and a branch per iteration), to check the ratio above.
    fn calibrate(&mut self, iterations: u32) -> u32 {
        self.ticks(|| {
            // SAFETY: a counting loop on one register, no memory or stack.
            unsafe {
                core::arch::asm!("2:", "subs {0}, #1", "bne 2b", inout(reg) iterations => _, options(nomem, nostack));
            }
        })
        .1
    }
}

/// How many bytes of the stack were ever used: cortex-m-rt painted the
/// whole stack region (`_stack_end` to `_stack_start`) with
/// [`cortex_m_rt::STACK_PAINT_VALUE`] before `main`; the lowest word no
/// longer holding it marks the deepest the stack went.
pub fn stack_high_water() -> usize {
    unsafe extern "C" {
        static _stack_start: u32;
        static _stack_end: u32;
    }
    let top = &raw const _stack_start as usize;
    let mut word = &raw const _stack_end as usize;
    // SAFETY: the region between the linker's two stack symbols is RAM,
    // word-aligned; reading it changes nothing.
    while word < top && unsafe { (word as *const u32).read_volatile() } == cortex_m_rt::STACK_PAINT_VALUE {
        word += 4;
    }
    top - word
}

/// A number printed with a fixed count of decimals, by integer arithmetic.
pub struct Fixed(pub f64, pub u32);

impl fmt::Display for Fixed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Fixed(x, decimals) = *self;
        if x.is_nan() {
            return f.write_str("NaN");
        }
        let scale = 10u64.pow(decimals);
        let scaled = (if x < 0.0 { -x } else { x }) * scale as f64 + 0.5;
        if scaled >= u64::MAX as f64 {
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
