//! Chapter 13. Normalisation and residual networks; the layers small devices ship.
//!
//! Chapter 6 chose the initial weights so that signals keep their scale
//! through the layers. Training moves the weights, and with them the scale
//! of every layer's inputs: each layer chases a distribution its
//! predecessors keep changing, and a deep network trains slowly or not at
//! all. Two ideas fixed that and are in nearly every network deployed
//! today, down to keyword spotters on microcontrollers (the MLPerf Tiny
//! models: a depthwise-separable CNN, a ResNet, a MobileNet).
//!
//! **Batch normalisation** standardises each channel over the mini-batch
//! and then lets the network choose the scale and shift it wants:
//!
//! ```text
//! μ_c = mean of x[·][c][·][·] over the batch and the positions      σ²_c = their (biased) variance
//! x̂ = (x − μ_c) / √(σ²_c + ε)          y = γ_c · x̂ + β_c
//! ```
//!
//! [`BatchNorm2d<C>`](crate::layers::BatchNorm2d) does this over the
//! channels of `[C][H][W]` images, [`BatchNorm1d<C>`](crate::layers::BatchNorm1d)
//! over the features of a vector or the channels of a `[C][L]` sequence.
//! `γ` and `β` are the parameters `weight` and `bias`. The statistics of a
//! mini-batch exist only in training; for inference the layer keeps running
//! averages (`running_mean`, `running_var`, with momentum 0.1 and the
//! unbiased variance, exactly as PyTorch), buffers that are saved with the
//! parameters but not trained. Which statistics are used is the method
//! called: [`Layer::forward`](crate::Layer::forward) is evaluation mode,
//! the training passes of [`Train`](crate::Train) are training mode (see
//! [`layer`](crate::layer)).
//!
//! Because a sample's output depends on the other samples of its batch, a
//! batch-norm network is trained one mini-batch per block
//! ([`Train::COUPLES_SAMPLES`](crate::Train::COUPLES_SAMPLES)): the
//! [`Trainer`](crate::train::Trainer) refuses a batch larger than its
//! block `B` or a batch of one sample, whose variance says nothing (set
//! [`Config::drop_last`](crate::train::Config::drop_last) when the data
//! leaves one over), with a [`TrainError`](crate::train::TrainError)
//! before any step. The backward pass goes through the statistics too:
//!
//! ```text
//! dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy ⊙ x̂))     (means over the batch and positions, per channel)
//! ```
//!
//! For deployment the running statistics are constants, so a batch norm
//! after a convolution or a dense layer is an affine map per output
//! channel and folds into that layer's weights:
//! [`BatchNorm::fold`](crate::layers::BatchNorm::fold) returns the layer
//! that computes both, or a [`FoldError`](crate::layers::batch_norm::FoldError)
//! for statistics that are not finite.
//!
//! [`LayerNorm`](crate::layers::LayerNorm) standardises each sample over
//! its own features instead, so it needs no batch and behaves the same in
//! both modes; it is the normalisation of transformers and recurrent
//! networks.
//!
//! **Residual connections** let a block learn a correction to its input
//! instead of a whole new representation: `y = x + body(x)`. The gradient
//! then reaches the input along the identity, undiminished, however deep
//! the body, which is what let networks grow past twenty layers.
//! [`Residual<Body>`](crate::layers::Residual) takes any chain as its body,
//! and the compiler checks that the body gives back the type it takes; a
//! block that changes the shape (stride 2, more channels) adds a shortcut
//! layer instead, `y = shortcut(x) + body(x)`:
//! [`Projected<Body, Shortcut>`](crate::layers::Projected), typically with
//! a strided 1×1 convolution as the shortcut.
//!
//! **Depthwise-separable convolutions** split a `K × K` convolution from
//! `CI` to `CO` channels into a depthwise one, a `K × K` kernel per channel
//! ([`DepthwiseConv2d`](crate::layers::DepthwiseConv2d), PyTorch's
//! `groups = channels`), and a pointwise one, a 1×1
//! [`Conv2d`](crate::layers::Conv2d) that mixes the channels: `K²·CI +
//! CI·CO` weights instead of `K²·CI·CO`, about eight times fewer for 3×3
//! kernels. The hard activations
//! ([`Relu6`](crate::layers::Relu6), [`HardSigmoid`](crate::layers::HardSigmoid),
//! [`HardSwish`](crate::layers::HardSwish)) are MobileNet's piecewise-linear
//! stand-ins for the sigmoid and swish, cheap in integers.
//!
//! On MNIST (10,000 real digits, 8,000 / 1,000 / 1,000, Adam): the
//! `mnist_cnn`, `mnist_dscnn` and `mnist_resnet` examples; their figures,
//! beside PyTorch's with the same architecture, split, optimiser and
//! epochs, are in the README.
//!
//! # Example: a residual network with batch norm, trained, folded
//!
//! ```
//! use typenet::prelude::*;
//!
//! // Two noisy rings: class 0 inside radius 1, class 1 outside.
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
//! let data: Vec<(Vector<f32, U2>, usize)> = (0..256)
//!     .map(|i| {
//!         let (radius, angle) = (if i % 2 == 0 { 0.5 } else { 1.5 } + rng.random::<f32>() * 0.4, i as f32);
//!         (vector([radius * angle.cos(), radius * angle.sin()]), i % 2)
//!     })
//!     .collect();
//!
//! type Block = Residual<net![Dense<U16, U16>, BatchNorm1d<U16>, Relu, Dense<U16, U16>]>;
//! type Net = net![Dense<U2, U16>, BatchNorm1d<U16>, Relu, Block, Relu, Dense<U16, U2>];
//! let mut net = Net::default();
//! net.init(&mut rng);
//! let mut trainer = Trainer::boxed(Adam::new(0.01), Config { batch_size: 32, ..Config::default() });
//! trainer.fit(&mut net, &SoftmaxCrossEntropy, &data, &mut rng).epochs(20).run().unwrap();
//! assert!(evaluate(&net, &SoftmaxCrossEntropy, &data).unwrap().accuracy > Some(0.95));
//!
//! // The running statistics moved away from their start (mean 0, variance 1).
//! let norm = net.layer::<U1>();
//! assert_eq!(norm.num_batches_tracked, 20.0 * 8.0);
//! assert!(norm.running_var.iter().any(|&v| (v - 1.0).abs() > 0.1));
//!
//! // For deployment, the first batch norm folds into the dense layer before it.
//! let folded = norm.fold(net.layer::<U0>().clone()).unwrap();
//! let x = data[3].0;
//! let (unfolded, refolded) = (norm.forward(&net.layer::<U0>().forward(&x)), folded.forward(&x));
//! assert!(unfolded.iter().zip(&refolded).all(|(a, b)| (a - b).abs() < 1e-4));
//!
//! // A batch of one sample is refused before any step: its variance says nothing.
//! let error = trainer.step(&mut net, &SoftmaxCrossEntropy, &data[..1], &mut rng).unwrap_err();
//! assert_eq!(error, TrainError::SingleSampleBatch { at: typenet::train::Position::Step });
//! ```
