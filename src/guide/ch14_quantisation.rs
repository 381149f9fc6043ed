//! Chapter 14. Quantisation: the same network in int8, integer-only.
//!
//! What firmware ships is int8. Weights and activations as 8-bit integers
//! take a quarter of the flash and RAM of `f32`, and a core with no FPU
//! (Cortex-M0, most RISC-V microcontrollers) multiplies integers one to two
//! orders of magnitude faster than it emulates floats. The arithmetic here
//! is TFLite's int8 specification, so a network converted by typenet gives
//! the outputs TFLite's reference kernels give, bit for bit, and a model
//! converted by TFLite runs on typenet.
//!
//! # Scales and zero points
//!
//! An int8 tensor stands for real numbers through an affine map,
//!
//! ```text
//! real = s · (q − z)        q ∈ [−128, 127],   s > 0 the scale,   z the zero point
//! ```
//!
//! chosen per tensor from the range `[min, max]` it takes on typical inputs
//! (the *calibration* samples). The range is widened to include 0, spread
//! over the 256 levels (`s = (max − min) / 255`), and `z` is rounded to an
//! integer so that real zero is exactly a level: zero padding and ReLU's
//! floor stay exact. Weights are *symmetric* (`z = 0`), with one scale per
//! output channel, `s_w = max |w| / 127`. [`QParams::from_range`](crate::quant::QParams::from_range)
//! is TFLite's choice, to the bit.
//!
//! # The integer layer
//!
//! A dense layer `y = W·x + b` with `x = s_x (q_x − z_x)`, `W = s_w q_W`,
//! `y = s_y (q_y − z_y)` becomes
//!
//! ```text
//! q_y = z_y + (s_x s_w / s_y) · (Σ q_W · (q_x − z_x) + q_b)       q_b = round(b / (s_x s_w)), an int32
//! ```
//!
//! The sum is exact in `i32`. The one real number left, `M = s_x s_w / s_y`,
//! is a constant of the layer, stored as a 31-bit integer and a shift,
//! `M = m · 2^(shift − 31)` with `m ∈ [2³⁰, 2³¹)`
//! ([`Requantize`](crate::quant::Requantize)), and applied with a rounding
//! doubling multiply and a rounding shift: no float on the device. A fused
//! ReLU is a clamp of `q_y` at `z_y`; ReLU6 also at `z_y + round(6 / s_y)`.
//!
//! A worked example, the one [`Requantize`](crate::quant::Requantize)'s
//! tests also check: an accumulator of 1,000 at `s_x s_w = 0.0006` into an
//! output of scale `0.002` is `1000 · 0.3 = 300` levels.
//!
//! ```
//! use typenet::quant::{Clamp, QParams, Requantize};
//!
//! let m = Requantize::from_real(0.0006 / 0.002);
//! assert_eq!((m.multiplier, m.shift), (1_288_490_189, -1)); // 0.6 · 2³¹, then 2⁻¹
//! assert_eq!(m.apply(1000), 300);
//!
//! // The output's zero point and a fused ReLU: real zero is level −128 here.
//! let y = QParams { scale: 0.002, zero_point: -128 };
//! let relu = Clamp::of(typenet::quant::Activation::Relu, y);
//! assert_eq!(relu.apply(m.apply(1000) + y.zero_point), 127); // 300 − 128 = 172 saturates at 127
//! assert_eq!(relu.apply(m.apply(-1000) + y.zero_point), -128); // negative: ReLU's floor
//! ```
//!
//! # Converting a trained network
//!
//! [`quant::calibrate`](crate::quant::calibrate) runs the `f32` network on
//! calibration samples and records every layer's output range;
//! [`quant::quantize`](crate::quant::quantize) converts it. The int8 type
//! is computed from the `f32` type: a batch norm after a convolution folds
//! into its weights, a ReLU or ReLU6 into its output clamp, dropout
//! disappears, and a residual block becomes an int8 `ADD` with its own
//! scales. So its size is a constant ([`QuantizedOf`](crate::quant::QuantizedOf)),
//! and a layer with no int8 form does not compile.
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::quant::{self, QuantizedOf};
//!
//! type Net = net![
//!     Conv2d<U1, U4, U3, U1, U1>, BatchNorm2d<U4>, Relu, MaxPool2d<U2>,
//!     Flatten, Dense<U16, U3>
//! ];
//! type Int8Net = QuantizedOf<Net, Tensor3<f32, U1, U4, U4>>;
//! // Conv + batch norm + ReLU became one int8 convolution.
//! typenum::assert_type_eq!(Int8Net, quant::Quantized<net![quant::Conv2d<U1, U4, U3, U1, U1>, quant::MaxPool2d<U2>, quant::Flatten, quant::Dense<U16, U3>]>);
//!
//! let mut net = Net::default();
//! net.init(&mut Xoshiro256PlusPlus::seed_from_u64(3));
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
//! let images: Vec<Tensor3<f32, U1, U4, U4>> = (0..50)
//!     .map(|_| Tensor3::from_array([matrix([[0.0; 4]; 4].map(|r| r.map(|_: f32| rng.random_range(0.0..1.0))))]))
//!     .collect();
//!
//! let int8: Int8Net = quant::quantize(&net, &quant::calibrate(&net, &images))?;
//! let agree = images.iter().filter(|x| {
//!     let f = net.forward(x);
//!     int8.classify(*x) == (0..3).max_by(|&a, &b| f[a].total_cmp(&f[b])).unwrap()
//! });
//! assert!(agree.count() >= 45);
//! # Ok::<(), quant::QuantError>(())
//! ```
//!
//! A layer that cannot fold where it stands is a compile error too: a
//! batch norm after a pooling layer has no weights to fold into.
//!
//! ```compile_fail
//! use typenet::prelude::*;
//! use typenet::quant;
//! type Net = net![Conv2d<U1, U4, U3>, MaxPool2d<U2>, BatchNorm2d<U4>, Flatten, Dense<U16, U2>];
//! let net = Net::default();
//! let x = Tensor3::<f32, U1, U6, U6>::default();
//! let _ = quant::quantize(&net, &quant::calibrate(&net, [&x]));
//! ```
//!
//! Its twin, with the batch norm before the pooling, converts:
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::quant;
//! type Net = net![Conv2d<U1, U4, U3>, BatchNorm2d<U4>, MaxPool2d<U2>, Flatten, Dense<U16, U2>];
//! let net = Net::default();
//! let mut x = Tensor3::<f32, U1, U6, U6>::default();
//! x[0][1][2] = 1.0;
//! let calibration = quant::calibrate(&net, [&x]);
//! // The untrained network outputs zeros: a dead layer, refused by name.
//! assert!(matches!(quant::quantize(&net, &calibration), Err(quant::QuantError::ConstantActivation { layer: 0, .. })));
//! ```
//!
//! # Deploying
//!
//! [`quant::file`](crate::quant::file) saves the int8 network behind the
//! crate's checked header, with a signature of its architecture; firmware
//! embeds the file with `include_bytes!`, sized by
//! [`file::encoded_len`](crate::quant::file::encoded_len), and loads it
//! into the int8 network's type. The examples end by converting what they
//! trained: the digits MLP keeps its test accuracy (0.9806 in `f32` and in
//! int8) in a 5,474-byte file, against 19,316 bytes of `f32` parameters.
