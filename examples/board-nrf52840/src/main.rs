//! typenet on an nRF52840 (Cortex-M4F, 64 MHz): trains the XOR network on
//! the chip with the library's `Trainer` and Adam, then classifies the 360
//! held-out test digits with the model trained on the host, loaded from
//! flash. Logs through defmt over RTT and lights LED1 of the nRF52840 DK
//! (P0.13) when XOR is 4/4 and every digit gets the host's class.
//!
//! ```text
//! cargo run --release    # with the board plugged in: see README.md
//! ```

#![no_std]
#![no_main]

use core::mem::MaybeUninit;

use cortex_m::peripheral::DWT;
use defmt::{error, info};
use defmt_rtt as _;
use embedded_hal::digital::OutputPin;
use nrf52840_hal::gpio::{Level, p0};
use nrf52840_hal::pac;
use panic_probe as _;
use typenet::io;
use typenet::loss::argmax;
use typenet::prelude::*;

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

#[cortex_m_rt::entry]
fn main() -> ! {
    let mut core = cortex_m::Peripherals::take().unwrap();
    core.DCB.enable_trace();
    core.DWT.enable_cycle_counter();
    let board = pac::Peripherals::take().unwrap();
    // LED1 of the nRF52840 DK, lit when low.
    let mut led = p0::Parts::new(board.P0).p0_13.into_push_pull_output(Level::High);

    // `&`, not `&&`: the digits run even when XOR fails.
    let passed = xor() & digits();
    if passed {
        led.set_low().ok();
        info!("result=pass");
    } else {
        error!("result=FAIL");
    }
    loop {
        cortex_m::asm::wfi();
    }
}

/// Trains XOR from a seeded initialisation, everything on the stack (a few
/// hundred bytes); whether it got all four right.
fn xor() -> bool {
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

    let start = DWT::cycle_count();
    let fit = trainer.fit(&mut model, &Bce, &data, &mut rng).epochs(2000).run();
    let cycles = DWT::cycle_count().wrapping_sub(start);
    match fit {
        Ok(fit) => info!("xor: {} epochs in {} cycles; the last: {}", fit.epochs, cycles, fit.last),
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
fn digits() -> bool {
    let slot = cortex_m::singleton!(: MaybeUninit<Mlp> = MaybeUninit::uninit()).unwrap();
    let model = typenet::memory::default_in(slot);
    if let Err(e) = io::load(model, PARAMS) {
        error!("digits: the parameters are refused: {}", e);
        return false;
    }

    let (mut correct, mut same_as_host, mut total) = (0, 0, 0);
    let start = DWT::cycle_count();
    for digit in TEST.chunks_exact(66) {
        let mut x = Vector::<f32, U64>::default();
        for (x, &pixel) in x.iter_mut().zip(&digit[..64]) {
            *x = f32::from(pixel) / 16.0;
        }
        let class = argmax(&model.forward(&x));
        correct += usize::from(class == usize::from(digit[64]));
        same_as_host += usize::from(class == usize::from(digit[65]));
        total += 1;
    }
    let cycles = DWT::cycle_count().wrapping_sub(start);
    info!("digits: {} digits in {} cycles ({} per digit)", total, cycles, cycles / total.max(1) as u32);
    info!("digits: correct={}/{} same_as_host={}/{}", correct, total, same_as_host, total);
    total > 0 && same_as_host == total
}
