//! `BiasOnly`: a `Dense` layer whose weights stay frozen (borrowed, in
//! flash if they are there) while its bias trains, TinyTL's bias-only
//! fine-tuning.

use generic_array::ArrayLength;
use rand::Rng;

use crate::init::{Initialize, Scheme};
use crate::layer::{Layer, Train};
use crate::layers::Dense;
use crate::scalar::Scalar;
use crate::shape::{Tensor, Vector};

/// A [`Dense`] layer with its weights frozen and its bias trained: the
/// bias-only update of TinyTL ("Reduce Memory, Not Parameters for
/// Efficient On-Device Learning"), which adapts a deployed model with
/// gradients and optimiser state the size of its biases alone.
///
/// - The weights are borrowed (`frozen`, say from a `static` built by
///   [`embedded!`](crate::embedded), so they stay in flash); the bias is
///   the layer's own, its only parameter ([`Params::COUNT`](crate::Params::COUNT)
///   is `O`). Its gradients and optimiser state are a bias each, and a
///   parameter file of it holds the bias alone.
/// - Forward: `W·x + b`, as `Dense`. Backward: `db += dy` and, when asked,
///   `dx = Wᵀ·dy`, so it passes gradients back to the biases before it.
///   There is no weight-gradient work.
///
/// ```
/// use typenet::prelude::*;
///
/// type Mlp = net![Dense<U4, U8>, Tanh, Dense<U8, U2>];
/// let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
/// let mut trained = Mlp::default();
/// trained.init(&mut rng); // trained on the host, say
///
/// // Every bias trains; no weight does.
/// type Tuned<'a> = net![BiasOnly<'a, Dense<U4, U8>>, Tanh, BiasOnly<'a, Dense<U8, U2>>];
/// let mut model: Tuned = layers![BiasOnly::new(&trained.0), Tanh, BiasOnly::new(&trained.1.1.0)];
/// assert_eq!(<Tuned as Params<f32>>::COUNT, 8 + 2);
/// let x = vector([0.5, -1.0, 0.25, 2.0]);
/// assert_eq!(model.forward(&x), trained.forward(&x));
///
/// let data = [(x, 1usize), (vector([-0.5, 1.0, 0.0, 0.0]), 0)];
/// let mut trainer = Trainer::new(Adam::new(0.1), Config { batch_size: 2, ..Config::default() });
/// trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut rng).epochs(50).run().unwrap();
/// assert_eq!(evaluate(&model, &SoftmaxCrossEntropy, &data).unwrap().accuracy, Some(1.0));
/// assert_eq!(model.0.frozen.weight, trained.0.weight);
/// ```
#[derive(Debug)]
pub struct BiasOnly<'a, L: HasBias> {
    /// The layer whose weights are used as they are.
    pub frozen: &'a L,
    /// The bias that trains, in place of the frozen layer's.
    pub bias: L::Bias,
}

/// A layer whose output is its weights applied to the input plus a bias
/// that can train alone: what [`BiasOnly`] wraps.
pub trait HasBias {
    /// The bias tensor.
    type Bias: Tensor;
    /// The layer's bias.
    fn bias(&self) -> &Self::Bias;
}

impl<I: ArrayLength, O: ArrayLength, T: Scalar> HasBias for Dense<I, O, T> {
    type Bias = Vector<T, O>;
    fn bias(&self) -> &Vector<T, O> {
        &self.bias
    }
}

impl<'a, L: HasBias> BiasOnly<'a, L> {
    /// `frozen`'s weights, and a copy of its bias to train.
    pub fn new(frozen: &'a L) -> Self {
        BiasOnly { frozen, bias: frozen.bias().clone() }
    }
}

impl<L: HasBias> Clone for BiasOnly<'_, L> {
    fn clone(&self) -> Self {
        BiasOnly { frozen: self.frozen, bias: self.bias.clone() }
    }
}

impl<L: HasBias<Bias: PartialEq> + PartialEq> PartialEq for BiasOnly<'_, L> {
    fn eq(&self, other: &Self) -> bool {
        self.frozen == other.frozen && self.bias == other.bias
    }
}

/// The parameters of a [`BiasOnly`] layer, and its gradients: one bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Bias<B> {
    /// The bias.
    pub bias: B,
}

crate::params! {
    impl[B: Tensor<Scalar = T>, T: Scalar] Params<T> for Bias<B> {
        bias: B,
    }
}

impl<L: HasBias<Bias: Tensor<Scalar = T>>, T: Scalar> crate::layer::Params<T> for BiasOnly<'_, L> {
    const COUNT: usize = <L::Bias as Tensor>::LEN;
    const SIGNATURE_LEN: usize = <Bias<L::Bias> as crate::layer::Params<T>>::SIGNATURE_LEN;
    type Grads = Bias<L::Bias>;
    #[inline]
    fn visit_signature(f: &mut impl FnMut(&'static str, crate::shape::Dims)) {
        <Bias<L::Bias> as crate::layer::Params<T>>::visit_signature(f);
    }
    #[inline(always)]
    fn visit(&self, f: &mut impl FnMut(&[T])) {
        f(self.bias.as_flat());
    }
    #[inline(always)]
    fn visit_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
        f(self.bias.as_flat_mut());
    }
    #[inline(always)]
    fn zip_mut<const K: usize>(
        &mut self,
        mut others: [&mut Bias<L::Bias>; K],
        f: &mut impl FnMut(&mut [T], [&mut [T]; K]),
    ) {
        f(self.bias.as_flat_mut(), others.each_mut().map(|o| o.bias.as_flat_mut()));
    }
}

/// The bias was trained already: nothing to draw.
impl<L: HasBias> Initialize for BiasOnly<'_, L> {
    #[inline]
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, _: Sch, _: &mut R) {}
}

impl<I: ArrayLength, O: ArrayLength, T: Scalar> Layer<Vector<T, I>> for BiasOnly<'_, Dense<I, O, T>> {
    type Output = Vector<T, O>;

    #[inline]
    fn forward(&self, x: &Vector<T, I>) -> Vector<T, O> {
        let mut y = Vector::<T, O>::default();
        T::dense_forward(&self.frozen.weight, &self.bias, &[x], &mut [&mut y]);
        y
    }
}

impl<I: ArrayLength, O: ArrayLength, T: Scalar> Train<Vector<T, I>> for BiasOnly<'_, Dense<I, O, T>> {
    type Cache = ();

    /// The block as one matrix product with the frozen weights.
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Vector<T, I>; B],
        _: [&mut (); B],
        mut outputs: [&mut Vector<T, O>; B],
        _: &mut R,
    ) {
        let n = n.min(B);
        T::dense_forward(&self.frozen.weight, &self.bias, &inputs[..n], &mut outputs[..n]);
    }

    /// `db += Σ dy` over the block, then `dX = dY·W` when asked for.
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        _: [&Vector<T, I>; B],
        _: [&mut (); B],
        grad_outputs: [&Vector<T, O>; B],
        grads: &mut Bias<Vector<T, O>>,
        grad_inputs: Option<[&mut Vector<T, I>; B]>,
    ) {
        let n = n.min(B);
        for dy in &grad_outputs[..n] {
            grads.bias.iter_mut().zip(dy.iter()).for_each(|(g, &d)| *g = *g + d);
        }
        if let Some(mut grad_inputs) = grad_inputs {
            T::dense_input_grads(&self.frozen.weight, &grad_outputs[..n], &mut grad_inputs[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{check_gradients, randomize};
    use crate::prelude::*;

    /// The bias's gradient and the input's against finite differences.
    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        let mut dense = Dense::<U5, U3, f64>::default();
        randomize(&mut dense, &mut rng);
        let mut layer = BiasOnly::new(&dense);
        randomize(&mut layer, &mut rng);
        let report = check_gradients(&mut layer, &vector([0.3, -1.2, 0.7, 2.0, -0.1]), &mut rng);
        assert!(report.max_rel_error < 1e-6, "{report:?}");
        assert_eq!((report.inputs_checked, report.params_checked), (5, 3));
    }

    /// A bias-only step moves each bias as the full layer's step would and
    /// leaves every weight as it was.
    #[test]
    fn a_step_moves_the_biases_as_the_full_layer_would() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let mut full = <net![Dense<U3, U4, f64>, Tanh, Dense<U4, U2, f64>]>::default();
        randomize(&mut full, &mut rng);
        let frozen = full.clone();
        let mut biases = layers![BiasOnly::new(&frozen.0), Tanh, BiasOnly::new(&frozen.1.1.0)];
        let data = [(vector([0.5, -1.0, 0.25]), vector([1.0, 0.0])), (vector([-0.5, 1.0, 0.0]), vector([0.0, 1.0]))];
        let config = Config { batch_size: 2, shuffle: false, ..Config::default() };
        Trainer::new(Sgd::new(0.1), config).step(&mut full, &Mse, &data, &mut NoRng).unwrap();
        Trainer::new(Sgd::new(0.1), config).step(&mut biases, &Mse, &data, &mut NoRng).unwrap();
        assert_eq!(biases.0.bias, full.0.bias);
        assert_eq!(biases.1.1.0.bias, full.1.1.0.bias);
        assert_eq!(biases.0.frozen.weight, frozen.0.weight);
        assert_ne!(full.0.weight, frozen.0.weight);
    }
}
