//! `Dense`: the fully connected layer, `y = W·x + b`.

use generic_array::ArrayLength;
use rand::Rng;

use crate::init::{Initialize, Scheme};
use crate::layer::{Layer, Misfit, Train};
use crate::scalar::Scalar;
use crate::shape::{Matrix, Tensor, Vector};

/// A fully connected layer from `I` inputs to `O` outputs: `y = W·x + b`,
/// PyTorch's `nn.Linear(I, O)`.
///
/// - `I`, `O`: sizes, `typenum` constants (`U64`, `U10`, …).
/// - `T`: the scalar, `f32` unless stated.
/// - Input `Vector<T, I>`, output `Vector<T, O>`.
/// - Parameters, in this order (PyTorch's `state_dict`): `weight`, a
///   `Matrix<T, O, I>` (`[out][in]`, row `o` holds the weights into output
///   `o`), then `bias`, a `Vector<T, O>`. The layer holds nothing else:
///   `size_of::<Dense<I, O, T>>()` is `(O·I + O) · size_of::<T>()`, rounded
///   up to a multiple of [`LAYER_ALIGN`](crate::memory::LAYER_ALIGN) (a
///   cache line on x86-64, nothing elsewhere).
/// - `Default` is all zeros; [`Initialize`] draws PyTorch's default
///   U(−1/√I, 1/√I) or any [`Scheme`] (fan-in `I`, fan-out `O`).
///
/// Backward: `dx = Wᵀ·dy`, `dW += dy·xᵀ`, `db += dy`.
///
/// ```
/// use typenet::prelude::*;
///
/// let dense = Dense::<U2, U3>::new(
///     matrix([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
///     vector([0.0, 0.0, 0.5]),
/// );
/// let y = dense.forward(&vector([2.0, 3.0]));
/// assert_eq!(y.as_slice(), &[2.0, 3.0, 5.5]);
/// assert_eq!(size_of::<Dense<U64, U32>>(), (64 * 32 + 32) * 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub struct Dense<I: ArrayLength, O: ArrayLength, T = f32> {
    /// `[out][in]` weights.
    pub weight: Matrix<T, O, I>,
    /// One bias per output.
    pub bias: Vector<T, O>,
}

crate::params! {
    impl[I: ArrayLength, O: ArrayLength, T: Scalar] Params<T> for Dense<I, O, T> {
        weight: Matrix<T, O, I>,
        bias: Vector<T, O>,
    }
}

impl<I: ArrayLength, O: ArrayLength, T: Scalar> Dense<I, O, T> {
    /// A layer with the given weight (`[out][in]`) and bias.
    pub fn new(weight: Matrix<T, O, I>, bias: Vector<T, O>) -> Self {
        Dense { weight, bias }
    }
}

impl<I: ArrayLength, O: ArrayLength, T: Scalar> Initialize for Dense<I, O, T> {
    /// Weights with fan-in `I` and fan-out `O`; biases as the scheme says.
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, scheme: Sch, rng: &mut R) {
        scheme.fill_weight(self.weight.as_flat_mut(), I::USIZE, O::USIZE, rng);
        scheme.fill_bias(self.bias.as_flat_mut(), I::USIZE, rng);
    }
}

/// A `Dense<I, O>` takes a `Vector<T, N>` of any size `N` at the type level
/// and checks `N == I` at compile time, so that a chain whose sizes do not
/// fit reaches that check whatever the call syntax (`net.forward(&x)`,
/// `Layer::forward`, the training passes, a [`Trainer`](crate::train::Trainer))
/// and fails with one message in decimal that names the layer and its
/// position. The check fails the build when the code is compiled
/// (`cargo build`, `cargo test`, `cargo run`), not in `cargo check`.
///
/// ```compile_fail,E0080
/// use typenet::prelude::*;
/// // typenet: layer 3 of the model, `Dense<7, 2>`, takes 7 features, but layer 2 gives it 8
/// let net = <net![Dense<U4, U8>, Relu, Dense<U7, U2>]>::default();
/// let y = net.forward(&vector([0.0f32; 4]));
/// ```
impl<I: ArrayLength, O: ArrayLength, N: ArrayLength, T: Scalar> Layer<Vector<T, N>> for Dense<I, O, T> {
    type Output = Vector<T, O>;

    const MISFIT: Option<Misfit> = if N::USIZE == I::USIZE {
        None
    } else {
        Some(Misfit {
            layer: "Dense",
            sizes: [I::USIZE, O::USIZE, 0, 0, 0, 0],
            len: 2,
            unit: ["feature", "features"],
            takes: I::USIZE,
            given: N::USIZE,
            index: 0,
        })
    };

    #[inline]
    fn forward(&self, x: &Vector<T, N>) -> Vector<T, O> {
        let () = <Self as Layer<Vector<T, N>>>::FITS;
        self.forward_unchecked(x)
    }

    #[inline]
    fn forward_unchecked(&self, x: &Vector<T, N>) -> Vector<T, O> {
        let mut y = Vector::<T, O>::default();
        T::dense_forward(&self.weight, &self.bias, &[input::<I, N, T>(x)], &mut [&mut y]);
        y
    }
}

/// `x` as the `Vector<T, I>` it is: every caller has checked `N == I` at
/// compile time (`Layer::FITS`), so the length check inside is known to
/// pass and compiles away.
#[inline(always)]
fn input<I: ArrayLength, N: ArrayLength, T>(x: &Vector<T, N>) -> &Vector<T, I> {
    Vector::<T, I>::from_slice(x.as_slice())
}

/// `dx` as the `Vector<T, I>` it is (see `input`).
#[inline(always)]
fn input_mut<I: ArrayLength, N: ArrayLength, T>(dx: &mut Vector<T, N>) -> &mut Vector<T, I> {
    Vector::<T, I>::from_mut_slice(dx.as_mut_slice())
}

impl<I: ArrayLength, O: ArrayLength, N: ArrayLength, T: Scalar> Train<Vector<T, N>> for Dense<I, O, T> {
    type Cache = ();

    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Vector<T, N>; B],
        caches: [&mut (); B],
        outputs: [&mut Vector<T, O>; B],
        rng: &mut R,
    ) {
        let () = <Self as Layer<Vector<T, N>>>::FITS;
        self.forward_train_block_unchecked(n, inputs, caches, outputs, rng);
    }

    /// The block as one matrix product, `Y = X·Wᵀ + b`.
    #[inline]
    fn forward_train_block_unchecked<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Vector<T, N>; B],
        _: [&mut (); B],
        mut outputs: [&mut Vector<T, O>; B],
        _: &mut R,
    ) {
        let n = n.min(B);
        let inputs = inputs.map(input::<I, N, T>);
        T::dense_forward(&self.weight, &self.bias, &inputs[..n], &mut outputs[..n]);
    }

    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&Vector<T, N>; B],
        caches: [&mut (); B],
        grad_outputs: [&Vector<T, O>; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Vector<T, N>; B]>,
    ) {
        let () = <Self as Layer<Vector<T, N>>>::FITS;
        self.backward_block_unchecked(n, inputs, caches, grad_outputs, grads, grad_inputs);
    }

    /// `dW += dYᵀ·X` and `db += Σ dy` over the block, then `dX = dY·W` when
    /// asked for.
    #[inline]
    fn backward_block_unchecked<const B: usize>(
        &self,
        n: usize,
        inputs: [&Vector<T, N>; B],
        _: [&mut (); B],
        grad_outputs: [&Vector<T, O>; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Vector<T, N>; B]>,
    ) {
        let n = n.min(B);
        let inputs = inputs.map(input::<I, N, T>);
        T::dense_grads(&mut grads.weight, &mut grads.bias, &inputs[..n], &grad_outputs[..n]);
        if let Some(grad_inputs) = grad_inputs {
            let mut grad_inputs = grad_inputs.map(input_mut::<I, N, T>);
            T::dense_input_grads(&self.weight, &grad_outputs[..n], &mut grad_inputs[..n]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{check_gradients, randomize};
    use crate::prelude::*;

    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut dense = Dense::<U5, U3, f64>::default();
        randomize(&mut dense, &mut rng);
        let x = vector([0.3, -1.2, 0.7, 2.0, -0.1]);
        let report = check_gradients(&mut dense, &x, &mut rng);
        assert!(report.max_rel_error < 1e-6, "{report:?}");
        assert_eq!((report.inputs_checked, report.params_checked), (5, 18));
    }

    #[test]
    fn forward_is_w_x_plus_b() {
        let dense = Dense::<U3, U2, f64>::new(matrix([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]), vector([0.25, -0.5]));
        let y = dense.forward(&vector([1.0, -1.0, 2.0]));
        assert_eq!(y.as_slice(), &[1.0 - 2.0 + 6.0 + 0.25, -1.0 - 0.5 - 0.5]);
    }

    #[test]
    fn skipping_the_input_gradient_keeps_the_parameter_gradients() {
        let dense = Dense::<U3, U2, f64>::new(matrix([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]]), vector([0.25, -0.5]));
        let (x, dy) = (vector([1.0, -1.0, 2.0]), vector([0.5, -2.0]));
        let (mut g1, mut g2) = (Dense::default(), Dense::default());
        let dx = dense.backward(&x, &mut (), &dy, &mut g1);
        dense.backward_block(1, [&x], [&mut ()], [&dy], &mut g2, None);
        assert_eq!(g1, g2);
        assert_eq!(dx.as_slice(), &[0.5 + 2.0, 1.0 - 1.0, 1.5]);
        assert_eq!(g1.bias.as_slice(), dy.as_slice());
    }

    #[test]
    fn holds_nothing_but_parameters() {
        assert_eq!(size_of::<Dense<U64, U32>>(), <Dense<U64, U32> as Params<f32>>::COUNT * 4);
        assert_eq!(size_of::<Dense<U64, U32, f64>>(), (64 * 32 + 32) * 8);
    }
}
