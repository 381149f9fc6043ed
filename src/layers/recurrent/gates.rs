//! What the three cells share: the affine maps of their stacked gates,
//! forward and backward, and the layer boilerplate around the four
//! parameter tensors.

use generic_array::ArrayLength;

use super::{GateBiases, GateWeights};
use crate::kernel::dot;
use crate::scalar::Scalar;
use crate::shape::Vector;

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

/// Defines a recurrent layer struct with `G` gates and the impls that only
/// depend on its four parameter tensors: construction, `Default`, `Clone`,
/// `PartialEq`, `Debug`, [`Initialize`](crate::init::Initialize),
/// [`Params`](crate::Params), and [`Layer`](crate::Layer) /
/// [`Train`](crate::Train) over whole sequences from the zero state through
/// its [`Recurrent`](super::Recurrent) impl.
macro_rules! recurrent_layer {
    ($(#[$attr:meta])* $name:ident, gates = $gates:ty) => {
        $(#[$attr])*
        #[repr(C)]
        #[cfg_attr(target_arch = "x86_64", repr(align(64)))]
        pub struct $name<I: $crate::generic_array::ArrayLength, H: $crate::generic_array::ArrayLength, T = f32> {
            /// Input-to-hidden weights `[G][H][I]`: PyTorch's `weight_ih_l0`,
            /// `[G·H][I]`.
            pub weight_ih: $crate::layers::recurrent::GateWeights<T, $gates, H, I>,
            /// Hidden-to-hidden weights `[G][H][H]`: PyTorch's
            /// `weight_hh_l0`, `[G·H][H]`.
            pub weight_hh: $crate::layers::recurrent::GateWeights<T, $gates, H, H>,
            /// Input-side biases `[G][H]`: PyTorch's `bias_ih_l0`, `[G·H]`.
            pub bias_ih: $crate::layers::recurrent::GateBiases<T, $gates, H>,
            /// Hidden-side biases `[G][H]`: PyTorch's `bias_hh_l0`, `[G·H]`.
            pub bias_hh: $crate::layers::recurrent::GateBiases<T, $gates, H>,
        }

        impl<I: $crate::generic_array::ArrayLength, H: $crate::generic_array::ArrayLength, T: $crate::Scalar>
            $name<I, H, T>
        {
            /// A layer with the given parameters, gate-major (`[G][H][…]`).
            pub fn new(
                weight_ih: $crate::layers::recurrent::GateWeights<T, $gates, H, I>,
                weight_hh: $crate::layers::recurrent::GateWeights<T, $gates, H, H>,
                bias_ih: $crate::layers::recurrent::GateBiases<T, $gates, H>,
                bias_hh: $crate::layers::recurrent::GateBiases<T, $gates, H>,
            ) -> Self {
                $name { weight_ih, weight_hh, bias_ih, bias_hh }
            }
        }

        impl<I: $crate::generic_array::ArrayLength, H: $crate::generic_array::ArrayLength, T: $crate::Scalar> Default
            for $name<I, H, T>
        {
            fn default() -> Self {
                $name {
                    weight_ih: Default::default(),
                    weight_hh: Default::default(),
                    bias_ih: Default::default(),
                    bias_hh: Default::default(),
                }
            }
        }

        impl<I: $crate::generic_array::ArrayLength, H: $crate::generic_array::ArrayLength, T: Clone> Clone
            for $name<I, H, T>
        {
            fn clone(&self) -> Self {
                $name {
                    weight_ih: self.weight_ih.clone(),
                    weight_hh: self.weight_hh.clone(),
                    bias_ih: self.bias_ih.clone(),
                    bias_hh: self.bias_hh.clone(),
                }
            }
        }

        impl<I: $crate::generic_array::ArrayLength, H: $crate::generic_array::ArrayLength, T: PartialEq> PartialEq
            for $name<I, H, T>
        {
            fn eq(&self, other: &Self) -> bool {
                self.weight_ih == other.weight_ih
                    && self.weight_hh == other.weight_hh
                    && self.bias_ih == other.bias_ih
                    && self.bias_hh == other.bias_hh
            }
        }

        impl<I: $crate::generic_array::ArrayLength, H: $crate::generic_array::ArrayLength, T: core::fmt::Debug>
            core::fmt::Debug for $name<I, H, T>
        {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("weight_ih", &self.weight_ih)
                    .field("weight_hh", &self.weight_hh)
                    .field("bias_ih", &self.bias_ih)
                    .field("bias_hh", &self.bias_hh)
                    .finish()
            }
        }

        impl<I: $crate::generic_array::ArrayLength, H: $crate::generic_array::ArrayLength, T: $crate::Scalar>
            $crate::layers::recurrent::sealed::Sealed for $name<I, H, T>
        {
        }

        impl<I: $crate::generic_array::ArrayLength, H: $crate::generic_array::ArrayLength, T: $crate::Scalar>
            $crate::init::Initialize for $name<I, H, T>
        {
            /// PyTorch's default draws every parameter from U(−1/√H, 1/√H);
            /// other schemes draw `weight_ih` with fan-in `I`, `weight_hh`
            /// with fan-in `H` (both with fan-out `G·H`) and zero the biases.
            fn init_with<R: $crate::rand::Rng + ?Sized>(&mut self, scheme: $crate::init::Init, rng: &mut R) {
                use $crate::shape::Tensor;
                let gated = <$gates as $crate::typenum::Unsigned>::USIZE * H::USIZE;
                if scheme == $crate::init::Init::PyTorch {
                    let bound = 1.0 / libm::sqrt(H::USIZE.max(1) as f64);
                    $crate::layer::Params::<T>::visit_mut(self, &mut |t| $crate::init::fill_uniform(t, bound, rng));
                } else {
                    scheme.fill_weight(self.weight_ih.as_flat_mut(), I::USIZE, gated, rng);
                    scheme.fill_weight(self.weight_hh.as_flat_mut(), H::USIZE, gated, rng);
                    scheme.fill_bias(self.bias_ih.as_flat_mut(), H::USIZE, rng);
                    scheme.fill_bias(self.bias_hh.as_flat_mut(), H::USIZE, rng);
                }
            }
        }

        // SAFETY: the layer is its four parameter arrays of numbers.
        unsafe impl<I: $crate::generic_array::ArrayLength, H: $crate::generic_array::ArrayLength, T: $crate::memory::Zeroable>
            $crate::memory::Zeroable for $name<I, H, T>
        {
        }

        impl<I: $crate::generic_array::ArrayLength, H: $crate::generic_array::ArrayLength, T: $crate::Scalar>
            $crate::layer::Params<T> for $name<I, H, T>
        {
            const COUNT: usize = <$gates as $crate::typenum::Unsigned>::USIZE * H::USIZE * (I::USIZE + H::USIZE + 2);
            type Grads = Self;

            fn visit(&self, f: &mut impl FnMut(&[T])) {
                use $crate::shape::Tensor;
                f(self.weight_ih.as_flat());
                f(self.weight_hh.as_flat());
                f(self.bias_ih.as_flat());
                f(self.bias_hh.as_flat());
            }

            fn visit_mut(&mut self, f: &mut impl FnMut(&mut [T])) {
                use $crate::shape::Tensor;
                f(self.weight_ih.as_flat_mut());
                f(self.weight_hh.as_flat_mut());
                f(self.bias_ih.as_flat_mut());
                f(self.bias_hh.as_flat_mut());
            }

            fn zip_mut<const K: usize>(&mut self, mut others: [&mut Self; K], f: &mut impl FnMut(&mut [T], [&mut [T]; K])) {
                use $crate::shape::Tensor;
                f(self.weight_ih.as_flat_mut(), others.each_mut().map(|s| s.weight_ih.as_flat_mut()));
                f(self.weight_hh.as_flat_mut(), others.each_mut().map(|s| s.weight_hh.as_flat_mut()));
                f(self.bias_ih.as_flat_mut(), others.each_mut().map(|s| s.bias_ih.as_flat_mut()));
                f(self.bias_hh.as_flat_mut(), others.each_mut().map(|s| s.bias_hh.as_flat_mut()));
            }
        }

        impl<
            I: $crate::generic_array::ArrayLength,
            H: $crate::generic_array::ArrayLength,
            L: $crate::generic_array::ArrayLength,
            T: $crate::Scalar,
        > $crate::layer::Layer<$crate::shape::Matrix<T, L, I>> for $name<I, H, T>
        {
            type Output = $crate::shape::Matrix<T, L, H>;

            /// Runs the sequence from the zero state; returns every step's
            /// hidden state.
            #[inline]
            fn forward(&self, xs: &$crate::shape::Matrix<T, L, I>) -> Self::Output {
                $crate::layers::recurrent::Recurrent::forward_from(self, xs, &mut Default::default())
            }
        }

        impl<
            I: $crate::generic_array::ArrayLength,
            H: $crate::generic_array::ArrayLength,
            L: $crate::generic_array::ArrayLength,
            T: $crate::Scalar,
        > $crate::layer::Train<$crate::shape::Matrix<T, L, I>> for $name<I, H, T>
        {
            type Cache = $crate::layers::recurrent::SequenceCache<Self, L>;

            #[inline]
            fn forward_train<R: $crate::rand::Rng + ?Sized>(
                &self,
                xs: &$crate::shape::Matrix<T, L, I>,
                cache: &mut Self::Cache,
                _: &mut R,
            ) -> Self::Output {
                $crate::layers::recurrent::Recurrent::forward_train_from(self, xs, &mut Default::default(), cache)
            }

            #[inline]
            fn backward(
                &self,
                xs: &$crate::shape::Matrix<T, L, I>,
                cache: &Self::Cache,
                d_ys: &Self::Output,
                grads: &mut Self,
            ) -> $crate::shape::Matrix<T, L, I> {
                $crate::layers::recurrent::Recurrent::backward_from(self, xs, cache, d_ys, grads).0
            }

            /// Backpropagation through time without `dL/dxs`: skips
            /// `W_ihᵀ·d` at every step.
            #[inline]
            fn backward_params(
                &self,
                xs: &$crate::shape::Matrix<T, L, I>,
                cache: &Self::Cache,
                d_ys: &Self::Output,
                grads: &mut Self,
            ) {
                $crate::layers::recurrent::through_time(self, xs, cache, d_ys, grads, None);
            }
        }
    };
}
pub(super) use recurrent_layer;
