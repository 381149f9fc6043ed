//! What the three cells share: the affine maps of their stacked gates,
//! forward and backward, and the layer around the four parameter tensors,
//! [`RecurrentLayer`].

use generic_array::ArrayLength;
use rand::Rng;
use typenum::Unsigned;

use super::{GateBiases, GateWeights, Recurrent, SequenceCache, through_time};
use crate::init::{Initialize, Scheme, fill_uniform, pytorch_bound};
use crate::kernel::dot;
use crate::layer::{Layer, Params, Train};
use crate::scalar::Scalar;
use crate::shape::{Matrix, Tensor, Vector};

/// `out += W·x + b`, gate by gate.
#[inline]
pub(super) fn add_affine<T: Scalar, G: ArrayLength, H: ArrayLength, C: ArrayLength>(
    w: &GateWeights<T, G, H, C>,
    b: &GateBiases<T, G, H>,
    x: &Vector<T, C>,
    out: &mut GateBiases<T, G, H>,
) {
    for ((o, row), &bias) in out.iter_mut().flatten().zip(w.iter().flatten()).zip(b.iter().flatten()) {
        *o = *o + bias + dot(row, x);
    }
}

/// The backward pass of `W·x + b` for the gradient `d` of its output: adds
/// `d·xᵀ` into `grad_w`, `d` into `grad_b` and, when `dx` is given, `Wᵀ·d`
/// into it (the first layer of a network needs no input gradient).
#[inline]
pub(super) fn add_affine_backward<T: Scalar, G: ArrayLength, H: ArrayLength, C: ArrayLength>(
    w: &GateWeights<T, G, H, C>,
    d: &GateBiases<T, G, H>,
    x: &Vector<T, C>,
    grad_w: &mut GateWeights<T, G, H, C>,
    grad_b: &mut GateBiases<T, G, H>,
    dx: Option<&mut Vector<T, C>>,
) {
    let rows = w.iter().flatten().zip(grad_w.iter_mut().flatten());
    let rows = rows.zip(grad_b.iter_mut().flatten()).zip(d.iter().flatten());
    match dx {
        Some(dx) => {
            for (((row, grad_row), gb), &dk) in rows {
                *gb = *gb + dk;
                for (((g, &xc), dxc), &wc) in grad_row.iter_mut().zip(x.iter()).zip(dx.iter_mut()).zip(row.iter()) {
                    *g = *g + dk * xc;
                    *dxc = *dxc + dk * wc;
                }
            }
        }
        None => {
            for (((_, grad_row), gb), &dk) in rows {
                *gb = *gb + dk;
                for (g, &xc) in grad_row.iter_mut().zip(x.iter()) {
                    *g = *g + dk * xc;
                }
            }
        }
    }
}

/// The gates of a recurrent cell: [`RnnCell`](super::rnn::RnnCell) (1),
/// [`LstmCell`](super::lstm::LstmCell) (4), [`GruCell`](super::gru::GruCell)
/// (3). Sealed.
pub trait Cell: super::sealed::Sealed {
    /// `G`, the number of gates stacked in each weight and bias.
    type Gates: ArrayLength;
}

/// A recurrent layer: cell `C` run over a sequence of `L` steps of `I`
/// features, `H` hidden units, scalar `T`. Write it as [`Rnn`](super::Rnn),
/// [`Lstm`](super::Lstm) or [`Gru`](super::Gru), whose docs give each
/// cell's equations; their parameters and passes are the same shape, so
/// the layer, its parameters, its initialisation and its `Layer` and
/// `Train` impls are written once, here, over the cell's
/// [`Recurrent`] steps.
#[derive(Clone, Debug, PartialEq)]
#[repr(C)]
#[cfg_attr(target_arch = "x86_64", repr(align(64)))]
pub struct RecurrentLayer<C: Cell, I: ArrayLength, H: ArrayLength, T = f32> {
    /// Input-to-hidden weights `[G][H][I]`: PyTorch's `weight_ih_l0`,
    /// `[G·H][I]`.
    pub weight_ih: GateWeights<T, C::Gates, H, I>,
    /// Hidden-to-hidden weights `[G][H][H]`: PyTorch's `weight_hh_l0`,
    /// `[G·H][H]`.
    pub weight_hh: GateWeights<T, C::Gates, H, H>,
    /// Input-side biases `[G][H]`: PyTorch's `bias_ih_l0`, `[G·H]`.
    pub bias_ih: GateBiases<T, C::Gates, H>,
    /// Hidden-side biases `[G][H]`: PyTorch's `bias_hh_l0`, `[G·H]`.
    pub bias_hh: GateBiases<T, C::Gates, H>,
}

impl<C: Cell, I: ArrayLength, H: ArrayLength, T> super::sealed::Sealed for RecurrentLayer<C, I, H, T> {}

crate::params! {
    impl[C: Cell, I: ArrayLength, H: ArrayLength, T: Scalar] Params<T> for RecurrentLayer<C, I, H, T> {
        weight_ih: GateWeights<T, C::Gates, H, I>,
        weight_hh: GateWeights<T, C::Gates, H, H>,
        bias_ih: GateBiases<T, C::Gates, H>,
        bias_hh: GateBiases<T, C::Gates, H>,
    }
}

impl<C: Cell, I: ArrayLength, H: ArrayLength, T: Scalar> RecurrentLayer<C, I, H, T> {
    /// A layer with the given parameters, gate-major (`[G][H][…]`).
    pub fn new(
        weight_ih: GateWeights<T, C::Gates, H, I>,
        weight_hh: GateWeights<T, C::Gates, H, H>,
        bias_ih: GateBiases<T, C::Gates, H>,
        bias_hh: GateBiases<T, C::Gates, H>,
    ) -> Self {
        RecurrentLayer { weight_ih, weight_hh, bias_ih, bias_hh }
    }
}

impl<C: Cell, I: ArrayLength, H: ArrayLength, T: Scalar> Initialize for RecurrentLayer<C, I, H, T> {
    /// PyTorch's default draws every parameter from U(−1/√H, 1/√H); other
    /// schemes draw `weight_ih` with fan-in `I`, `weight_hh` with fan-in `H`
    /// (both with fan-out `G·H`) and zero the biases.
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, scheme: Sch, rng: &mut R) {
        let gated = C::Gates::USIZE * H::USIZE;
        if scheme.is_pytorch() {
            let bound = pytorch_bound::<T>(H::USIZE);
            Params::<T>::visit_mut(self, &mut |t| fill_uniform(t, bound, rng));
        } else {
            scheme.fill_weight(self.weight_ih.as_flat_mut(), I::USIZE, gated, rng);
            scheme.fill_weight(self.weight_hh.as_flat_mut(), H::USIZE, gated, rng);
            scheme.fill_bias(self.bias_ih.as_flat_mut(), H::USIZE, rng);
            scheme.fill_bias(self.bias_hh.as_flat_mut(), H::USIZE, rng);
        }
    }
}

impl<C, I, H, L, T> Layer<Matrix<T, L, I>> for RecurrentLayer<C, I, H, T>
where
    C: Cell,
    I: ArrayLength,
    H: ArrayLength,
    L: ArrayLength,
    T: Scalar,
    Self: Recurrent<Scalar = T, InputSize = I, HiddenSize = H>,
{
    type Output = Matrix<T, L, H>;

    /// Runs the sequence from the zero state; returns every step's hidden
    /// state.
    #[inline]
    fn forward(&self, xs: &Matrix<T, L, I>) -> Matrix<T, L, H> {
        self.forward_from(xs, &mut Default::default())
    }
}

/// Each sequence of the block from the zero state, in order; the backward
/// pass through time skips `W_ihᵀ·d` at every step when no input gradient
/// is asked for.
impl<C, I, H, L, T> Train<Matrix<T, L, I>> for RecurrentLayer<C, I, H, T>
where
    C: Cell,
    I: ArrayLength,
    H: ArrayLength,
    L: ArrayLength,
    T: Scalar,
    Self: Recurrent<Scalar = T, InputSize = I, HiddenSize = H>,
{
    type Cache = SequenceCache<Self, L>;

    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Matrix<T, L, I>; B],
        caches: [&mut Self::Cache; B],
        outputs: [&mut Matrix<T, L, H>; B],
        _: &mut R,
    ) {
        for ((xs, cache), ys) in inputs.into_iter().zip(caches).zip(outputs).take(n) {
            *ys = self.forward_train_from(xs, &mut Default::default(), cache);
        }
    }

    #[inline]
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        inputs: [&Matrix<T, L, I>; B],
        caches: [&mut Self::Cache; B],
        grad_outputs: [&Matrix<T, L, H>; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Matrix<T, L, I>; B]>,
    ) {
        let mut grad_inputs = grad_inputs.map(|d| d.map(Some)).unwrap_or_else(|| core::array::from_fn(|_| None));
        let samples = inputs.into_iter().zip(caches).zip(grad_outputs).zip(grad_inputs.iter_mut());
        for (((xs, cache), d_ys), d_xs) in samples.take(n) {
            if let Some(d_xs) = d_xs.as_deref_mut() {
                d_xs.as_flat_mut().fill(T::zero());
            }
            through_time(self, xs, cache, d_ys, grads, d_xs.as_deref_mut());
        }
    }
}
