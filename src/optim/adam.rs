//! Adam and AdamW.

use crate::layer::Params;
use crate::memory::Zeroable;
use crate::optim::{Commit, OptimError, Optimizer, Range, Update, apply_all_or_nothing, powi};
use crate::scalar::Scalar;

/// Adam (Kingma & Ba, 2015), and AdamW with decoupled weight decay.
/// PyTorch's `Adam(lr, betas=(β₁, β₂), eps)` and `AdamW(..., weight_decay)`:
///
/// `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`,
/// `p ← p − lr/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)`;
/// AdamW first shrinks `p ← p(1 − lr·wd)`.
///
/// Which weight decay: PyTorch's `AdamW(weight_decay=wd)`, decoupled from
/// the gradient's moments, is [`Adam::adamw`]`(lr, wd)` (the
/// [`weight_decay`](Self::weight_decay) field); PyTorch's
/// `Adam(weight_decay=wd)`, coupled (an L2 penalty added to the gradient,
/// then scaled by the moments like it), is
/// [`Config::l2`](crate::train::Config::l2)` = wd`, the one coupled knob
/// for every optimiser. With Adam, prefer AdamW's (Loshchilov & Hutter,
/// 2019): the coupled penalty is divided by `√v` and so shrinks large-
/// gradient weights least.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Adam<T = f32> {
    /// Learning rate.
    pub lr: T,
    /// β₁, the first moment's decay (0.9).
    pub beta1: T,
    /// β₂, the second moment's decay (0.999).
    pub beta2: T,
    /// ε in the denominator (1e-8).
    pub eps: T,
    /// Decoupled weight decay (AdamW), 0 for none.
    pub weight_decay: T,
}

impl<T: Scalar> Adam<T> {
    /// Adam with PyTorch's defaults at learning rate `lr`.
    pub const fn new(lr: T) -> Self {
        Adam { lr, beta1: T::BETA1, beta2: T::BETA2, eps: T::EPS, weight_decay: T::ZERO }
    }

    /// AdamW: Adam with decoupled weight decay `weight_decay` (PyTorch's
    /// `AdamW` default is 0.01).
    pub const fn adamw(lr: T, weight_decay: T) -> Self {
        Adam { weight_decay, ..Adam::new(lr) }
    }
}

/// Adam's moments, shaped like the gradients, and its step count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AdamState<G> {
    /// First moment (mean of gradients).
    pub m: G,
    /// Second moment (mean of squared gradients).
    pub v: G,
    /// Steps taken.
    pub t: u32,
}

crate::zeroable!(impl[G: Zeroable] for AdamState<G> { m: G, v: G, t: u32 });

impl<T: Scalar> Optimizer<T> for Adam<T> {
    const NAME: &'static str = "Adam";

    type State<G: Zeroable + Default> = AdamState<G>;

    fn learning_rate(&self) -> T {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        Range::NonNegative.check(Self::NAME, "lr", self.lr)?;
        Range::UnitOpen.check(Self::NAME, "beta1", self.beta1)?;
        Range::UnitOpen.check(Self::NAME, "beta2", self.beta2)?;
        Range::NonNegative.check(Self::NAME, "eps", self.eps)?;
        Range::NonNegative.check(Self::NAME, "weight_decay", self.weight_decay)
    }

    #[inline]
    fn update<P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut AdamState<P::Grads>,
        lr: T,
    ) -> Result<(), OptimError> {
        // The step count moves on only when the update is written.
        let t = u64::from(state.t.saturating_add(1));
        let correction1 = T::one() - powi(self.beta1, t);
        let update = AdamUpdate {
            step_size: lr / correction1,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            shrink: T::one() - lr * self.weight_decay,
            sqrt_correction2: T::square_root(T::one() - powi(self.beta2, t)),
        };
        apply_all_or_nothing(&update, params, grads, state)?;
        state.t = state.t.saturating_add(1);
        Ok(())
    }
}

/// [`Adam`]'s constants for one step.
struct AdamUpdate<T> {
    step_size: T,
    beta1: T,
    beta2: T,
    eps: T,
    shrink: T,
    sqrt_correction2: T,
}

impl<T: Scalar, P: Params<T>> Update<T, P> for AdamUpdate<T> {
    type State = AdamState<P::Grads>;

    /// The moments only: the step count moves on after the write.
    #[inline(always)]
    fn walk(&self, params: &mut P, grads: &mut P::Grads, state: &mut Self::State, commit: &mut impl Commit<T>) {
        let AdamUpdate { step_size, beta1, beta2, eps, shrink, sqrt_correction2 } = *self;
        let one = T::one();
        params.zip_mut([grads, &mut state.m, &mut state.v], &mut |p, [g, m, v]| {
            for (((p, &g), m), v) in p.iter_mut().zip(g.iter()).zip(m.iter_mut()).zip(v.iter_mut()) {
                let first = beta1 * *m + (one - beta1) * g;
                let second = beta2 * *v + (one - beta2) * g * g;
                let new_p = *p * shrink - step_size * first / (T::square_root(second) / sqrt_correction2 + eps);
                commit.put(m, first);
                commit.put(v, second);
                commit.put(p, new_p);
            }
        });
    }
}
