//! Gradient checking: compare a layer's backward pass with central finite
//! differences of its forward pass.
//!
//! Use it in `f64` on every layer you write. The loss is a fixed random
//! projection of the output, `L = Σ r ⊙ y`, so `dL/dy = r` exercises every
//! output; each input and each parameter is then nudged by ±h and
//! `(L(+h) − L(−h)) / 2h` is compared with the backward pass.
//!
//! ```
//! use typenet::prelude::*;
//! use typenet::check::{check_gradients, randomize};
//!
//! let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
//! let mut net = <net![Dense<U3, U4, f64>, Tanh, Dense<U4, U2, f64>]>::default();
//! randomize(&mut net, &mut rng);
//! let x = vector([0.5, -1.0, 2.0]);
//! let report = check_gradients(&mut net, &x, &mut rng);
//! assert!(report.max_rel_error < 1e-6, "{report:?}");
//! assert_eq!(report.inputs_checked, 3);
//! assert_eq!(report.params_checked, 16 + 10);
//! ```

use rand::{Rng, RngExt};

use crate::layer::{Params, Train};
use crate::scalar::Scalar;
use crate::shape::Tensor;

/// Step of the central differences.
pub const STEP: f64 = 1e-5;

/// Magnitudes below this are compared absolutely: the relative error is
/// `|analytic − numeric| / max(|analytic|, |numeric|, FLOOR)`.
pub const FLOOR: f64 = 1e-2;

/// What [`check_gradients`] found.
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GradReport {
    /// The largest relative error over inputs and parameters.
    pub max_rel_error: f64,
    /// Where it was.
    pub worst: Where,
    /// How many input scalars were checked.
    pub inputs_checked: usize,
    /// How many parameter scalars were checked.
    pub params_checked: usize,
}

/// The place of the largest error in a [`GradReport`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Where {
    /// Nothing was checked, or every error was zero.
    Nowhere,
    /// The input scalar at this flat index (over the block's samples, one
    /// after another).
    Input(usize),
    /// The parameter scalar at this flat index (PyTorch order).
    Param(usize),
}

/// Fills every parameter with a uniform draw from `[-1, 1)`.
pub fn randomize<P: Params<T>, T: Scalar, R: Rng + ?Sized>(params: &mut P, rng: &mut R) {
    params.visit_mut(&mut |tensor| {
        for p in tensor {
            *p = T::from_f64(rng.random::<f64>() * 2.0 - 1.0);
        }
    });
}

/// Checks the input and parameter gradients of `layer` at `input`.
///
/// Stochastic layers see the same random numbers in every forward pass (the
/// `rng` is cloned), so a dropout mask stays fixed while the check runs.
/// `layer` is borrowed mutably to nudge its parameters; it is left as it
/// was, bit for bit.
pub fn check_gradients<L, In, R>(layer: &mut L, input: &In, rng: &mut R) -> GradReport
where
    In: Tensor,
    L: Train<In>,
    R: Rng + Clone,
{
    check_gradients_block(layer, core::array::from_ref(input), rng)
}

/// [`check_gradients`] over a block of samples run through the layer
/// together, for layers whose samples are coupled in training (batch norm):
/// the loss is `Σ_b r_b ⊙ y_b` over the block, and every input of every
/// sample is nudged.
///
/// ```
/// use typenet::prelude::*;
/// use typenet::check::{check_gradients_block, randomize};
///
/// let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
/// let mut net = <net![Dense<U3, U2, f64>, Tanh]>::default();
/// randomize(&mut net, &mut rng);
/// let xs = [vector([0.5, -1.0, 2.0]), vector([1.5, 0.3, -0.7]), vector([-0.2, 0.9, 0.4])];
/// let report = check_gradients_block(&mut net, &xs, &mut rng);
/// assert!(report.max_rel_error < 1e-6, "{report:?}");
/// assert_eq!((report.inputs_checked, report.params_checked), (9, 8));
/// ```
pub fn check_gradients_block<L, In, R, const B: usize>(layer: &mut L, inputs: &[In; B], rng: &mut R) -> GradReport
where
    In: Tensor,
    L: Train<In>,
    R: Rng + Clone,
{
    let projections: [L::Output; B] = core::array::from_fn(|_| {
        let mut projection = L::Output::default();
        for r in projection.as_flat_mut() {
            *r = In::Scalar::from_f64(rng.random::<f64>() * 2.0 - 1.0);
        }
        projection
    });
    let forward_rng = rng.clone();
    let loss = |layer: &L, xs: &[In; B]| -> f64 {
        let mut caches: [L::Cache; B] = core::array::from_fn(|_| Default::default());
        let mut ys: [L::Output; B] = core::array::from_fn(|_| Default::default());
        layer.forward_train_block(B, xs.each_ref(), caches.each_mut(), ys.each_mut(), &mut forward_rng.clone());
        let pairs = ys.iter().zip(&projections).flat_map(|(y, r)| y.as_flat().iter().zip(r.as_flat()));
        pairs.map(|(&y, &r)| (y * r).to_f64()).sum()
    };

    let mut caches: [L::Cache; B] = core::array::from_fn(|_| Default::default());
    let mut ys: [L::Output; B] = core::array::from_fn(|_| Default::default());
    let mut dxs: [In; B] = core::array::from_fn(|_| Default::default());
    let mut grads = L::Grads::default();
    layer.forward_train_block(B, inputs.each_ref(), caches.each_mut(), ys.each_mut(), &mut forward_rng.clone());
    let grad_outputs = projections.each_ref();
    layer.backward_block(B, inputs.each_ref(), caches.each_mut(), grad_outputs, &mut grads, Some(dxs.each_mut()));

    let mut report = GradReport { max_rel_error: 0.0, worst: Where::Nowhere, inputs_checked: 0, params_checked: 0 };
    let record = |report: &mut GradReport, analytic: f64, numeric: f64, place: Where| {
        let error = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(FLOOR);
        if error > report.max_rel_error || error.is_nan() {
            report.max_rel_error = error;
            report.worst = place;
        }
    };

    let mut xs = inputs.clone();
    for b in 0..B {
        for k in 0..In::LEN {
            let original = xs[b].as_flat()[k];
            xs[b].as_flat_mut()[k] = In::Scalar::from_f64(original.to_f64() + STEP);
            let plus = loss(layer, &xs);
            xs[b].as_flat_mut()[k] = In::Scalar::from_f64(original.to_f64() - STEP);
            let minus = loss(layer, &xs);
            xs[b].as_flat_mut()[k] = original;
            let numeric = (plus - minus) / (2.0 * STEP);
            record(&mut report, dxs[b].as_flat()[k].to_f64(), numeric, Where::Input(b * In::LEN + k));
            report.inputs_checked += 1;
        }
    }

    for k in 0..L::COUNT {
        let analytic = nth(&grads, k).to_f64();
        let original = nth(layer, k);
        set_nth(layer, k, In::Scalar::from_f64(original.to_f64() + STEP));
        let plus = loss(layer, inputs);
        set_nth(layer, k, In::Scalar::from_f64(original.to_f64() - STEP));
        let minus = loss(layer, inputs);
        set_nth(layer, k, original);
        record(&mut report, analytic, (plus - minus) / (2.0 * STEP), Where::Param(k));
        report.params_checked += 1;
    }
    report
}

/// The `k`-th parameter scalar in visiting order.
fn nth<P: Params<T>, T: Copy + Default>(params: &P, k: usize) -> T {
    let (mut seen, mut value) = (0, T::default());
    params.visit(&mut |tensor| {
        if (seen..seen + tensor.len()).contains(&k) {
            value = tensor[k - seen];
        }
        seen += tensor.len();
    });
    value
}

fn set_nth<P: Params<T>, T: Copy>(params: &mut P, k: usize, value: T) {
    let mut seen = 0;
    params.visit_mut(&mut |tensor| {
        if (seen..seen + tensor.len()).contains(&k) {
            tensor[k - seen] = value;
        }
        seen += tensor.len();
    });
}
