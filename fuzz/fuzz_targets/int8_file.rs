//! `quant::file::load` into a small int8 network, then one inference: the
//! contract of `typenet_fuzz::int8_contract`.
#![no_main]

use std::sync::OnceLock;

use typenet_fuzz::Int8Net;

static START: OnceLock<Int8Net> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    let _ = typenet_fuzz::int8_case(START.get_or_init(typenet_fuzz::int8_start), input);
});
