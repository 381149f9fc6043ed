//! RMSprop.

use crate::layer::Params;
use crate::memory::Zeroable;
use crate::optim::{Optimizer, c, decayed};
use crate::scalar::Scalar;

/// RMSprop (Hinton, 2012). PyTorch's `RMSprop(lr, alpha, eps, weight_decay)`
/// without momentum or centring:
///
/// `g ← g + wd·p`, `s ← αs + (1 − α)g²`, `p ← p − lr·g / (√s + ε)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsProp {
    /// Learning rate.
    pub lr: f64,
    /// α, the squared-gradient average's decay (0.99).
    pub alpha: f64,
    /// ε in the denominator (1e-8).
    pub eps: f64,
    /// Coupled weight decay (L2), 0 for none.
    pub weight_decay: f64,
}

impl RmsProp {
    /// RMSprop with PyTorch's defaults at learning rate `lr`.
    pub const fn new(lr: f64) -> Self {
        RmsProp { lr, alpha: 0.99, eps: 1e-8, weight_decay: 0.0 }
    }
}

/// The running average of squared gradients, shaped like the gradients.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RmsPropState<G> {
    /// Mean of squared gradients.
    pub square_avg: G,
}

crate::zeroable!(impl[G: Zeroable] for RmsPropState<G> { square_avg: G });

impl Optimizer for RmsProp {
    type State<G: Zeroable + Default> = RmsPropState<G>;

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    #[inline]
    fn step<T: Scalar, P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut RmsPropState<P::Grads>,
        lr: f64,
    ) {
        let (lr, alpha, eps, wd) = (c::<T>(lr), c::<T>(self.alpha), c::<T>(self.eps), c::<T>(self.weight_decay));
        params.zip_mut([grads, &mut state.square_avg], &mut |p, [g, s]| {
            for ((p, &g), s) in p.iter_mut().zip(g.iter()).zip(s.iter_mut()) {
                let g = decayed(g, *p, wd);
                *s = alpha * *s + (T::one() - alpha) * g * g;
                *p = *p - lr * g / (s.sqrt() + eps);
            }
        });
    }
}
