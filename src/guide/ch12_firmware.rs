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
//! trainer.step(&mut model, &SoftmaxCrossEntropy, &sample, 1e-3, &mut NoRng).unwrap();
//!
//! // Out to bytes (a file, flash) and back, checked.
//! let mut bytes = [0u8; io::encoded_len::<Mlp, f32>()];
//! io::save(&model, &mut bytes)?;
//! let mut on_device = Mlp::default();
//! io::load(&mut on_device, &bytes)?;
//! assert!(on_device == model);
//! # Ok::<(), io::ParamsError>(())
//! ```
