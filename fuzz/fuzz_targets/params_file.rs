//! `io::load` in `f32` and `f64` on a network with batch norm buffers:
//! the contract of `typenet_fuzz::load_contract`.
#![no_main]

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    let _ = typenet_fuzz::params_case(input);
});
