//! `data::read_csv` in `f32` and `f64` on any text: the contract of
//! `typenet_fuzz::csv_contract`.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &[u8]| {
    let _ = typenet_fuzz::csv_case(text);
});
