//! RMSprop.

use crate::layer::Params;
use crate::memory::Zeroable;
use crate::optim::{Commit, OptimError, Optimizer, Range, Update, apply_all_or_nothing};
use crate::scalar::Scalar;

/// RMSprop (Hinton, 2012). PyTorch's `RMSprop(lr, alpha, eps)` without
/// momentum or centring:
///
/// `s ← αs + (1 − α)g²`, `p ← p − lr·g / (√s + ε)`.
///
/// PyTorch's `weight_decay = wd` is [`Config::l2`](crate::train::Config::l2)` = wd`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsProp<T = f32> {
    /// Learning rate.
    pub lr: T,
    /// α, the squared-gradient average's decay (0.99).
    pub alpha: T,
    /// ε in the denominator (1e-8).
    pub eps: T,
}

impl<T: Scalar> RmsProp<T> {
    /// RMSprop with PyTorch's defaults at learning rate `lr`.
    pub const fn new(lr: T) -> Self {
        RmsProp { lr, alpha: T::ALPHA, eps: T::EPS }
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
        Range::NonNegative.check(Self::NAME, "eps", self.eps)
    }

    #[inline]
    fn update<P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut RmsPropState<P::Grads>,
        lr: T,
    ) -> Result<(), OptimError> {
        let update = RmsPropUpdate { lr, alpha: self.alpha, eps: self.eps };
        apply_all_or_nothing(&update, params, grads, state)
    }
}

/// [`RmsProp`]'s constants for one step.
struct RmsPropUpdate<T> {
    lr: T,
    alpha: T,
    eps: T,
}

impl<T: Scalar, P: Params<T>> Update<T, P> for RmsPropUpdate<T> {
    type State = RmsPropState<P::Grads>;

    #[inline(always)]
    fn walk(&self, params: &mut P, grads: &mut P::Grads, state: &mut Self::State, commit: &mut impl Commit<T>) {
        let (lr, alpha, eps) = (self.lr, self.alpha, self.eps);
        params.zip_mut([grads, &mut state.square_avg], &mut |p, [g, s]| {
            for ((p, &g), s) in p.iter_mut().zip(g.iter()).zip(s.iter_mut()) {
                let square_avg = alpha * *s + (T::one() - alpha) * g * g;
                let new_p = *p - lr * g / (T::square_root(square_avg) + eps);
                commit.put(s, square_avg);
                commit.put(p, new_p);
            }
        });
    }
}
