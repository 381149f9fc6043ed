//! Feature scaling as layers, so a fitted scaling is saved and loaded with
//! the model: [`Standardize`] on the input side, `(x − mean) · scale`,
//! and [`Unstandardize`] on the output side, its inverse `y / scale + mean`.
//!
//! Both hold their statistics as buffers, not parameters: the optimisers
//! do not train them, [`Params::visit_state`] walks them, and a parameter
//! file ([`crate::io`]) holds them in their place in the network, named
//! `mean` and `scale` in its architecture signature. Their values come
//! from a [`Scaler`] fitted on the training part.
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::data::Scaler;
//!
//! // Raw features in, predictions in the target's units out.
//! type Net = net![Standardize<Vector<f32, U2>>, Dense<U2, U1>, Unstandardize<Vector<f32, U1>>];
//! let train = [(vector([1000.0, 1.0]), vector([10.0])), (vector([3000.0, 3.0]), vector([30.0]))];
//! let inputs = Scaler::standardize(&train);
//! let targets = Scaler::standardize_targets(&train);
//!
//! let mut net = Net::default();
//! net.0 = inputs.layer();
//! net.1.1.0 = targets.inverse_layer();
//! net.1.0.weight = matrix([[0.5, 0.5]]); // a trained network on scaled data, say
//! // 3000 and 3 are one standard deviation above the mean: 0.5 + 0.5 = 1, so 20 + 1 · 10.
//! assert!((net.forward(&vector([3000.0, 3.0]))[0] - 30.0).abs() < 1e-5);
//!
//! // The statistics travel with the parameters.
//! let mut bytes = vec![0; typenet::io::encoded_len::<Net, f32>()];
//! typenet::io::save(&net, &mut bytes).unwrap();
//! let mut loaded = Net::default();
//! typenet::io::load(&mut loaded, &bytes).unwrap();
//! assert_eq!(loaded, net);
//! ```
//!
//! # Int8
//!
//! Neither layer has an int8 form: quantising a network that starts with
//! one does not compile ("has no int8 form"). Folding the scaling into the
//! first `Dense` would leave raw features of very different ranges
//! (weights in thousands, flags of 0 or 1) to share one int8 input scale;
//! quantise the network after the `Standardize` instead, and scale the
//! input on the device with the [`Scaler`].
//!
//! [`Scaler`]: crate::data::Scaler

use rand::Rng;

use crate::data::Scaler;
use crate::init::{Initialize, Scheme};
use crate::io::embed::{Cursor, FromEmbedded, check_tensor};
use crate::layer::{Layer, Params, Train};
use crate::memory::{DefaultInPlace, tensor_from_le_bytes};
use crate::scalar::Scalar;
use crate::shape::{Dims, Tensor};

/// Standardises its input: `y = (x − mean) ⊙ scale`, element by element,
/// with a `mean` and a `scale` fitted on the training data
/// ([`Scaler::standardize`](crate::data::Scaler::standardize): `scale` is
/// `1 / std`) and kept as buffers, so the model takes raw features and its
/// parameter file carries the scaling. scikit-learn's `StandardScaler` in
/// front of a model, as one model.
///
/// - `S`: the input tensor type, for instance `Vector<f32, U7>`; the
///   output has the same type.
/// - Buffers, in this order: `mean`, then `scale`, each an `S`. No
///   parameters: [`Params::COUNT`] is 0, its gradients are `()`, and the
///   optimisers do not touch it. `Default` is the identity (mean 0,
///   scale 1); [`Initialize`] draws nothing and keeps the statistics.
/// - Built from a fitted scaler: `Standardize::from(&scaler)` or
///   [`scaler.layer()`](crate::data::Scaler::layer).
/// - Backward: `dx = dy ⊙ scale`. In front of a network's trained layers
///   it costs nothing in training (a chain skips the backward pass of a
///   parameterless front).
///
/// ```
/// use typenet::prelude::*;
/// use typenet::data::Scaler;
///
/// let train = [(vector([1.0f64, 10.0]), 0), (vector([3.0, 30.0]), 1)];
/// let layer = Scaler::standardize(&train).layer();
/// assert_eq!(layer.forward(&vector([3.0, 20.0])).as_slice(), &[1.0, 0.0]);
/// assert_eq!(<Standardize<Vector<f64, U2>> as Params<f64>>::COUNT, 0);
/// assert_eq!(<Standardize<Vector<f64, U2>> as Params<f64>>::BUFFER_COUNT, 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Standardize<S> {
    /// Subtracted from each input element.
    pub mean: S,
    /// Then multiplied into each (`1 / std`).
    pub scale: S,
}

/// Brings an output back to the units of a standardised target:
/// `y = x / scale + mean`, the inverse of [`Standardize`], with the `mean`
/// and `scale` of the targets
/// ([`Scaler::standardize_targets`](crate::data::Scaler::standardize_targets))
/// kept as buffers: a network trained on standardised targets, followed by
/// it, predicts in the target's units and saves the target scaling with
/// its parameters.
///
/// - `S`: the output tensor type of the layer before, for instance
///   `Vector<f32, U1>`; the output has the same type.
/// - Buffers `mean`, then `scale`; no parameters, as [`Standardize`].
///   `Default` is the identity.
/// - Built from the target scaler: `Unstandardize::from(&scaler)` or
///   [`scaler.inverse_layer()`](crate::data::Scaler::inverse_layer).
/// - Backward: `dx = dy / scale`. Trained with it in place, a network is
///   fitted on the raw targets with its last layer's outputs standardised:
///   the loss is the raw one (`std²` times the standardised loss for
///   [`Mse`](crate::loss::Mse)). To train on standardised targets instead,
///   train the network without it, then append it.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::data::Scaler;
///
/// let train = [(vector([0.0f64]), vector([10.0])), (vector([1.0]), vector([30.0]))];
/// let out = Scaler::standardize_targets(&train).inverse_layer();
/// assert_eq!(out.forward(&vector([0.5]))[0], 25.0);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Unstandardize<S> {
    /// Added to each element after the division.
    pub mean: S,
    /// Each element is divided by it (`1 / std`).
    pub scale: S,
}

/// A tensor of ones.
fn ones<S: Tensor>() -> S {
    let mut s = S::default();
    s.as_flat_mut().fill(<S::Scalar as num_traits::One>::one());
    s
}

/// The traits both layers share: buffers `mean` and `scale`, no
/// parameters, the identity by default, nothing to draw, built from a
/// [`Scaler`].
macro_rules! scaling_layer {
    ($name:ident) => {
        crate::zeroable!(impl[S: Tensor] for $name<S> { mean: S, scale: S });

        impl<S: Tensor> Default for $name<S> {
            /// The identity: mean 0, scale 1.
            fn default() -> Self {
                $name { mean: S::default(), scale: ones() }
            }
        }

        impl<S: Tensor> DefaultInPlace for $name<S> {
            #[inline]
            fn zeroed_to_default(&mut self) {
                self.scale = ones();
            }
        }

        impl<S: Tensor> From<&Scaler<S>> for $name<S> {
            /// The scaler's `offset` as the mean, its `factor` as the scale.
            fn from(scaler: &Scaler<S>) -> Self {
                $name { mean: scaler.offset.clone(), scale: scaler.factor.clone() }
            }
        }

        impl<S: Tensor> $name<S> {
            /// The layer with this mean and scale.
            pub fn new(mean: S, scale: S) -> Self {
                $name { mean, scale }
            }

            /// The scaler this layer applies (or inverts).
            pub fn scaler(&self) -> Scaler<S> {
                Scaler { offset: self.mean.clone(), factor: self.scale.clone() }
            }
        }

        /// Buffers only: `mean` then `scale`, in parameter files; nothing
        /// for the optimisers.
        impl<S: Tensor<Scalar = T>, T: Scalar> Params<T> for $name<S> {
            const COUNT: usize = 0;
            const BUFFER_COUNT: usize = 2 * S::LEN;
            const SIGNATURE_LEN: usize = 2 * (2 + S::DIMS.rank());
            type Grads = ();
            #[inline(always)]
            fn visit(&self, _: &mut impl FnMut(&[T])) {}
            #[inline(always)]
            fn visit_mut(&mut self, _: &mut impl FnMut(&mut [T])) {}
            #[inline(always)]
            fn zip_mut<const K: usize>(&mut self, _: [&mut (); K], _: &mut impl FnMut(&mut [T], [&mut [T]; K])) {}
            #[inline]
            fn visit_state(&self, f: &mut impl FnMut(&[T])) {
                f(self.mean.as_flat());
                f(self.scale.as_flat());
            }
            #[inline]
            fn visit_state_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
                f(self.mean.as_flat_mut());
                f(self.scale.as_flat_mut());
            }
            #[inline]
            fn visit_signature(f: &mut impl FnMut(&'static str, Dims)) {
                f("mean", S::DIMS);
                f("scale", S::DIMS);
            }
        }

        impl<T, C: Cursor, S: Tensor<Scalar = T>> FromEmbedded<T, C> for $name<S> {
            /// `mean` and `scale` from the file, each checked against its
            /// name and shape.
            const VALUE: Self = {
                let signature = check_tensor(C::SIGNATURE, stringify!($name), "mean", S::DIMS);
                let mean = tensor_from_le_bytes::<S>(C::VALUES);
                let values = C::VALUES.split_at(size_of::<S>()).1;
                let _ = check_tensor(signature, stringify!($name), "scale", S::DIMS);
                let scale = tensor_from_le_bytes::<S>(values);
                $name { mean, scale }
            };
        }

        /// The statistics were fitted on data: nothing to draw.
        impl<S> Initialize for $name<S> {
            #[inline]
            fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, _: Sch, _: &mut R) {}
        }

        impl<S: Tensor> Train<S> for $name<S> {
            type Cache = ();

            #[inline]
            fn forward_train_block<R: Rng + ?Sized, const B: usize>(
                &self,
                n: usize,
                inputs: [&S; B],
                _: [&mut (); B],
                outputs: [&mut S; B],
                _: &mut R,
            ) {
                for (x, y) in inputs.into_iter().zip(outputs).take(n) {
                    *y = self.forward(x);
                }
            }

            /// No parameter gradients; each input gradient when asked.
            #[inline]
            fn backward_block<const B: usize>(
                &self,
                n: usize,
                _: [&S; B],
                _: [&mut (); B],
                grad_outputs: [&S; B],
                _: &mut (),
                grad_inputs: Option<[&mut S; B]>,
            ) {
                let Some(grad_inputs) = grad_inputs else { return };
                for (dy, dx) in grad_outputs.into_iter().zip(grad_inputs).take(n) {
                    self.input_gradient(dy, dx);
                }
            }
        }
    };
}

scaling_layer!(Standardize);
scaling_layer!(Unstandardize);

impl<S: Tensor> Layer<S> for Standardize<S> {
    type Output = S;

    /// `(x − mean) ⊙ scale`.
    #[inline]
    fn forward(&self, x: &S) -> S {
        let mut y = x.clone();
        let stats = self.mean.as_flat().iter().zip(self.scale.as_flat());
        for (y, (&m, &s)) in y.as_flat_mut().iter_mut().zip(stats) {
            *y = (*y - m) * s;
        }
        y
    }
}

impl<S: Tensor> Standardize<S> {
    /// `dx = dy ⊙ scale`.
    #[inline]
    fn input_gradient(&self, dy: &S, dx: &mut S) {
        for ((dx, &dy), &s) in dx.as_flat_mut().iter_mut().zip(dy.as_flat()).zip(self.scale.as_flat()) {
            *dx = dy * s;
        }
    }
}

impl<S: Tensor> Layer<S> for Unstandardize<S> {
    type Output = S;

    /// `x / scale + mean`, as [`Scaler::unscale`](crate::data::Scaler::unscale).
    #[inline]
    fn forward(&self, x: &S) -> S {
        let mut y = x.clone();
        let stats = self.mean.as_flat().iter().zip(self.scale.as_flat());
        for (y, (&m, &s)) in y.as_flat_mut().iter_mut().zip(stats) {
            *y = *y / s + m;
        }
        y
    }
}

impl<S: Tensor> Unstandardize<S> {
    /// `dx = dy / scale`.
    #[inline]
    fn input_gradient(&self, dy: &S, dx: &mut S) {
        for ((dx, &dy), &s) in dx.as_flat_mut().iter_mut().zip(dy.as_flat()).zip(self.scale.as_flat()) {
            *dx = dy / s;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use crate::check::check_gradients_block;
    use crate::prelude::*;

    fn stats<S: Tensor<Scalar = f64>>(rng: &mut Xoshiro256PlusPlus) -> (S, S) {
        let (mut mean, mut scale) = (S::default(), S::default());
        mean.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(-3.0..3.0));
        scale.as_flat_mut().iter_mut().for_each(|v| *v = rng.random_range(0.2..4.0));
        (mean, scale)
    }

    /// Input gradients against finite differences, in blocks of 3.
    #[test]
    fn gradients_match_finite_differences() {
        type X = Tensor3<f64, U2, U2, U3>;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let (mean, scale) = stats::<X>(&mut rng);
        let xs: [X; 3] = core::array::from_fn(|_| stats::<X>(&mut rng).0);
        let report = check_gradients_block(&mut Standardize::new(mean, scale), &xs, &mut rng);
        assert!(report.max_rel_error < 1e-6, "{report:?}");
        assert_eq!((report.inputs_checked, report.params_checked), (3 * 12, 0));
        let report = check_gradients_block(&mut Unstandardize::new(mean, scale), &xs, &mut rng);
        assert!(report.max_rel_error < 1e-6, "{report:?}");
        assert_eq!(report.inputs_checked, 3 * 12);
    }

    /// The two layers invert each other, and apply what the scaler does.
    #[test]
    fn layers_agree_with_the_scaler_and_invert_each_other() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let data: Vec<(Vector<f64, U3>, usize)> = (0..20).map(|_| (stats::<Vector<f64, U3>>(&mut rng).0, 0)).collect();
        let scaler = crate::data::Scaler::standardize(&data);
        let (there, back) = (scaler.layer(), Unstandardize::from(&scaler));
        for (x, _) in &data {
            let mut scaled = *x;
            scaler.scale(&mut scaled);
            assert_eq!(there.forward(x), scaled);
            let again = back.forward(&scaled);
            assert!(again.iter().zip(x.iter()).all(|(a, b)| (a - b).abs() < 1e-12), "{again:?} {x:?}");
        }
        assert_eq!(there.scaler(), scaler);
    }

    /// No parameters, two buffers in the signature, identity by default.
    #[test]
    fn buffers_not_parameters() {
        type L = Standardize<Vector<f32, U7>>;
        assert_eq!((<L as Params<f32>>::COUNT, <L as Params<f32>>::BUFFER_COUNT), (0, 14));
        let mut names = Vec::new();
        L::visit_signature(&mut |name, dims| names.push((name, dims.sizes().to_vec())));
        assert_eq!(names, [("mean", std::vec![7]), ("scale", std::vec![7])]);
        let x = vector([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
        assert_eq!(L::default().forward(&x), x);
        let mut tensors = 0;
        L::default().visit(&mut |_| tensors += 1);
        assert_eq!(tensors, 0, "the optimisers see nothing");
    }
}
