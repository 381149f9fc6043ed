//! `LastStep`: keeps the last row of a sequence, the last hidden state of a
//! recurrent layer.

use generic_array::ArrayLength;
use rand::Rng;

use crate::layer::{Layer, Train};
use crate::scalar::Scalar;
use crate::shape::{Matrix, Vector};

/// Keeps the last step of a sequence: `Matrix<T, L, H>` → `Vector<T, H>`,
/// PyTorch's `output[-1]` (for one layer, the `h_n` that `nn.RNN`,
/// `nn.LSTM` and `nn.GRU` return). Put it after a recurrent layer to
/// classify a whole sequence by its final hidden state.
///
/// Parameterless. Backward: the last row of `dx` is `dy`, every other row
/// zero. An empty sequence (`L = 0`) gives the zero vector, the state
/// before any step.
///
/// ```
/// use typenet::prelude::*;
///
/// let hs = matrix([[1.0f32, 2.0], [3.0, 4.0], [5.0, 6.0]]);
/// assert_eq!(LastStep.forward(&hs).as_slice(), &[5.0, 6.0]);
///
/// type Classifier = net![Gru<U8, U32>, LastStep, Dense<U32, U10>];
/// let scores = Classifier::default().forward(&Matrix::<f32, U5, U8>::default());
/// assert_eq!(scores.len(), 10);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LastStep;

crate::params!(impl[] Params for LastStep {});

impl<T: Scalar, L: ArrayLength, H: ArrayLength> Layer<Matrix<T, L, H>> for LastStep {
    type Output = Vector<T, H>;

    #[inline]
    fn forward(&self, xs: &Matrix<T, L, H>) -> Vector<T, H> {
        xs.last().cloned().unwrap_or_default()
    }
}

impl<T: Scalar, L: ArrayLength, H: ArrayLength> Train<Matrix<T, L, H>> for LastStep {
    type Cache = ();

    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Matrix<T, L, H>; B],
        _: [&mut (); B],
        outputs: [&mut Vector<T, H>; B],
        _: &mut R,
    ) {
        for (xs, y) in inputs.into_iter().zip(outputs).take(n) {
            *y = self.forward(xs);
        }
    }

    /// `dy` into the last step, zero elsewhere.
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        _: [&Matrix<T, L, H>; B],
        _: [&mut (); B],
        grad_outputs: [&Vector<T, H>; B],
        _: &mut (),
        grad_inputs: Option<[&mut Matrix<T, L, H>; B]>,
    ) {
        let Some(grad_inputs) = grad_inputs else { return };
        for (dy, dx) in grad_outputs.into_iter().zip(grad_inputs).take(n) {
            for (t, step) in dx.iter_mut().enumerate() {
                if t + 1 == L::USIZE { step.clone_from(dy) } else { step.fill(T::zero()) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::check::{check_gradients, randomize};
    use crate::prelude::*;

    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let xs: Matrix<f64, U3, U2> = matrix([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]);
        let report = check_gradients(&mut LastStep, &xs, &mut rng);
        assert!(report.max_rel_error < 1e-6, "{report:?}");
        assert_eq!((report.inputs_checked, report.params_checked), (6, 0));

        // Through a recurrent layer into a classifier head.
        let mut net = <net![Lstm<U2, U3, f64>, LastStep, Dense<U3, U2, f64>]>::default();
        randomize(&mut net, &mut rng);
        let report = check_gradients(&mut net, &xs, &mut rng);
        assert!(report.max_rel_error < 1e-6, "{report:?}");
        assert_eq!(report.params_checked, 4 * 3 * (2 + 3 + 2) + 3 * 2 + 2);
    }

    #[test]
    fn an_empty_sequence_gives_zero() {
        let xs = Matrix::<f32, U0, U3>::default();
        assert_eq!(LastStep.forward(&xs).as_slice(), &[0.0; 3]);
        let dx = LastStep.backward(&xs, &mut (), &vector([1.0, 2.0, 3.0]), &mut ());
        assert!(dx.is_empty());
    }
}
