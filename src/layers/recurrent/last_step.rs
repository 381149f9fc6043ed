//! `LastStep`: keeps the last row of a sequence, the last hidden state of a
//! recurrent layer.

use generic_array::ArrayLength;
use rand::Rng;

use crate::Scalar;
use crate::layer::{Layer, Train, parameterless};
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
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LastStep;

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
    fn forward_train<R: Rng + ?Sized>(&self, xs: &Matrix<T, L, H>, _: &mut (), _: &mut R) -> Vector<T, H> {
        self.forward(xs)
    }

    fn backward(&self, _: &Matrix<T, L, H>, _: &(), dy: &Vector<T, H>, _: &mut ()) -> Matrix<T, L, H> {
        let mut dx = Matrix::<T, L, H>::default();
        if let Some(last) = dx.last_mut() {
            last.clone_from(dy);
        }
        dx
    }
}

parameterless!(LastStep);

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
        let dx = LastStep.backward(&xs, &(), &vector([1.0, 2.0, 3.0]), &mut ());
        assert!(dx.is_empty());
    }
}
