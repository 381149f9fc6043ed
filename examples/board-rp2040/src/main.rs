//! typenet on an RP2040 (Cortex-M0+ at 125 MHz, no FPU: `f32` in the boot
//! ROM's software routines): trains the XOR network on the chip with the
//! library's `Trainer` and Adam, then classifies the 360 held-out test
//! digits with the model trained on the host, loaded from flash. Logs
//! through defmt over RTT and lights the Raspberry Pi Pico's LED (GPIO 25)
//! when XOR is 4/4 and every digit gets the host's class.
//!
//! ```text
//! cargo run --release    # with a debug probe on the SWD pins: see README.md
//! ```

#![no_std]
#![no_main]

use core::mem::MaybeUninit;

use defmt::{error, info};
use defmt_rtt as _;
use embedded_hal::digital::OutputPin;
use panic_probe as _;
use rp2040_hal::{self as hal, Timer, pac};
use typenet::io;
use typenet::loss::argmax;
use typenet::prelude::*;

/// The second-stage bootloader for the Pico's W25Q080 flash (boards with
/// another flash chip take another of `rp2040_boot2`'s, or
/// `BOOT_LOADER_GENERIC_03H`).
// SAFETY: `.boot2` is memory.x's 256-byte region at the start of flash,
// reserved for this one array; nothing else is linked there.
#[unsafe(link_section = ".boot2")]
#[used]
static BOOT2: [u8; 256] = rp2040_boot2::BOOT_LOADER_W25Q080;

/// The Pico's crystal.
const XTAL_HZ: u32 = 12_000_000;

/// The main crate's `xor` example's network, trained the same way.
type Xor = net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>, Sigmoid];
/// Blocks of one sample: on a microcontroller the batched path buys
/// nothing and its buffers would cost RAM.
type XorTrainer = Trainer<Xor, Vector<f32, U2>, Adam, 1>;
/// The main crate's `digits_mlp` model: 64 pixels, 64 hidden, 10 classes.
type Mlp = net![Dense<U64, U64>, Relu, Dense<U64, U10>];

/// The digits model's parameters, trained on the host (`export_digits_model`);
/// typed with the model's size, so a file for another model does not compile.
static PARAMS: &[u8; io::encoded_len::<Mlp, f32>()] = include_bytes!("../../firmware-cortex-m/data/digits_mlp.tnet");
/// The test digits the host held out, 66 bytes each: 64 pixels (0 to 16),
/// the label, and the class the host's model gave it.
static TEST: &[u8] = include_bytes!("../../firmware-cortex-m/data/digits_test.bin");

#[hal::entry]
fn main() -> ! {
    let mut board = pac::Peripherals::take().unwrap();
    let mut watchdog = hal::Watchdog::new(board.WATCHDOG);
    let clocks = hal::clocks::init_clocks_and_plls(
        XTAL_HZ,
        board.XOSC,
        board.CLOCKS,
        board.PLL_SYS,
        board.PLL_USB,
        &mut board.RESETS,
        &mut watchdog,
    );
    let Ok(clocks) = clocks else { defmt::panic!("the clocks did not start") };
    // Counts microseconds.
    let timer = Timer::new(board.TIMER, &mut board.RESETS, &clocks);
    let sio = hal::Sio::new(board.SIO);
    let pins = hal::gpio::Pins::new(board.IO_BANK0, board.PADS_BANK0, sio.gpio_bank0, &mut board.RESETS);
    let mut led = pins.gpio25.into_push_pull_output();

    // `&`, not `&&`: the digits run even when XOR fails.
    let passed = xor(&timer) & digits(&timer);
    if passed {
        led.set_high().ok();
        info!("result=pass");
    } else {
        error!("result=FAIL");
    }
    loop {
        cortex_m::asm::wfi();
    }
}

/// Microseconds since `start`.
fn micros_since(timer: &Timer, start: u64) -> u64 {
    timer.get_counter().ticks() - start
}

/// Trains XOR from a seeded initialisation, everything on the stack (a few
/// hundred bytes); whether it got all four right.
fn xor(timer: &Timer) -> bool {
    let data = [
        (vector([0.0f32, 0.0]), vector([0.0])),
        (vector([0.0, 1.0]), vector([1.0])),
        (vector([1.0, 0.0]), vector([1.0])),
        (vector([1.0, 1.0]), vector([0.0])),
    ];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut model = Xor::default();
    model.init(&mut rng);
    let mut trainer = XorTrainer::with_block(Adam::new(0.05), Config { batch_size: 4, ..Config::default() });

    let start = timer.get_counter().ticks();
    let fit = trainer.fit(&mut model, &Bce, &data, &mut rng).epochs(2000).run();
    let micros = micros_since(timer, start);
    match fit {
        Ok(fit) => info!("xor: {} epochs in {} us; the last: {}", fit.epochs, micros, fit.last),
        Err(e) => {
            error!("xor: training stopped: {}", e);
            return false;
        }
    }
    let mut correct = 0;
    for (x, t) in &data {
        let y = model.forward(x);
        correct += usize::from(Bce.is_correct(&y, t));
        info!("xor: {} {} -> {} (target {})", x[0], x[1], y[0], t[0]);
    }
    info!("xor: correct={}/4", correct);
    correct == 4
}

/// Loads the digits model from flash into a `static` (19 KB of RAM, off
/// the stack) and classifies the test digits; whether every one got the
/// class the host gave it.
fn digits(timer: &Timer) -> bool {
    let slot = cortex_m::singleton!(: MaybeUninit<Mlp> = MaybeUninit::uninit()).unwrap();
    let model = typenet::memory::default_in(slot);
    if let Err(e) = io::load(model, PARAMS) {
        error!("digits: the parameters are refused: {}", e);
        return false;
    }

    let (mut correct, mut same_as_host, mut total) = (0, 0, 0u64);
    let start = timer.get_counter().ticks();
    for digit in TEST.chunks_exact(66) {
        let mut x = Vector::<f32, U64>::default();
        for (x, &pixel) in x.iter_mut().zip(&digit[..64]) {
            *x = f32::from(pixel) / 16.0;
        }
        let class = argmax(&model.forward(&x));
        correct += u64::from(class == usize::from(digit[64]));
        same_as_host += u64::from(class == usize::from(digit[65]));
        total += 1;
    }
    let micros = micros_since(timer, start);
    info!("digits: {} digits in {} us ({} us per digit)", total, micros, micros / total.max(1));
    info!("digits: correct={}/{} same_as_host={}/{}", correct, total, same_as_host, total);
    total > 0 && same_as_host == total
}
