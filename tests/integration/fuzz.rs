//! The fuzz targets' contracts (`fuzz/src/lib.rs`, included here) as
//! property tests with a modest number of cases, so `cargo test` holds the
//! loaders to them too: `io::load` in `f32` and `f64` on a network with
//! batch norm buffers, `data::read_csv` in `f32` and `f64`, and
//! `quant::file::load` into a small int8 network. `.ci/run` runs the same
//! contracts under cargo-fuzz for a fixed time.
#![cfg(feature = "std")]

#[path = "../../fuzz/src/lib.rs"]
mod contracts;

use std::sync::OnceLock;

use contracts::{Int8Net, Mode};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;
use typenet::io::ParamsError;

/// A fuzz input for a file loader: a mode byte, then bytes that are mostly
/// zero (in an overlay: the valid file, with a few bytes changed), or
/// arbitrary bytes.
fn loader_input() -> impl Strategy<Value = Vec<u8>> {
    let sparse = (0usize..400, proptest::collection::vec((any::<prop::sample::Index>(), 1u8..), 0..4)).prop_map(
        |(len, flips)| {
            let mut rest = vec![0u8; len];
            for (at, mask) in flips.iter().filter(|_| len > 0) {
                rest[at.index(len)] ^= mask;
            }
            rest
        },
    );
    let rest = prop_oneof![3 => sparse, 1 => proptest::collection::vec(any::<u8>(), 0..400)];
    (any::<u8>(), rest).prop_map(|(mode, rest)| [&[mode][..], &rest].concat())
}

/// A CSV number: as files write them, beyond either scalar's range, and
/// the texts of non-finite values.
fn csv_number() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<f64>().prop_map(|v| format!("{v}")),
        any::<f64>().prop_map(|v| format!("{v:e}")),
        (-50i32..50, -400i32..400).prop_map(|(m, e)| format!("{m}e{e}")),
        proptest::sample::select(vec![
            "inf", "-inf", "NaN", "infinity", "1e39", "-3.5e38", "1e-46", "0x10", "+1", " 2 "
        ])
        .prop_map(String::from),
    ]
    .prop_map(String::into_bytes)
}

/// A damaged CSV field: empty, quoted, spaced, not UTF-8, or any bytes.
fn csv_damage() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::sample::select(vec![&b""[..], b"\"1\"", b"\"", b"a,b", b"\xff", b"\0", b"1\r\n2", b"-1", b"3"])
            .prop_map(|b| b.to_vec()),
        proptest::collection::vec(any::<u8>(), 0..6),
    ]
}

/// CSV text: a header, then rows of a label (mostly a class) and three
/// features (mostly numbers), now and then damaged or of another length.
fn csv_text() -> impl Strategy<Value = Vec<u8>> {
    let label = prop_oneof![6 => (0..contracts::CLASSES).prop_map(|c| c.to_string().into_bytes()), 1 => csv_damage()];
    let feature = prop_oneof![6 => csv_number(), 1 => csv_damage()];
    let row = prop_oneof![
        9 => (label, proptest::collection::vec(feature.clone(), 3)).prop_map(|(l, f)| [vec![l], f].concat()),
        1 => proptest::collection::vec(feature, 0..7),
    ];
    proptest::collection::vec(row, 0..5).prop_map(|rows| {
        let mut text = b"label,a,b,c\n".to_vec();
        for row in rows {
            text.extend(row.join(&b","[..]));
            text.push(b'\n');
        }
        text
    })
}

fn int8_start() -> &'static Int8Net {
    static START: OnceLock<Int8Net> = OnceLock::new();
    START.get_or_init(contracts::int8_start)
}

proptest! {
    // Seeded: the same cases every run, so a failure is the code's, not the draw's.
    #![proptest_config(ProptestConfig { cases: 512, rng_seed: RngSeed::Fixed(20), ..ProptestConfig::default() })]

    #[test]
    fn parameter_files_keep_the_load_contract(input in loader_input()) {
        let _ = contracts::params_case(&input);
    }

    #[test]
    fn csv_text_keeps_the_read_contract(text in csv_text()) {
        let _ = contracts::csv_case(&text);
    }

    #[test]
    fn int8_files_keep_the_load_contract(input in loader_input()) {
        let _ = contracts::int8_case(int8_start(), &input);
    }
}

/// The modes reach every outcome: a valid file loads (an overlay of
/// zeros), a changed value under a repaired checksum loads, and damage is
/// refused. (Offsets come from the public API, so these hold for any
/// format version.)
#[test]
fn the_modes_reach_past_the_checksum() {
    let overlay = |mode: u8, rest: &[u8]| [&[Mode::OVERLAY | mode][..], rest].concat();
    assert_eq!(contracts::params_case(&overlay(0, &[])), [Ok(()), Ok(())]);
    // The low bit of the last byte of the `f32` file: a value's exponent or
    // mantissa bit in both files, which keeps the seeded values finite.
    let mut changed = vec![0u8; typenet::io::encoded_len::<contracts::Net<f32>, f32>()];
    *changed.last_mut().unwrap() = 0x01;
    assert_eq!(contracts::params_case(&overlay(Mode::REPAIR, &changed)), [Ok(()), Ok(())]);
    assert!(matches!(contracts::params_case(&overlay(0, &changed))[0], Err(ParamsError::ChecksumMismatch { .. })));
    assert!(contracts::params_case(&overlay(Mode::CUT, &[0; 20]))[1].is_err());
    assert!(matches!(contracts::params_case(b"\0PK\x03\x04")[0], Err(ParamsError::WrongMagic { .. })));

    let start = int8_start();
    assert_eq!(contracts::int8_case(start, &overlay(0, &[])), Ok(()));
    let mut changed = vec![0u8; typenet::quant::file::encoded_len::<Int8Net>()];
    *changed.last_mut().unwrap() = 0x01;
    assert!(matches!(contracts::int8_case(start, &overlay(0, &changed)), Err(ParamsError::ChecksumMismatch { .. })));
    assert_eq!(contracts::csv_case(b"label,a,b,c\n2,1,-0.5,3e-7\n"), [Ok(1), Ok(1)]);
}
