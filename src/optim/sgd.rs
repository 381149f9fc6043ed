//! Stochastic gradient descent, plain and with momentum.

use crate::layer::Params;
use crate::memory::Zeroable;
use crate::optim::{Optimizer, c, decayed};
use crate::scalar::Scalar;

/// Plain gradient descent, `p ← p − lr·(g + wd·p)`. PyTorch's
/// `SGD(lr, weight_decay=wd)`. Keeps no state.
///
/// ```
/// use typenet::prelude::*;
/// let mut d = Dense::<U1, U1, f64>::new(matrix([[1.0]]), vector([1.0]));
/// let mut g = Dense::new(matrix([[2.0]]), vector([-2.0]));
/// Sgd::new(0.25).step(&mut d, &mut g, &mut (), 0.25);
/// assert_eq!((d.weight[0][0], d.bias[0]), (0.5, 1.5));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sgd {
    /// Learning rate.
    pub lr: f64,
    /// Coupled weight decay (L2), 0 for none.
    pub weight_decay: f64,
}

impl Sgd {
    /// Plain SGD with learning rate `lr`.
    pub const fn new(lr: f64) -> Self {
        Sgd { lr, weight_decay: 0.0 }
    }
}

impl Optimizer for Sgd {
    type State<G: Zeroable + Default> = ();

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    #[inline(always)]
    fn step<T: Scalar, P: Params<T>>(&self, params: &mut P, grads: &mut P::Grads, _: &mut (), lr: f64) {
        let (lr, wd) = (c::<T>(lr), c::<T>(self.weight_decay));
        if self.weight_decay == 0.0 {
            // The same values without the decay term's multiply and add
            // (`g + 0·p` is `g` for every finite `p`).
            params.zip_mut([grads], &mut |p, [g]| {
                for (p, &g) in p.iter_mut().zip(g.iter()) {
                    *p = *p - lr * g;
                }
            });
            return;
        }
        params.zip_mut([grads], &mut |p, [g]| {
            for (p, &g) in p.iter_mut().zip(g.iter()) {
                *p = *p - lr * decayed(g, *p, wd);
            }
        });
    }
}

/// Gradient descent with (heavy-ball or Nesterov) momentum. PyTorch's
/// `SGD(lr, momentum=μ, nesterov, weight_decay=wd)` with no dampening:
///
/// `g ← g + wd·p`, `v ← μ·v + g`, then `p ← p − lr·v`, or with Nesterov
/// `p ← p − lr·(g + μ·v)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Momentum {
    /// Learning rate.
    pub lr: f64,
    /// Momentum μ.
    pub momentum: f64,
    /// Nesterov's look-ahead form.
    pub nesterov: bool,
    /// Coupled weight decay (L2), 0 for none.
    pub weight_decay: f64,
}

impl Momentum {
    /// Heavy-ball momentum μ at learning rate `lr`.
    pub const fn new(lr: f64, momentum: f64) -> Self {
        Momentum { lr, momentum, nesterov: false, weight_decay: 0.0 }
    }

    /// Nesterov momentum μ at learning rate `lr`.
    pub const fn nesterov(lr: f64, momentum: f64) -> Self {
        Momentum { lr, momentum, nesterov: true, weight_decay: 0.0 }
    }
}

/// The velocity of [`Momentum`], shaped like the gradients.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MomentumState<G> {
    /// The running sum of gradients.
    pub velocity: G,
}

crate::zeroable!(impl[G: Zeroable] for MomentumState<G> { velocity: G });

impl Optimizer for Momentum {
    type State<G: Zeroable + Default> = MomentumState<G>;

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    #[inline]
    fn step<T: Scalar, P: Params<T>>(
        &self,
        params: &mut P,
        grads: &mut P::Grads,
        state: &mut MomentumState<P::Grads>,
        lr: f64,
    ) {
        let (lr, mu, wd) = (c::<T>(lr), c::<T>(self.momentum), c::<T>(self.weight_decay));
        let nesterov = self.nesterov;
        params.zip_mut([grads, &mut state.velocity], &mut |p, [g, v]| {
            for ((p, &g), v) in p.iter_mut().zip(g.iter()).zip(v.iter_mut()) {
                let g = decayed(g, *p, wd);
                *v = mu * *v + g;
                let update = if nesterov { g + mu * *v } else { *v };
                *p = *p - lr * update;
            }
        });
    }
}
