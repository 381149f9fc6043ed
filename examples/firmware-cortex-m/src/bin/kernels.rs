//! The int8 kernels on the device: checks that the kernel this build runs
//! (the Armv7E-M DSP leaf on the Cortex-M4F, the portable loop on the
//! Cortex-M0) gives the portable loop's sums bit for bit on pseudo-random
//! int8 data of awkward lengths, and counts the instructions of int8
//! convolution layers, checking their outputs against TFLite's reference
//! arithmetic spelled out.
//!
//! Its lines:
//! `kernels: core=... kernel=... check=pass cases=... mismatches=0 ...`,
//! one `kernels: conv ...` line per layer, and last
//! `kernels: core=... result=pass ...`.

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use panic_halt as _;
use typenet::__int8_kernels::{KERNEL, matvec, matvec_portable, matvec2, matvec2_portable};
use typenet::layer::Layer;
use typenet::layers::conv::{ConvDims, ConvOut};
use typenet::prelude::*;
use typenet::quant::{self, Clamp, Int8Tensor, QParams};
use typenet::typenum::Unsigned;

use firmware_cortex_m::{CORE, Clock, Ratio, exit, fail};

const PROGRAM: &str = "kernels";

/// Input lengths the check covers besides 1 to 67 (each remainder modulo
/// 8 many times, below and above one group of eight): lengths around the
/// DSP leaf's passes of 256 inputs.
const LONG: [usize; 7] = [255, 256, 257, 263, 300, 512, 519];
const MAX_LEN: usize = 519;
/// Rows (output channels) per case: 1 to 5 (odd and even counts).
const MAX_ROWS: usize = 5;
/// The longest window of the convolutions measured (64 channels, 3×3).
const MAX_PATCH: usize = 576;

#[entry]
fn main() -> ! {
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        fail(PROGRAM, "the core peripherals were already taken")
    };
    let mut clock = Clock::start(PROGRAM, peripherals.SYST);

    let check = check_kernels();
    hprintln!(
        "kernels: core={} kernel={} check={} cases={} mismatches={} (matvec and matvec2 against the portable loops; lengths 1..=67 and {}..={}, 1..={} rows, random and extreme int8 data)",
        CORE,
        KERNEL,
        if check.mismatches == 0 { "pass" } else { "FAIL" },
        check.cases,
        check.mismatches,
        LONG[0],
        MAX_LEN,
        MAX_ROWS
    );

    // LeNet-5's second convolution (the `mnist_cnn` example's): 6 → 16
    // channels, 5×5, on 6×14×14: 150 multiply-adds per output value.
    let lenet = conv::<U6, U16, U5, U0, U14, U14>(&mut clock, "lenet5 conv2 6x14x14 -> 16x10x10, 5x5");
    // The digits CNN's second convolution shape with padding: 8 → 16
    // channels, 3×3, padding 1, on 8×8×8: 72 per output value.
    let digits = conv::<U8, U16, U3, U1, U8, U8>(&mut clock, "conv 8x8x8 -> 16x8x8, 3x3, padding 1");

    // ResNet-8-style convolutions (3×3, padding 1): 288 and 576 per output value.
    let resnet32 = conv::<U32, U32, U3, U1, U8, U8>(&mut clock, "conv 32x8x8 -> 32x8x8, 3x3, padding 1");
    let resnet64 = conv::<U64, U64, U3, U1, U4, U4>(&mut clock, "conv 64x4x4 -> 64x4x4, 3x3, padding 1");

    let passed = check.mismatches == 0 && lenet && digits && resnet32 && resnet64;
    hprintln!(
        "kernels: core={} result={} kernel={} check_cases={} check_mismatches={}",
        CORE,
        if passed { "pass" } else { "FAIL" },
        KERNEL,
        check.cases,
        check.mismatches
    );
    exit(passed)
}

struct Check {
    cases: usize,
    mismatches: usize,
}

/// This build's kernels (`matvec`, one input, as `Dense` runs it;
/// `matvec2`, two inputs, as `Conv2d` runs two output positions) against
/// the portable loops on every length and row count, starting from random
/// sums; each case once with random weights and inputs and once with
/// extreme values (−128 and 127, the largest products and sums).
fn check_kernels() -> Check {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(16);
    let mut w = [0i8; MAX_ROWS * MAX_LEN];
    let (mut x, mut x2) = ([0i8; MAX_LEN], [0i8; MAX_LEN]);
    let mut check = Check { cases: 0, mismatches: 0 };
    for n in (1..=67).chain(LONG) {
        for rows in 1..=MAX_ROWS {
            for extreme in [false, true] {
                let value = |rng: &mut Xoshiro256PlusPlus| {
                    if extreme { if rng.random::<bool>() { -128 } else { 127 } } else { rng.random::<i8>() }
                };
                w[..rows * n].iter_mut().for_each(|v| *v = value(&mut rng));
                x[..n].iter_mut().for_each(|v| *v = value(&mut rng));
                x2[..n].iter_mut().for_each(|v| *v = value(&mut rng));
                let start: [i32; MAX_ROWS] = core::array::from_fn(|_| rng.random());
                let (w, x, x2) = (&w[..rows * n], &x[..n], &x2[..n]);
                let (mut dsp, mut portable) = (start, start);
                matvec(w, x, &mut dsp[..rows]);
                matvec_portable(w, x, &mut portable[..rows]);
                let (mut dsp0, mut dsp1, mut portable0, mut portable1) = (start, start, start, start);
                matvec2(w, x, x2, &mut dsp0[..rows], &mut dsp1[..rows]);
                matvec2_portable(w, x, x2, &mut portable0[..rows], &mut portable1[..rows]);
                for (kernel, same) in [("matvec", dsp == portable), ("matvec2", (dsp0, dsp1) == (portable0, portable1))]
                {
                    check.cases += 1;
                    if !same {
                        check.mismatches += 1;
                        if check.mismatches <= 3 {
                            hprintln!("kernels: {} mismatch n={} rows={} extreme={}", kernel, n, rows, extreme);
                        }
                    }
                }
            }
        }
    }
    check
}

/// Builds an int8 `Conv2d<CI, CO, K, 1, P>` with random weights and a
/// random `CI×H×W` input, counts the instructions of its forward pass and
/// of the kernel alone on two windows, checks every output against TFLite's
/// `ConvPerChannel` spelled out, and prints one line. Returns whether every
/// output matched.
fn conv<CI, CO, K, P, H, W>(clock: &mut Clock, name: &str) -> bool
where
    CI: ArrayLength,
    CO: ArrayLength,
    K: ArrayLength,
    P: Unsigned,
    H: ConvDims<K, U1, P>,
    W: ConvDims<K, U1, P>,
{
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let mut weight = Tensor4::<i8, CO, CI, K, K>::default();
    weight.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-127..=127));
    let scales: [f32; 64] = core::array::from_fn(|_| rng.random_range(0.002..0.02));
    let bias: [i32; 64] = core::array::from_fn(|_| rng.random_range(-3000..3000));
    let input = QParams { scale: 0.05, zero_point: -3 };
    let output = QParams { scale: 0.4, zero_point: 4 };
    let layer = quant::Conv2d::<CI, CO, K, U1, P>::from_tflite(
        weight,
        &scales[..CO::USIZE],
        &bias[..CO::USIZE],
        input,
        output,
        Clamp { min: -128, max: 127 },
    );
    let mut x = Tensor3::<i8, CI, H, W>::default();
    x.as_flat_mut().iter_mut().for_each(|v| *v = rng.random());

    let (y, instructions) = clock.instructions(|| layer.forward(&x));
    let (oh, ow) = (ConvOut::<H, K, U1, P>::USIZE, ConvOut::<W, K, U1, P>::USIZE);
    let patch = CI::USIZE * K::USIZE * K::USIZE;
    let macs = CO::USIZE * oh * ow * patch;

    // The kernel alone on two random windows, all output channels, as the
    // layer runs two output positions.
    let mut windows = [0i8; 2 * MAX_PATCH];
    windows.iter_mut().for_each(|v| *v = rng.random());
    let (mut acc0, mut acc1) = ([0i32; 64], [0i32; 64]);
    let (_, kernel_instructions) = clock.instructions(|| {
        let (first, second) = windows[..2 * patch].split_at(patch);
        matvec2(layer.weight().as_flat(), first, second, &mut acc0[..CO::USIZE], &mut acc1[..CO::USIZE]);
    });

    // TFLite's reference: padded taps are skipped, the others add
    // `w · (x − z_in)`; then the layer's own output stage.
    let (k, p) = (K::USIZE as isize, P::ISIZE);
    let (c, wt) = (layer.channels(), layer.weight());
    let mut same = 0;
    for o in 0..CO::USIZE {
        for oy in 0..oh {
            for ox in 0..ow {
                let mut sum = c.bias[o];
                for ci in 0..CI::USIZE {
                    for ky in 0..k {
                        for kx in 0..k {
                            let (iy, ix) = (oy as isize + ky - p, ox as isize + kx - p);
                            if (0..H::ISIZE).contains(&iy) && (0..W::ISIZE).contains(&ix) {
                                let xv = x[ci][iy as usize][ix as usize] as i32 - c.input.zero_point;
                                sum += wt[o][ci][ky as usize][kx as usize] as i32 * xv;
                            }
                        }
                    }
                }
                same += usize::from(c.finish(o, sum) == y[o][oy][ox]);
            }
        }
    }
    let outputs = CO::USIZE * oh * ow;
    hprintln!(
        "kernels: conv {} core={} instructions={} macs={} per_mac={} kernel_per_mac={} same_as_reference={}/{}",
        name,
        CORE,
        instructions,
        macs,
        Ratio(instructions.into(), macs as u64),
        Ratio(kernel_instructions.into(), (2 * CO::USIZE * patch) as u64),
        same,
        outputs
    );
    same == outputs
}
