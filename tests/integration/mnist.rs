//! The MNIST data of the examples: the IDX files in `data/mnist10k/` load,
//! and `stratified_split_exact` draws the very parts that the PyTorch twins'
//! Python draws (`tools/fixtures/gen_mnist_split.py` writes the fixture).

#[path = "../fixtures/mnist_split.rs"]
mod fixtures;

#[cfg(feature = "std")]
use typenet::data::load_idx;
use typenet::data::{SplitMix64, stratified_split_exact};
use typenet::prelude::*;

#[cfg(feature = "std")]
const IMAGES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k/mnist10k-images.idx3-ubyte");
#[cfg(feature = "std")]
const LABELS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist10k/mnist10k-labels.idx1-ubyte");

#[cfg(feature = "std")]
/// FNV-1a over the indices as little-endian `u32`s, as the fixture's.
fn fnv1a(indices: &[usize]) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for &i in indices {
        for b in (i as u32).to_le_bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
    }
    h
}

#[cfg(feature = "std")]
#[test]
fn the_mnist_files_load_as_28x28_images() {
    let data = load_idx::<U28, U28, f32>(IMAGES, LABELS, 10).unwrap();
    assert_eq!(data.len(), 10_000);
    let mut counts = [0usize; 10];
    data.iter().for_each(|s| counts[s.1] += 1);
    assert_eq!(counts, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let pixels = data.iter().flat_map(|s| s.0.as_flat().iter().copied());
    let (lo, hi, sum) =
        pixels.fold((1.0f32, 0.0f32, 0.0f64), |(lo, hi, sum), p| (lo.min(p), hi.max(p), sum + p as f64));
    assert_eq!((lo, hi), (0.0, 1.0));
    let mean = sum / (10_000.0 * 784.0);
    assert!((mean - 0.1307).abs() < 0.005, "MNIST's mean pixel is about 0.1307, here {mean}");
    // Fewer classes than the labels need is an error naming the file.
    let e = load_idx::<U28, U28, f32>(IMAGES, LABELS, 9).unwrap_err();
    assert!(e.to_string().starts_with(LABELS) && e.to_string().contains("not a class from 0 to 8"), "{e}");
}

#[cfg(feature = "std")]
#[test]
fn the_split_is_the_python_twins_split() {
    let labelled = load_idx::<U28, U28, f32>(IMAGES, LABELS, 10).unwrap();
    let mut data: Vec<(usize, usize)> = labelled.iter().enumerate().map(|(i, s)| (i, s.1)).collect();
    let split =
        stratified_split_exact::<_, U10>(&mut data, fixtures::TRAIN, fixtures::VAL, fixtures::SPLIT_SEED).unwrap();
    let parts = [
        (&split.train, fixtures::TRAIN_CLASS_COUNTS, fixtures::TRAIN_FIRST, fixtures::TRAIN_FNV1A),
        (&split.val, fixtures::VAL_CLASS_COUNTS, fixtures::VAL_FIRST, fixtures::VAL_FNV1A),
        (&split.test, fixtures::TEST_CLASS_COUNTS, fixtures::TEST_FIRST, fixtures::TEST_FNV1A),
    ];
    assert_eq!([parts[0].0.len(), parts[1].0.len(), parts[2].0.len()], [8000, 1000, 1000]);
    for (part, class_counts, first, checksum) in parts {
        let indices: Vec<usize> = part.iter().map(|s| s.0).collect();
        let mut counts = [0usize; 10];
        part.iter().for_each(|s| counts[s.1] += 1);
        assert_eq!(counts, class_counts);
        assert_eq!(indices[..16], first);
        assert_eq!(fnv1a(&indices), checksum);
    }
}

#[test]
fn splitmix64_draws_what_python_draws() {
    let mut rng = SplitMix64::new(fixtures::SPLIT_SEED);
    assert_eq!(core::array::from_fn(|_| rng.next_u64()), fixtures::SPLITMIX_FIRST);
}

#[test]
fn a_small_split_matches_python_sample_for_sample() {
    let mut data: Vec<(usize, usize)> = fixtures::SYNTH_LABELS.iter().enumerate().map(|(i, &c)| (i, c)).collect();
    let split = stratified_split_exact::<_, U4>(&mut data, 30, 10, 7).unwrap();
    assert_eq!((split.train.len(), split.val.len()), (30, 10));
    let order: Vec<usize> = data.iter().map(|s| s.0).collect();
    assert_eq!(order, fixtures::SYNTH_ORDER);
}
