//! RMSprop.

use crate::layer::Params;
use crate::memory::Zeroable;
use crate::optim::{Commit, OptimError, Optimizer, Range, Update, apply_all_or_nothing, decayed};
use crate::scalar::Scalar;

/// RMSprop (Hinton, 2012). PyTorch's `RMSprop(lr, alpha, eps, weight_decay)`
/// without momentum or centring:
///
/// `g ← g + wd·p`, `s ← αs + (1 − α)g²`, `p ← p − lr·g / (√s + ε)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsProp<T = f32> {
    /// Learning rate.
    pub lr: T,
    /// α, the squared-gradient average's decay (0.99).
    pub alpha: T,
    /// ε in the denominator (1e-8).
    pub eps: T,
    /// Coupled weight decay (L2), 0 for none.
    pub weight_decay: T,
}

impl<T: Scalar> RmsProp<T> {
    /// RMSprop with PyTorch's defaults at learning rate `lr`.
    pub const fn new(lr: T) -> Self {
        RmsProp { lr, alpha: T::ALPHA, eps: T::EPS, weight_decay: T::ZERO }
    }
}

/// The running average of squared gradients, shaped like the gradients.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RmsPropState<G> {
    /// Mean of squared gradients.
    pub square_avg: G,
}

crate::zeroable!(impl[G: Zeroable] for RmsPropState<G> { square_avg: G });

impl<T: Scalar> Optimizer<T> for RmsProp<T> {
    const NAME: &'static str = "RmsProp";

    type State<G: Zeroable + Default> = RmsPropState<G>;

    fn learning_rate(&self) -> T {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        Range::NonNegative.check(Self::NAME, "lr", self.lr)?;
        Range::NonNegative.check(Self::NAME, "alpha", self.alpha)?;
        Range::NonNegative.check(Self::NAME, "eps", self.eps)?;
        Range::NonNegative.check(Self::NAME, "weight_decay", self.weight_decay)
    }

    #[inline]
    fn update<P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut RmsPropState<P::Grads>,
        lr: T,
    ) -> Result<(), OptimError> {
        let update = RmsPropUpdate { lr, alpha: self.alpha, eps: self.eps, weight_decay: self.weight_decay };
        apply_all_or_nothing(&update, params, grads, state)
    }
}

/// [`RmsProp`]'s constants for one step.
struct RmsPropUpdate<T> {
    lr: T,
    alpha: T,
    eps: T,
    weight_decay: T,
}

impl<T: Scalar, P: Params<T>> Update<T, P> for RmsPropUpdate<T> {
    type State = RmsPropState<P::Grads>;

    #[inline(always)]
    fn walk(&self, params: &mut P, grads: &mut P::Grads, state: &mut Self::State, commit: &mut impl Commit<T>) {
        let (lr, alpha, eps, wd) = (self.lr, self.alpha, self.eps, self.weight_decay);
        params.zip_mut([grads, &mut state.square_avg], &mut |p, [g, s]| {
            for ((p, &g), s) in p.iter_mut().zip(g.iter()).zip(s.iter_mut()) {
                let g = decayed(g, *p, wd);
                let square_avg = alpha * *s + (T::one() - alpha) * g * g;
                let new_p = *p - lr * g / (T::square_root(square_avg) + eps);
                commit.put(s, square_avg);
                commit.put(p, new_p);
            }
        });
    }
}
