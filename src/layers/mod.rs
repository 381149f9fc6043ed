//! The layers, one per file: each file holds a layer's forward and backward
//! passes, its docs and its tests.

pub mod activation;
pub mod dense;
pub mod dropout;
pub mod recurrent;

pub use activation::{
    Elu, Gelu, GeluTanh, Identity, LeakyRelu, LogSoftmax, Relu, Sigmoid, Silu, Softmax, Softplus, Tanh,
};
pub use dense::Dense;
pub use dropout::Dropout;
pub use recurrent::{Gru, LastStep, Lstm, LstmState, Recurrent, Rnn, SequenceCache};
