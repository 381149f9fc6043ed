//! Chapter 12. Running on a microcontroller; parameters in and out.
//!
//! The course ends with a trained model in a Python session. Putting it to
//! work on a small device raises three questions this crate answers by
//! construction.
//!
//! **How much memory?** Every size is a type, so every buffer has a size
//! known when the program compiles, and nothing is allocated: the crate is
//! `#![no_std]` and needs no allocator (build it with
//! `default-features = false`). `size_of` of a model is its parameters and
//! nothing else (on x86-64 hosts each layer is rounded up to a cache line,
//! [`memory::LAYER_ALIGN`](crate::memory::LAYER_ALIGN), for the vector
//! units; on a microcontroller nothing is added); training adds:
//!
//! | what | size | type |
//! | --- | --- | --- |
//! | the model | `COUNT` scalars | the network, e.g. `net![Dense<U64, U32>, Relu, Dense<U32, U10>]` |
//! | the gradients | the same | [`Params::Grads`](crate::Params::Grads) |
//! | the training caches | per sample of a block: every layer's output and a slot for its gradient, and what each layer keeps (the course's `Z[l]`, `A[l]`); the [`Trainer`](crate::train::Trainer) keeps `B` of them, and `B` outputs and their gradients, for blocks of `B` samples (`Trainer<_, _, _, 1>` on a small device) | [`Train::Cache`](crate::Train::Cache) |
//! | the optimiser's state | none for SGD, one copy for momentum, two for Adam | [`Optimizer::State`](crate::optim::Optimizer::State) |
//!
//! All of it is plain data that is valid as zero bytes
//! ([`memory::Zeroable`](crate::memory::Zeroable)), so it can live in a
//! `static` and be built there in place
//! ([`memory::default_in`](crate::memory::default_in),
//! [`Trainer::new_in`](crate::train::Trainer::new_in)), without passing
//! through a small stack.
//!
//! **Where do the weights come from?** From training here, on the host or
//! on the device itself, or from PyTorch: parameters are laid out as
//! PyTorch's `state_dict` of the equivalent `nn.Sequential` (`Dense` weight
//! `[out][in]` then bias; convolution and recurrent weights in PyTorch's
//! order). [`io::save`](crate::io::save) writes them as bytes behind a
//! checked header and the model's architecture, [`io::load`](crate::io::load)
//! checks everything (magic, version, scalar type, each tensor's role and
//! shape, count, CRC-32, finite values) before it writes a
//! single parameter, and [`io::encoded_len`](crate::io::encoded_len) is the
//! exact size as a constant, so `include_bytes!` of a file of the wrong
//! size does not compile. `tools/interop/export_torch.py` and
//! `tools/interop/import_torch.py` are the PyTorch side (see
//! `docs/interop.md`).
//!
//! **Will it train there?** The same [`Trainer`](crate::train::Trainer)
//! runs: samples come in, [`Trainer::step`](crate::train::Trainer::step)
//! takes a step per batch, a step whose cost, gradient or update is not
//! finite is refused with an error and leaves the parameters and the
//! optimiser's state as they were, and a seeded generator
//! makes the run repeatable. Recurrent layers read a sensor one sample at a
//! time ([`Recurrent::step`](crate::layers::Recurrent::step)).
//!
//! **Will it fit?** Every figure above is a constant:
//! [`Trainer::BUDGET`](crate::train::Trainer::BUDGET) adds them up for a
//! model, an optimiser and a block size ([`Budget`](crate::train::Budget):
//! model, gradients, optimiser state, caches, outputs, the whole trainer,
//! and the stack one forward pass keeps), and
//! [`Budget::assert_fits`](crate::train::Budget::assert_fits) in a `const`
//! item turns a configuration that does not fit the target into a build
//! error that gives the figures in decimal and the excess, instead of a
//! crash on the device. The example models, trained with Adam (bytes, on
//! x86-64, where each layer is rounded up to 64 bytes; pinned by
//! `tests/integration/budget.rs`):
//!
//! | model | block `B` | model | gradients | Adam's state | caches | outputs and their gradients | trainer | RAM (model + trainer) | forward stack |
//! | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
//! | XOR 2-4-1 | 32 | 128 | 128 | 320 | 2,944 | 256 | 3,712 | 3,840 | 40 |
//! | digits MLP 64-64-10 | 32 | 19,264 | 19,264 | 38,592 | 32,768 | 2,560 | 93,248 | 112,512 | 552 |
//! | digits MLP 64-64-10 | 8 | 19,264 | 19,264 | 38,592 | 8,192 | 640 | 66,752 | 86,016 | 552 |
//! | digits MLP, first layer [`Frozen`](crate::layers::Frozen) | 8 | 2,688 | 2,624 | 5,312 | 8,192 | 640 | 16,832 | 19,520 | 552 |
//! | digits MLP, biases only ([`BiasOnly`](crate::layers::BiasOnly)) | 8 | 312 | 296 | 596 | 8,192 | 640 | 9,784 | 10,096 | 552 |
//! | digits CNN | 32 | 7,616 | 7,616 | 15,296 | 344,064 | 2,560 | 369,600 | 377,216 | 5,416 |
//! | LeNet-5, 28×28 | 32 | 246,976 | 246,976 | 494,016 | 3,837,952 | 2,560 | 4,581,568 | 4,828,544 | 58,336 |
//! | LeNet-5, 28×28 | 8 | 246,976 | 246,976 | 494,016 | 959,488 | 640 | 1,701,184 | 1,948,160 | 58,336 |
//! | LeNet-5, convolutions frozen | 32 | 236,736 | 236,672 | 473,408 | 206,848 | 2,560 | 919,552 | 1,156,288 | 58,336 |
//! | DS-CNN (MLPerf Tiny style), 28×28 | 32 | 65,280 | 65,280 | 130,624 | 27,885,568 | 2,560 | 28,084,096 | 28,149,376 | 225,792 |
//! | ResNet-8, 28×28 | 32 | 315,648 | 315,648 | 631,360 | 49,518,592 | 2,560 | 50,468,224 | 50,783,872 | 401,408 |
//! | digits LSTM (8 rows of 8, 32 units) | 32 | 22,848 | 22,848 | 45,760 | 278,528 | 2,560 | 349,760 | 372,608 | 1,192 |
//!
//! The caches (every layer's output and its gradient for each sample of a
//! block) dominate convolutional networks: a smaller block shrinks them in
//! proportion and changes nothing else, and on a microcontroller
//! (`LAYER_ALIGN` 1, 4-byte references) the figures are those of the
//! parameters alone. The stack column is an upper bound on the values one
//! forward pass keeps alive ([`Layer::FORWARD_STACK`](crate::Layer::FORWARD_STACK));
//! the firmware's painted stack is the measure.
//!
//! **Weights in flash.** [`embedded!`](crate::embedded) builds a model from
//! a parameter file at compile time: `static NET: Net =
//! typenet::embedded!(Net, "net.tnet");` checks the file as
//! [`io::load`](crate::io::load) does (a file for another architecture is a
//! build error naming the tensor and both shapes) and leaves the parameters
//! in flash, read where they are, with no copy into RAM.
//!
//! **Fine-tuning on the device.** A model trained on the host meets other
//! data on the device (another sensor, another user's handwriting). What
//! fits a microcontroller is retraining its last layers while the rest stays
//! as it was ([TinyOL, TinyTL, MCUNetV3's "on-device training under
//! 256 KB"](https://arxiv.org/abs/2206.15472)): put the frozen part in a
//! [`Frozen`](crate::layers::Frozen) borrow (of a `static` in flash) in
//! front of the trained part. It has no gradients, no optimiser state and
//! no cache, and the chain runs no backward for it; the table above shows
//! the digits MLP's training RAM falling from 86,016 to 19,520 bytes.
//! TinyTL's bias-only update is [`BiasOnly`](crate::layers::BiasOnly): a
//! `Dense` whose weights stay borrowed (in flash) and whose bias trains,
//! with gradients and optimiser state the size of the biases (10,096
//! bytes for the same MLP, most of it the caches).
//! `examples/firmware-cortex-m` does this in QEMU (its `finetune` binary)
//! and `examples/mnist_finetune.rs` on the host. Two costs remain: the
//! frozen part's output and an unused slot for its gradient, per sample of
//! a block (so a frozen part that ends with its activation, such as
//! `Frozen<net![Dense<U64, U64>, Relu]>`, keeps one link fewer than a
//! `Relu` after the `Frozen`).
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::train::Limits;
//!
//! type Mlp = net![Dense<U4, U8>, Tanh, Dense<U8, U3>];
//! // The host-trained model, in flash.
//! static MLP: Mlp =
//!     typenet::embedded!(Mlp, concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/torch_mlp_f32.tnet"));
//!
//! // Retrain the last layer only: the first stays in flash, borrowed.
//! type Tuned = (Frozen<'static, Dense<U4, U8>>, (Tanh, (Dense<U8, U3>,)));
//! type Training = Trainer<Tuned, Vector<f32, U4>, Adam, 4>;
//! const _: () = Training::BUDGET.assert_fits(Limits { ram: 2 * 1024, stack: 256 });
//!
//! let mut model: Tuned = layers![Frozen(&MLP.0), Tanh, MLP.1.1.0.clone()];
//! let data = [(vector([0.5, -1.0, 0.25, 2.0]), 2usize), (vector([-0.5, 1.0, 0.0, 0.0]), 0)];
//! let mut trainer = Training::with_block(Adam::new(0.05), Config { batch_size: 2, ..Config::default() });
//! trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut Xoshiro256PlusPlus::seed_from_u64(1)).epochs(30).run()?;
//! assert_eq!(evaluate(&model, &SoftmaxCrossEntropy, &data).unwrap().accuracy, Some(1.0));
//! # Ok::<(), typenet::train::TrainError>(())
//! ```
//!
//! # Example: sizes, a trainer in place, and the weights out and back in
//!
//! ```
//! use core::mem::MaybeUninit;
//! use typenet::io;
//! use typenet::prelude::*;
//!
//! type Mlp = net![Dense<U64, U32>, Relu, Dense<U32, U10>];
//! type Input = Vector<f32, U64>;
//! const COUNT: usize = <Mlp as Params<f32>>::COUNT;
//! assert_eq!(COUNT, (64 * 32 + 32) + (32 * 10 + 10));
//! // The parameters and nothing else, each layer rounded up to LAYER_ALIGN bytes.
//! let padded = |bytes: usize| bytes.next_multiple_of(typenet::memory::LAYER_ALIGN);
//! assert_eq!(size_of::<Mlp>(), padded((64 * 32 + 32) * 4) + padded((32 * 10 + 10) * 4));
//! assert_eq!(size_of::<<Mlp as Params<f32>>::Grads>(), size_of::<Mlp>());
//! // The cache: the outputs Z1 and A1, kept by the chain between the layers, and a slot
//! // for the gradient of each, which the backward pass fills. Relu keeps nothing more (its
//! // derivative needs only its input, Z1); sigmoid and tanh keep their output.
//! assert_eq!(size_of::<<Mlp as Train<Input>>::Cache>(), 2 * 2 * 32 * 4);
//!
//! // A trainer with Adam, built in place (here on the stack; in firmware, a `static`).
//! let mut slot = MaybeUninit::uninit();
//! let trainer: &mut Trainer<Mlp, Input, Adam> = Trainer::new_in(&mut slot, Adam::new(1e-3), Config::default());
//! assert!(size_of::<Trainer<Mlp, Input, Adam>>() >= 3 * COUNT * 4); // gradients and two moments
//!
//! let mut model = Mlp::default();
//! model.init_with(HeUniform, &mut Xoshiro256PlusPlus::seed_from_u64(1));
//! let sample = [(Input::default(), 3usize)];
//! trainer.step(&mut model, &SoftmaxCrossEntropy, &sample, &mut NoRng).unwrap();
//!
//! // Out to bytes (a file, flash) and back, checked.
//! let mut bytes = [0u8; io::encoded_len::<Mlp, f32>()];
//! io::save(&model, &mut bytes)?;
//! let mut on_device = Mlp::default();
//! io::load(&mut on_device, &bytes)?;
//! assert!(on_device == model);
//! # Ok::<(), io::ParamsError>(())
//! ```
