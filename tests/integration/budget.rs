//! Training budgets of the example models, as the guide's firmware chapter
//! tables them (`typenet::guide::ch12_firmware`): the figures are the
//! types' sizes on x86-64 (each layer rounded up to a cache line there),
//! and their relations hold everywhere.

use typenet::prelude::*;
use typenet::train::Budget;

use crate::models::{
    Cnn, Digit, DigitImage, DsCnn, LeNet5, LeNetBody, LeNetHead, LstmNet, Mlp, MnistImage, ResNet8, Xor,
};

type MlpHead<'a> = (Frozen<'a, Dense<U64, U64>>, (Relu, (Dense<U64, U10>,)));
type MlpBiases<'a> = net![BiasOnly<'a, Dense<U64, U64>>, Relu, BiasOnly<'a, Dense<U64, U10>>];

/// (model, gradients, optimiser state, caches, outputs, trainer, RAM,
/// stack) of each row of the guide's table.
fn figures(b: Budget) -> [usize; 8] {
    [b.model, b.gradients, b.optimizer_state, b.caches, b.outputs, b.trainer, b.ram(), b.stack]
}

#[test]
fn the_guide_table_is_what_the_types_say() {
    let rows = [
        Trainer::<Xor, Vector<f32, U2>, Adam>::BUDGET,
        Trainer::<Mlp, Digit, Adam>::BUDGET,
        Trainer::<Mlp, Digit, Adam, 8>::BUDGET,
        Trainer::<MlpHead, Digit, Adam, 8>::BUDGET,
        Trainer::<MlpBiases, Digit, Adam, 8>::BUDGET,
        Trainer::<Cnn, DigitImage, Adam>::BUDGET,
        Trainer::<LeNet5, MnistImage, Adam>::BUDGET,
        Trainer::<LeNet5, MnistImage, Adam, 8>::BUDGET,
        Trainer::<(Frozen<LeNetBody>, LeNetHead), MnistImage, Adam>::BUDGET,
        Trainer::<DsCnn, MnistImage, Adam>::BUDGET,
        Trainer::<ResNet8, MnistImage, Adam>::BUDGET,
        Trainer::<LstmNet, Matrix<f32, U8, U8>, Adam>::BUDGET,
    ];
    for b in rows {
        // The trainer is its four parts and a few words of settings.
        let parts = b.gradients + b.optimizer_state + b.caches + b.outputs;
        assert!(b.trainer >= parts && b.trainer - parts <= 64 + typenet::memory::LAYER_ALIGN, "{b:?}");
        assert!(b.optimizer_state >= 2 * b.gradients, "Adam's two moments: {b:?}");
    }
    // A frozen front costs no gradients and no optimiser state.
    let (full, head) = (rows[2], rows[3]);
    assert_eq!(head.gradients, size_of::<((), ((), (Dense<U64, U10>,)))>());
    assert!(full.ram() - head.ram() >= full.gradients - head.gradients + full.optimizer_state - head.optimizer_state);
    // The caches scale with the block; nothing else does.
    assert_eq!(rows[6].caches, 4 * rows[7].caches);
    assert_eq!(rows[6].gradients, rows[7].gradients);
    // Bias-only: gradients and optimiser state the size of the biases.
    assert_eq!(rows[4].gradients, (64 + 10) * 4);
    if cfg!(target_arch = "x86_64") {
        let table: [[usize; 8]; 12] = [
            [128, 128, 320, 2_944, 256, 3_712, 3_840, 40],
            [19_264, 19_264, 38_592, 32_768, 2_560, 93_248, 112_512, 552],
            [19_264, 19_264, 38_592, 8_192, 640, 66_752, 86_016, 552],
            [2_688, 2_624, 5_312, 8_192, 640, 16_832, 19_520, 552],
            [312, 296, 596, 8_192, 640, 9_784, 10_096, 552],
            [7_616, 7_616, 15_296, 344_064, 2_560, 369_600, 377_216, 5_416],
            [246_976, 246_976, 494_016, 3_837_952, 2_560, 4_581_568, 4_828_544, 58_336],
            [246_976, 246_976, 494_016, 959_488, 640, 1_701_184, 1_948_160, 58_336],
            [236_736, 236_672, 473_408, 206_848, 2_560, 919_552, 1_156_288, 58_336],
            [65_280, 65_280, 130_624, 27_885_568, 2_560, 28_084_096, 28_149_376, 225_792],
            [315_648, 315_648, 631_360, 49_518_592, 2_560, 50_468_224, 50_783_872, 401_408],
            [22_848, 22_848, 45_760, 278_528, 2_560, 349_760, 372_608, 1_192],
        ];
        for (row, (b, want)) in rows.iter().zip(table).enumerate() {
            assert_eq!(figures(*b), want, "row {row} of the guide's table");
        }
    }
}
