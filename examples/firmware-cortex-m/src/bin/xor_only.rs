//! The XOR trainer alone: trains XOR on the device with the library's
//! `Trainer` and Adam (the `firmware` binary's run: 2,000 epochs, batches
//! of 4, blocks of one sample) and ends QEMU with a success status if all
//! four samples come out right, a failure status otherwise. It prints
//! nothing and formats nothing (no `core::fmt`), so its `.text` is what a
//! firmware that trains costs: `run.sh` reports it as
//! `xor_only: text_bytes=... xor_correct=4/4`.

#![no_std]
#![no_main]

use panic_halt as _;

use firmware_cortex_m::{XOR_EPOCHS, entry, exit, xor_correct, xor_start, xor_table};

#[entry]
fn main() -> ! {
    let table = xor_table();
    let (mut model, mut rng, mut trainer) = xor_start();
    let trained = trainer.fit(&mut model, &typenet::loss::Bce, &table, &mut rng).epochs(XOR_EPOCHS).run().is_ok();
    exit(trained && xor_correct(&model, &table) == table.len())
}
