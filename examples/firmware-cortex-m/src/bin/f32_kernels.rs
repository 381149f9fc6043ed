//! The `f32` kernels on the device: checks that the Cortex-M FPU leaf
//! (`VLDM` and `VMLA.F32` tiles) gives the portable loops' results bit for
//! bit, on random data of awkward sizes and on special values (NaN,
//! infinities, signed zeros, subnormals), for `Dense` forward, weight
//! gradients and input gradients, and for convolutions forward and
//! backward; counts the instructions per multiply-add of each, leaf and
//! portable; checks `VSQRT.F32` against `libm`'s square root and counts
//! both; and counts one Adam training step of the digits MLP at batch 16.
//!
//! Built for the hard-float targets (Cortex-M4F: `thumbv7em-none-eabihf`);
//! on a core without an FPU it says so and passes.
//!
//! Its lines: `f32_kernels: check ...`, one `f32_kernels: dense ...` or
//! `f32_kernels: conv ...` line per measured product, `f32_kernels: sqrt
//! ...`, `f32_kernels: digits_adam_step ...`, and last
//! `f32_kernels: core=... result=pass kernel=... ...`.

#![no_std]
#![no_main]

use cortex_m_rt::entry;
use panic_halt as _;

const PROGRAM: &str = "f32_kernels";

#[cfg(not(target_abi = "eabihf"))]
#[entry]
fn main() -> ! {
    use cortex_m_semihosting::hprintln;
    use firmware_cortex_m::{CORE, exit};
    hprintln!(
        "{}: core={} result=pass kernel=portable (no FPU: the f32 kernels are the portable loops)",
        PROGRAM,
        CORE
    );
    exit(true)
}

#[cfg(target_abi = "eabihf")]
#[entry]
fn main() -> ! {
    fpu::main()
}

#[cfg(target_abi = "eabihf")]
mod fpu {
    use core::mem::MaybeUninit;

    use cortex_m_semihosting::hprintln;
    use typenet::__f32_kernels as k;
    use typenet::prelude::*;

    use firmware_cortex_m::{CORE, Clock, Mlp, Ratio, exit, fail, input, load_digits, test_digits};

    use super::PROGRAM;

    /// Samples per block in the check.
    const MAX_BATCH: usize = 16;

    #[derive(Default)]
    struct Check {
        cases: usize,
        mismatches: usize,
        /// Cases the leaf declined (a stride above 1): the portable form
        /// runs them, so they compare nothing.
        declined: usize,
    }

    impl Check {
        fn record(&mut self, what: &str, shape: (usize, usize, usize), special: bool, same: bool) {
            self.cases += 1;
            if !same {
                self.mismatches += 1;
                if self.mismatches <= 5 {
                    hprintln!("{}: mismatch {} {:?} special={}", PROGRAM, what, shape, special);
                }
            }
        }
    }

    pub fn main() -> ! {
        let Some(peripherals) = cortex_m::Peripherals::take() else {
            fail(PROGRAM, "the core peripherals were already taken")
        };
        let mut clock = Clock::start(PROGRAM, peripherals.SYST);

        let mut check = Check::default();
        for batch in [1, 2, 3, 5, 16] {
            for special in [false, true] {
                dense_case::<U1, U1>(&mut check, batch, special);
                dense_case::<U7, U3>(&mut check, batch, special);
                dense_case::<U8, U4>(&mut check, batch, special);
                dense_case::<U15, U5>(&mut check, batch, special);
                dense_case::<U16, U9>(&mut check, batch, special);
                dense_case::<U37, U13>(&mut check, batch, special);
                dense_case::<U64, U10>(&mut check, batch, special);
                dense_case::<U64, U64>(&mut check, batch, special);
                dense_case::<U100, U19>(&mut check, batch, special);
            }
        }
        hprintln!(
            "{}: check core={} kernel={} cases={} mismatches={} (dense forward, weight and input gradients against the portable loops, bit for bit; 9 shapes, batches 1 to 16, random and special values)",
            PROGRAM,
            CORE,
            k::KERNEL,
            check.cases,
            check.mismatches
        );

        let mut conv_check = Check::default();
        for shape in CONV_SHAPES {
            for batch in [1, 3] {
                for special in [false, true] {
                    conv_case(&mut conv_check, shape, batch, special);
                }
            }
        }
        hprintln!(
            "{}: check core={} kernel={} conv_cases={} mismatches={} declined={} (convolution forward, weight, bias and input gradients against the portable runs form, bit for bit; {} shapes, batches 1 and 3, random and special values; declined: stride 2, left to the runs form)",
            PROGRAM,
            CORE,
            k::KERNEL,
            conv_check.cases,
            conv_check.mismatches,
            conv_check.declined,
            CONV_SHAPES.len()
        );
        check.cases += conv_check.cases;
        check.mismatches += conv_check.mismatches;

        dense_counts::<U64, U64>(&mut clock, 1, "64x64 batch=1");
        dense_counts::<U64, U10>(&mut clock, 1, "64x10 batch=1");
        dense_counts::<U64, U64>(&mut clock, 16, "64x64 batch=16");
        dense_counts::<U64, U10>(&mut clock, 16, "64x10 batch=16");

        // The digits CNN's two convolutions and LeNet-5's second.
        conv_counts(&mut clock, [1, 8, 8, 8, 3, 1, 1], "1x8x8 -> 8x8x8, 3x3, padding 1");
        conv_counts(&mut clock, [8, 16, 8, 8, 3, 1, 1], "8x8x8 -> 16x8x8, 3x3, padding 1");
        conv_counts(&mut clock, [6, 16, 14, 14, 5, 1, 0], "lenet5 conv2 6x14x14 -> 16x10x10, 5x5");

        let sqrt_same = sqrt(&mut clock);
        let step = digits_adam_step(&mut clock);

        let passed = check.mismatches == 0 && sqrt_same && step;
        hprintln!(
            "{}: core={} result={} kernel={} check_cases={} check_mismatches={}",
            PROGRAM,
            CORE,
            if passed { "pass" } else { "FAIL" },
            k::KERNEL,
            check.cases,
            check.mismatches
        );
        exit(passed)
    }

    /// A value for the check: uniform in ±1, or with `special` one in
    /// four a NaN, an infinity, a signed zero, a subnormal or a huge value.
    fn value(rng: &mut Xoshiro256PlusPlus, special: bool) -> f32 {
        const SPECIAL: [f32; 8] = [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, 1e-40, -3e-39, 3e38];
        if special && rng.random_range(0..4) == 0 {
            SPECIAL[rng.random_range(0..SPECIAL.len())]
        } else {
            rng.random_range(-1.0..1.0)
        }
    }

    /// The same bits, or both NaN (Rust leaves a NaN's sign and payload
    /// unspecified: the compiler may swap an addition's operands).
    fn same<'a>(a: impl IntoIterator<Item = &'a f32>, b: impl IntoIterator<Item = &'a f32>) -> bool {
        a.into_iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    }

    /// The leaf against the portable loops on `batch` samples of `I → O`.
    fn dense_case<I: ArrayLength, O: ArrayLength>(check: &mut Check, batch: usize, special: bool) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64((batch * 1000 + I::USIZE * 10 + O::USIZE) as u64);
        let mut w = Matrix::<f32, O, I>::default();
        w.as_flat_mut().iter_mut().for_each(|v| *v = value(&mut rng, special));
        let mut bias = Vector::<f32, O>::default();
        bias.iter_mut().for_each(|v| *v = value(&mut rng, special));
        let xs: [Vector<f32, I>; MAX_BATCH] =
            core::array::from_fn(|_| Vector::from_iter((0..I::USIZE).map(|_| value(&mut rng, special))));
        let dys: [Vector<f32, O>; MAX_BATCH] =
            core::array::from_fn(|_| Vector::from_iter((0..O::USIZE).map(|_| value(&mut rng, special))));
        let x_refs: [&Vector<f32, I>; MAX_BATCH] = core::array::from_fn(|b| &xs[b]);
        let dy_refs: [&Vector<f32, O>; MAX_BATCH] = core::array::from_fn(|b| &dys[b]);
        let (x_refs, dy_refs) = (&x_refs[..batch], &dy_refs[..batch]);
        let shape = (batch, I::USIZE, O::USIZE);

        let mut leaf: [Vector<f32, O>; MAX_BATCH] = Default::default();
        let mut portable: [Vector<f32, O>; MAX_BATCH] = Default::default();
        {
            let mut outs: [&mut Vector<f32, O>; MAX_BATCH] = leaf.each_mut();
            k::dense_forward(&w, &bias, x_refs, &mut outs[..batch]);
            let mut outs: [&mut Vector<f32, O>; MAX_BATCH] = portable.each_mut();
            k::dense_forward_portable(&w, &bias, x_refs, &mut outs[..batch]);
        }
        check.record("forward", shape, special, same(leaf.iter().flatten(), portable.iter().flatten()));

        let (mut gw, mut gb) = (w.clone(), bias.clone());
        let (mut pgw, mut pgb) = (w.clone(), bias.clone());
        k::dense_grads(&mut gw, &mut gb, x_refs, dy_refs);
        k::dense_grads_portable(&mut pgw, &mut pgb, x_refs, dy_refs);
        check.record("grads", shape, special, same(gw.as_flat(), pgw.as_flat()) && same(&gb, &pgb));

        let mut leaf: [Vector<f32, I>; MAX_BATCH] = Default::default();
        let mut portable: [Vector<f32, I>; MAX_BATCH] = Default::default();
        {
            let mut outs: [&mut Vector<f32, I>; MAX_BATCH] = leaf.each_mut();
            k::dense_input_grads(&w, dy_refs, &mut outs[..batch]);
            let mut outs: [&mut Vector<f32, I>; MAX_BATCH] = portable.each_mut();
            k::dense_input_grads_portable(&w, dy_refs, &mut outs[..batch]);
        }
        check.record("input_grads", shape, special, same(leaf.iter().flatten(), portable.iter().flatten()));
    }

    /// Instructions of the three products, leaf and portable, on `batch`
    /// samples of `I → O`: one line each.
    fn dense_counts<I: ArrayLength, O: ArrayLength>(clock: &mut Clock, batch: usize, name: &str) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut w = Matrix::<f32, O, I>::default();
        w.as_flat_mut().iter_mut().for_each(|v| *v = value(&mut rng, false));
        let bias = Vector::<f32, O>::default();
        let xs: [Vector<f32, I>; MAX_BATCH] =
            core::array::from_fn(|_| Vector::from_iter((0..I::USIZE).map(|_| value(&mut rng, false))));
        let dys: [Vector<f32, O>; MAX_BATCH] =
            core::array::from_fn(|_| Vector::from_iter((0..O::USIZE).map(|_| value(&mut rng, false))));
        let x_refs: [&Vector<f32, I>; MAX_BATCH] = core::array::from_fn(|b| &xs[b]);
        let dy_refs: [&Vector<f32, O>; MAX_BATCH] = core::array::from_fn(|b| &dys[b]);
        let (x_refs, dy_refs) = (&x_refs[..batch], &dy_refs[..batch]);
        let macs = (batch * I::USIZE * O::USIZE) as u64;

        let mut ys: [Vector<f32, O>; MAX_BATCH] = Default::default();
        let mut outs: [&mut Vector<f32, O>; MAX_BATCH] = ys.each_mut();
        let (_, leaf) = clock.instructions(|| k::dense_forward(&w, &bias, x_refs, &mut outs[..batch]));
        let (_, portable) = clock.instructions(|| k::dense_forward_portable(&w, &bias, x_refs, &mut outs[..batch]));
        line("dense forward", name, leaf, portable, macs);

        let (mut gw, mut gb) = (w.clone(), bias.clone());
        let (_, leaf) = clock.instructions(|| k::dense_grads(&mut gw, &mut gb, x_refs, dy_refs));
        let (_, portable) = clock.instructions(|| k::dense_grads_portable(&mut gw, &mut gb, x_refs, dy_refs));
        line("dense weight_grads", name, leaf, portable, macs);

        let mut dxs: [Vector<f32, I>; MAX_BATCH] = Default::default();
        let mut outs: [&mut Vector<f32, I>; MAX_BATCH] = dxs.each_mut();
        let (_, leaf) = clock.instructions(|| k::dense_input_grads(&w, dy_refs, &mut outs[..batch]));
        let (_, portable) = clock.instructions(|| k::dense_input_grads_portable(&w, dy_refs, &mut outs[..batch]));
        line("dense input_grads", name, leaf, portable, macs);
    }

    /// Convolutions checked: `[c_in, c_out, h, w, k, stride, padding]`.
    const CONV_SHAPES: [[usize; 7]; 16] = [
        // Rows with 8 interior columns or more for every kernel width the
        // weight gradients' registers take (1 to 7).
        [2, 2, 3, 20, 1, 1, 0],
        [2, 2, 4, 20, 2, 1, 0],
        [1, 1, 5, 20, 4, 1, 1],
        [1, 2, 6, 20, 5, 1, 2],
        [1, 1, 7, 22, 6, 1, 2],
        [1, 1, 9, 24, 7, 1, 3],
        [1, 2, 5, 5, 3, 1, 0],
        [2, 3, 8, 8, 3, 1, 1],
        [3, 2, 6, 10, 5, 1, 2],
        [2, 2, 7, 9, 1, 1, 0],
        [1, 2, 12, 21, 3, 1, 1],
        [2, 3, 6, 6, 7, 1, 3],
        [1, 1, 4, 3, 5, 1, 1],
        [2, 2, 9, 13, 3, 2, 1],
        [2, 2, 3, 30, 3, 1, 1],
        [4, 3, 5, 11, 2, 1, 0],
    ];
    /// The largest input, output and weights of the convolutions here.
    const CONV_X: usize = 1176;
    const CONV_Y: usize = 1600;
    const CONV_W: usize = 2400;

    fn conv_sizes([c_in, c_out, h, w, k, s, p]: [usize; 7]) -> (usize, usize, usize) {
        let (oh, ow) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
        (c_in * h * w, c_out * oh * ow, c_out * c_in * k * k)
    }

    /// The leaf's convolution against the runs form on `batch` samples.
    fn conv_case(check: &mut Check, shape: [usize; 7], batch: usize, special: bool) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64((shape[3] * 100 + shape[4] * 10 + batch) as u64);
        let (xn, yn, wn) = conv_sizes(shape);
        let cout = shape[1];
        let mut w = [0.0f32; CONV_W];
        let mut bias = [0.0f32; 16];
        let mut xs = [[0.0f32; CONV_X]; 3];
        let mut dys = [[0.0f32; CONV_Y]; 3];
        w[..wn].iter_mut().chain(&mut bias[..cout]).for_each(|v| *v = value(&mut rng, special));
        xs.iter_mut().flat_map(|x| &mut x[..xn]).for_each(|v| *v = value(&mut rng, special));
        dys.iter_mut().flat_map(|d| &mut d[..yn]).for_each(|v| *v = value(&mut rng, special));
        let (w, bias) = (&w[..wn], &bias[..cout]);
        let x_refs: [&[f32]; 3] = core::array::from_fn(|b| &xs[b][..xn]);
        let dy_refs: [&[f32]; 3] = core::array::from_fn(|b| &dys[b][..yn]);
        let (x_refs, dy_refs) = (&x_refs[..batch], &dy_refs[..batch]);
        let id = (batch, shape[0] * 100 + shape[1], shape[2] * 1000 + shape[3] * 10 + shape[4]);

        let (mut leaf, mut portable) = ([[7.0f32; CONV_Y]; 3], [[7.0f32; CONV_Y]; 3]);
        let mut outs: [&mut [f32]; 3] = leaf.each_mut().map(|y| &mut y[..yn]);
        let ran = k::conv_forward(shape, w, bias, x_refs, &mut outs[..batch]);
        check.declined += usize::from(!ran);
        if ran {
            let mut outs: [&mut [f32]; 3] = portable.each_mut().map(|y| &mut y[..yn]);
            k::conv_forward_portable(shape, w, bias, x_refs, &mut outs[..batch]);
        }
        check.record("conv forward", id, special, same(leaf.iter().flatten(), portable.iter().flatten()));

        let mut gw = [0.0f32; CONV_W];
        let mut gb = [0.0f32; 16];
        gw[..wn].iter_mut().chain(&mut gb[..cout]).for_each(|v| *v = value(&mut rng, special));
        let (mut pgw, mut pgb) = (gw, gb);
        let (mut dx, mut pdx) = ([[7.0f32; CONV_X]; 3], [[7.0f32; CONV_X]; 3]);
        let mut outs: [&mut [f32]; 3] = dx.each_mut().map(|v| &mut v[..xn]);
        let ran = k::conv_backward(shape, w, x_refs, dy_refs, &mut gw[..wn], &mut gb[..cout], Some(&mut outs[..batch]));
        check.declined += usize::from(!ran);
        if ran {
            let mut outs: [&mut [f32]; 3] = pdx.each_mut().map(|v| &mut v[..xn]);
            k::conv_backward_portable(
                shape,
                w,
                x_refs,
                dy_refs,
                &mut pgw[..wn],
                &mut pgb[..cout],
                Some(&mut outs[..batch]),
            );
        }
        check.record(
            "conv backward",
            id,
            special,
            same(&gw, &pgw) && same(&gb, &pgb) && same(dx.iter().flatten(), pdx.iter().flatten()),
        );
    }

    /// Instructions of the convolution forward and backward (weight, bias
    /// and input gradients), leaf and portable, one sample: one line each.
    fn conv_counts(clock: &mut Clock, shape: [usize; 7], name: &str) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let (xn, yn, wn) = conv_sizes(shape);
        let cout = shape[1];
        let (mut w, mut bias, mut x, mut dy) = ([0.0f32; CONV_W], [0.0f32; 16], [0.0f32; CONV_X], [0.0f32; CONV_Y]);
        for v in w[..wn].iter_mut().chain(&mut bias[..cout]).chain(&mut x[..xn]).chain(&mut dy[..yn]) {
            *v = value(&mut rng, false);
        }
        let (w, bias, x, dy) = (&w[..wn], &bias[..cout], &x[..xn], &dy[..yn]);
        let macs = (yn * shape[0] * shape[4] * shape[4]) as u64;

        let (mut leaf, mut portable) = ([0.0f32; CONV_Y], [0.0f32; CONV_Y]);
        let ((), leaf_instructions) = clock.instructions(|| {
            k::conv_forward(shape, w, bias, &[x], &mut [&mut leaf[..yn]]);
        });
        let ((), portable_instructions) =
            clock.instructions(|| k::conv_forward_portable(shape, w, bias, &[x], &mut [&mut portable[..yn]]));
        line("conv forward", name, leaf_instructions, portable_instructions, macs);

        let (mut gw, mut gb, mut dx) = ([0.0f32; CONV_W], [0.0f32; 16], [0.0f32; CONV_X]);
        let ((), leaf_instructions) = clock.instructions(|| {
            k::conv_backward(shape, w, &[x], &[dy], &mut gw[..wn], &mut gb[..cout], Some(&mut [&mut dx[..xn]]));
        });
        let ((), portable_instructions) = clock.instructions(|| {
            k::conv_backward_portable(shape, w, &[x], &[dy], &mut gw[..wn], &mut gb[..cout], Some(&mut [&mut dx[..xn]]))
        });
        let ((), leaf_gw) = clock.instructions(|| {
            k::conv_backward(shape, w, &[x], &[dy], &mut gw[..wn], &mut gb[..cout], None);
        });
        let ((), portable_gw) = clock
            .instructions(|| k::conv_backward_portable(shape, w, &[x], &[dy], &mut gw[..wn], &mut gb[..cout], None));
        line("conv weight_grads", name, leaf_gw, portable_gw, macs);
        // Weight gradients and input gradient: two multiply-adds per tap.
        line("conv backward", name, leaf_instructions, portable_instructions, 2 * macs);
    }

    fn line(what: &str, name: &str, leaf: u32, portable: u32, macs: u64) {
        hprintln!(
            "{}: {} {} core={} instructions={} macs={} per_mac={} portable_instructions={} portable_per_mac={}",
            PROGRAM,
            what,
            name,
            CORE,
            leaf,
            macs,
            Ratio(leaf.into(), macs),
            portable,
            Ratio(portable.into(), macs)
        );
    }

    /// `libm`'s square root, as the optimisers reach it through `Float`
    /// in a `no_std` build.
    #[inline(never)]
    fn libm_sqrt<T: Scalar>(x: T) -> T {
        x.sqrt()
    }

    /// `VSQRT.F32` against `libm` on every 65,537th bit pattern (NaNs equal
    /// when both are NaN), and the instructions of 1,000 calls of each.
    fn sqrt(clock: &mut Clock) -> bool {
        let (mut cases, mut differ) = (0u32, 0u32);
        let mut bits = 0u32;
        loop {
            let x = f32::from_bits(bits);
            let (a, b) = (k::sqrt(x), libm_sqrt(x));
            cases += 1;
            differ += u32::from(a.to_bits() != b.to_bits() && !(a.is_nan() && b.is_nan()));
            match bits.checked_add(65_537) {
                Some(next) => bits = next,
                None => break,
            }
        }
        let mut sum = 0.0f32;
        let (_, hardware) = clock.instructions(|| {
            for i in 0..1000u16 {
                sum += k::sqrt(core::hint::black_box(f32::from(i)));
            }
        });
        let (_, software) = clock.instructions(|| {
            for i in 0..1000u16 {
                sum += libm_sqrt(core::hint::black_box(f32::from(i)));
            }
        });
        core::hint::black_box(sum);
        hprintln!(
            "{}: sqrt core={} cases={} differ={} vsqrt_instructions_per_call={} libm_instructions_per_call={} (loop included)",
            PROGRAM,
            CORE,
            cases,
            differ,
            Ratio(hardware.into(), 1000),
            Ratio(software.into(), 1000)
        );
        differ == 0
    }

    type Digits = Vector<f32, U64>;
    /// Blocks of 16: one block per step at batch 16, as `Trainer::new`
    /// runs a batch of 16.
    type DigitsTrainer = Trainer<Mlp, Digits, Adam, 16>;

    static mut MODEL: MaybeUninit<Mlp> = MaybeUninit::uninit();
    static mut TRAINER: MaybeUninit<DigitsTrainer> = MaybeUninit::uninit();

    /// One Adam step of the digits MLP on 16 test digits at batch 16 (an
    /// epoch of one batch: the shuffle of 16, forward, loss, backward,
    /// the checks and Adam), starting from the host's trained model, after
    /// one warm-up step.
    fn digits_adam_step(clock: &mut Clock) -> bool {
        let mut table = [(Digits::default(), 0usize); 16];
        for (slot, digit) in table.iter_mut().zip(test_digits()) {
            *slot = (input(digit.pixels), usize::from(digit.label));
        }
        // SAFETY: the only references to the two statics, taken once, on
        // the one thread there is.
        let (model, trainer) =
            unsafe { (&mut *core::ptr::addr_of_mut!(MODEL), &mut *core::ptr::addr_of_mut!(TRAINER)) };
        let model = load_digits(PROGRAM, model);
        let adam = Adam::new(2e-3);
        let trainer = DigitsTrainer::new_in(trainer, adam, Config { batch_size: 16, ..Config::default() });
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let first = trainer.train_epoch(model, &SoftmaxCrossEntropy, &table, &mut rng, &mut ());
        let (second, instructions) =
            clock.instructions(|| trainer.train_epoch(model, &SoftmaxCrossEntropy, &table, &mut rng, &mut ()));
        let passed = first.is_ok() && second.is_ok();
        hprintln!(
            "{}: digits_adam_step core={} result={} batch=16 instructions={} macs={} (forward 16x4736, weight gradients 16x4736, input gradients 16x640)",
            PROGRAM,
            CORE,
            if passed { "pass" } else { "FAIL" },
            instructions,
            16 * (4736 + 4736 + 640)
        );
        passed
    }
}
