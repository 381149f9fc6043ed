//! The example models' types, as `examples/` declares them, for the tests
//! that check those models (int8 against TFLite, budgets, the stack).

use typenet::prelude::*;

/// examples/xor.rs.
pub type Xor = net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>, Sigmoid];

/// examples/digits_mlp.rs.
pub type Mlp = net![Dense<U64, U64>, Relu, Dense<U64, U10>];

/// examples/digits_cnn.rs.
pub type Cnn = net![
    Conv2d<U1, U8, U3, U1, U1>,
    Relu,
    MaxPool2d<U2>,
    Conv2d<U8, U16, U3>,
    Relu,
    Flatten,
    Dense<U64, U10>
];

/// examples/mnist_cnn.rs and mnist_finetune.rs: LeNet-5's convolutional
/// body, 1×28×28 → 400.
pub type LeNetBody = net![
    Conv2d<U1, U6, U5, U1, U2>,
    Relu,
    MaxPool2d<U2>,
    Conv2d<U6, U16, U5>,
    Relu,
    MaxPool2d<U2>,
    Flatten
];
/// LeNet-5's dense head, 400 → 10.
pub type LeNetHead = net![Dense<U400, U120>, Relu, Dense<U120, U84>, Relu, Dense<U84, U10>];
/// LeNet-5, as mnist_finetune.rs nests it.
pub type LeNet5 = (LeNetBody, LeNetHead);

/// examples/mnist_dscnn.rs.
pub type Separable<CI, CO, S> = net![
    DepthwiseConv2d<CI, U3, S, U1>,
    BatchNorm2d<CI>,
    Relu,
    Pointwise<CI, CO>,
    BatchNorm2d<CO>,
    Relu
];

pub type DsCnn = net![
    Conv2d<U1, U32, U3, U2, U1>,
    BatchNorm2d<U32>,
    Relu,
    Separable<U32, U32, U1>,
    Separable<U32, U64, U2>,
    Separable<U64, U64, U1>,
    Separable<U64, U64, U1>,
    GlobalAvgPool,
    Dense<U64, U10>
];

/// examples/mnist_resnet.rs.
pub type Body<CI, CO, S> = net![
    Conv2d<CI, CO, U3, S, U1>,
    BatchNorm2d<CO>,
    Relu,
    Conv2d<CO, CO, U3, U1, U1>,
    BatchNorm2d<CO>
];

pub type Shortcut<CI, CO> = net![Pointwise<CI, CO, U2>, BatchNorm2d<CO>];

/// The example model with the largest trainer.
pub type ResNet8 = net![
    Conv2d<U1, U16, U3, U1, U1>,
    BatchNorm2d<U16>,
    Relu,
    Residual<Body<U16, U16, U1>>,
    Relu,
    Projected<Body<U16, U32, U2>, Shortcut<U16, U32>>,
    Relu,
    Projected<Body<U32, U64, U2>, Shortcut<U32, U64>>,
    Relu,
    GlobalAvgPool,
    Dense<U64, U10>
];

/// examples/digits_rnn.rs's LSTM.
pub type LstmNet = net![Lstm<U8, U32>, LastStep, Dense<U32, U10>];

pub type Digit = Vector<f32, U64>;
pub type DigitImage = Tensor3<f32, U1, U8, U8>;
pub type MnistImage = Tensor3<f32, U1, U28, U28>;
