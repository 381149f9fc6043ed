//! Convolutions, pooling and flattening against PyTorch: outputs, input
//! gradients and parameter gradients on fixed weights and inputs, in `f32`
//! (to 1e-5) and `f64` (to 1e-12), relative to `max(1, |value|)`. The values
//! come from `tools/fixtures/gen_conv.py`.

#[path = "../fixtures/conv.rs"]
mod fixtures;

use typenet::prelude::*;

use crate::parity::both;

#[test]
fn conv2d_matches_pytorch() {
    both!(CONV2D_S1_P1, T => Conv2d<U2, U3, U3, U1, U1, T>, Tensor3<T, U2, U5, U6>);
    both!(CONV2D_S2_P0, T => Conv2d<U2, U2, U3, U2, U0, T>, Tensor3<T, U2, U7, U6>);
    both!(CONV2D_S2_P1, T => Conv2d<U1, U2, U2, U2, U1, T>, Tensor3<T, U1, U5, U5>);
}

#[test]
fn conv1d_matches_pytorch() {
    both!(CONV1D_S1_P1, T => Conv1d<U2, U3, U3, U1, U1, T>, Matrix<T, U2, U7>);
    both!(CONV1D_S2_P1, T => Conv1d<U2, U2, U3, U2, U1, T>, Matrix<T, U2, U8>);
}

#[test]
fn max_pooling_matches_pytorch_ties_included() {
    both!(MAXPOOL_K2, T => MaxPool2d<U2>, Tensor3<T, U2, U5, U6>);
    both!(MAXPOOL_K3_S2, T => MaxPool2d<U3, U2>, Tensor3<T, U1, U7, U7>);
    both!(MAXPOOL_K2_S1, T => MaxPool2d<U2, U1>, Tensor3<T, U1, U4, U5>);
}

#[test]
fn average_pooling_matches_pytorch() {
    both!(AVGPOOL_K2, T => AvgPool2d<U2>, Tensor3<T, U2, U5, U6>);
    both!(AVGPOOL_K3_S2, T => AvgPool2d<U3, U2>, Tensor3<T, U1, U7, U7>);
    both!(GLOBAL_AVG, T => GlobalAvgPool, Tensor3<T, U3, U4, U5>);
}

#[test]
fn a_small_cnn_matches_pytorch_in_state_dict_order() {
    both!(
        SMALL_CNN,
        T => net![Conv2d<U1, U2, U3, U1, U1, T>, Relu, MaxPool2d<U2>, Flatten, Dense<U18, U3, T>],
        Tensor3<T, U1, U6, U6>
    );
}
