//! Stochastic gradient descent, plain and with momentum.

use crate::layer::Params;
use crate::memory::Zeroable;
use crate::optim::{Commit, OptimError, Optimizer, Range, Update, apply_all_or_nothing};
use crate::scalar::Scalar;

/// Plain gradient descent, `p ← p − lr·g`. PyTorch's `SGD(lr)`. Keeps no
/// state. PyTorch's `SGD(lr, weight_decay=wd)` is this with
/// [`Config::l2`](crate::train::Config::l2)` = wd`.
///
/// ```
/// use typenet::prelude::*;
/// let mut d = Dense::<U1, U1, f64>::new(matrix([[1.0]]), vector([1.0]));
/// let mut g = Dense::new(matrix([[2.0]]), vector([-2.0]));
/// Sgd::new(0.25).step(&mut d, &mut g, &mut (), 0.25)?;
/// assert_eq!((d.weight[0][0], d.bias[0]), (0.5, 1.5));
///
/// // PyTorch refuses a negative rate ("Invalid learning rate"), and so does this.
/// assert!(Sgd::new(0.25).step(&mut d, &mut g, &mut (), -0.25).is_err());
/// # Ok::<(), typenet::optim::OptimError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd<T = f32> {
    /// Learning rate.
    pub lr: T,
}

impl<T: Scalar> Sgd<T> {
    /// Plain SGD with learning rate `lr`.
    pub const fn new(lr: T) -> Self {
        Sgd { lr }
    }
}

impl<T: Scalar> Optimizer<T> for Sgd<T> {
    const NAME: &'static str = "Sgd";

    type State<G: Zeroable + Default> = ();

    fn learning_rate(&self) -> T {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        Range::NonNegative.check(Self::NAME, "lr", self.lr)
    }

    #[inline(always)]
    fn update<P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut (),
        lr: T,
    ) -> Result<(), OptimError> {
        let update = SgdUpdate { lr };
        apply_all_or_nothing(&update, params, grads, state)
    }
}

/// [`Sgd`]'s constants for one step.
struct SgdUpdate<T> {
    lr: T,
}

impl<T: Scalar, P: Params<T>> Update<T, P> for SgdUpdate<T> {
    type State = ();

    #[inline(always)]
    fn walk(&self, params: &mut P, grads: &mut P::Grads, _: &mut (), commit: &mut impl Commit<T>) {
        let lr = self.lr;
        params.zip_mut([grads], &mut |p, [g]| {
            for (p, &g) in p.iter_mut().zip(g.iter()) {
                commit.put(p, *p - lr * g);
            }
        });
    }
}

/// Gradient descent with (heavy-ball or Nesterov) momentum. PyTorch's
/// `SGD(lr, momentum=μ, nesterov)` with no dampening:
///
/// `v ← μ·v + g`, then `p ← p − lr·v`, or with Nesterov
/// `p ← p − lr·(g + μ·v)`. PyTorch's `weight_decay = wd` is
/// [`Config::l2`](crate::train::Config::l2)` = wd`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Momentum<T = f32> {
    /// Learning rate.
    pub lr: T,
    /// Momentum μ.
    pub momentum: T,
    /// Nesterov's look-ahead form.
    pub nesterov: bool,
}

impl<T: Scalar> Momentum<T> {
    /// Heavy-ball momentum μ at learning rate `lr`.
    pub const fn new(lr: T, momentum: T) -> Self {
        Momentum { lr, momentum, nesterov: false }
    }

    /// Nesterov momentum μ at learning rate `lr`.
    pub const fn nesterov(lr: T, momentum: T) -> Self {
        Momentum { lr, momentum, nesterov: true }
    }
}

/// The velocity of [`Momentum`], shaped like the gradients.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MomentumState<G> {
    /// The running sum of gradients.
    pub velocity: G,
}

crate::zeroable!(impl[G: Zeroable] for MomentumState<G> { velocity: G });

impl<T: Scalar> Optimizer<T> for Momentum<T> {
    const NAME: &'static str = "Momentum";

    type State<G: Zeroable + Default> = MomentumState<G>;

    fn learning_rate(&self) -> T {
        self.lr
    }

    fn validate(&self) -> Result<(), OptimError> {
        Range::NonNegative.check(Self::NAME, "lr", self.lr)?;
        // PyTorch: "Nesterov momentum requires a momentum and zero dampening".
        let momentum = if self.nesterov { Range::Positive } else { Range::NonNegative };
        momentum.check(Self::NAME, "momentum", self.momentum)
    }

    #[inline]
    fn update<P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut MomentumState<P::Grads>,
        lr: T,
    ) -> Result<(), OptimError> {
        let update = MomentumUpdate { lr, momentum: self.momentum, nesterov: self.nesterov };
        apply_all_or_nothing(&update, params, grads, state)
    }
}

/// [`Momentum`]'s constants for one step.
struct MomentumUpdate<T> {
    lr: T,
    momentum: T,
    nesterov: bool,
}

impl<T: Scalar, P: Params<T>> Update<T, P> for MomentumUpdate<T> {
    type State = MomentumState<P::Grads>;

    #[inline(always)]
    fn walk(&self, params: &mut P, grads: &mut P::Grads, state: &mut Self::State, commit: &mut impl Commit<T>) {
        let (lr, mu, nesterov) = (self.lr, self.momentum, self.nesterov);
        params.zip_mut([grads, &mut state.velocity], &mut |p, [g, v]| {
            for ((p, &g), v) in p.iter_mut().zip(g.iter()).zip(v.iter_mut()) {
                let velocity = mu * *v + g;
                let update = if nesterov { g + mu * velocity } else { velocity };
                let new_p = *p - lr * update;
                commit.put(v, velocity);
                commit.put(p, new_p);
            }
        });
    }
}
