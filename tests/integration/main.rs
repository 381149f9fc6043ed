//! The integration tests, one module per area, in one crate: one test binary
//! to compile and link instead of one per file. A new area is a file here and
//! a `mod` line below. The compile-fail cases stay in `tests/ui.rs`.

mod blocks;
mod budget;
mod chain;
mod cnn;
mod conv;
mod custom_layer;
mod data;
mod depthwise;
mod early_stopping;
mod finetune;
mod fuzz;
mod hyper;
mod in_place;
mod int8;
mod int8_models;
mod io;
mod memory;
mod metrics;
mod mnist;
mod models;
mod monitor;
mod nan;
mod norm;
mod optim;
mod parity;
mod recurrent;
mod recurrent_cells;
mod refusals;
#[cfg(feature = "safetensors")]
mod safetensors;
mod stack;
mod train;
