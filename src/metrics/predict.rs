//! Prediction with a trained classifier: classes and class probabilities.

use crate::layer::Layer;
use crate::loss::Probabilities;
use crate::metrics::{ConfusionMatrix, MetricsError, confusion};
use crate::shape::{ScalarOf, Tensor};

/// A trained model with the cost it was trained with, which says what its
/// output means: the classes and class probabilities of scikit-learn's
/// `predict` and `predict_proba`.
///
/// Why a pair rather than a method on the model: the same network output
/// is read three ways (logits under softmax, a logit under a sigmoid, or a
/// probability already), and only the cost knows which
/// ([`Probabilities`]). Naming the cost once, where the classifier is made,
/// keeps a model trained with `BceWithLogits` from being read as
/// probabilities by mistake, and the pair borrows both, so it costs two
/// pointers. A regressor needs no such pair: its prediction is
/// `model.forward(&x)` (see [`regression`](crate::metrics::regression) for
/// its metrics).
///
/// ```
/// use typenet::prelude::*;
///
/// // A 2-class "model" on 2 features: the logits are the features.
/// let model = Identity;
/// let clf = Classifier::new(&model, &SoftmaxCrossEntropy);
/// let x = vector([0.0f64, 2.0f64.ln()]);
/// assert_eq!(clf.predict(&x), 1);
/// let p = clf.predict_proba(&x);
/// assert!((p[0] - 1.0 / 3.0).abs() < 1e-15 && (p[1] - 2.0 / 3.0).abs() < 1e-15);
///
/// // Batches write into the caller's slices.
/// let inputs = [vector([1.0, 0.0]), vector([0.0, 1.0]), vector([0.5, 0.5])];
/// let mut classes = [0; 3];
/// clf.predict_into(&inputs, &mut classes).unwrap();
/// assert_eq!(classes, [0, 1, 0]); // ties go to the first class
/// ```
#[derive(Debug)]
pub struct Classifier<'a, M, L> {
    /// The trained model.
    pub model: &'a M,
    /// The cost it was trained with.
    pub cost: &'a L,
}

impl<M, L> Clone for Classifier<'_, M, L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M, L> Copy for Classifier<'_, M, L> {}

impl<'a, M, L> Classifier<'a, M, L> {
    /// `model`, read as `cost` reads its output.
    pub fn new(model: &'a M, cost: &'a L) -> Self {
        Classifier { model, cost }
    }

    /// The predicted class of `x`: the largest logit, or for a single
    /// binary output, 1 if it is above the threshold (a logit above 0, a
    /// probability above 0.5).
    pub fn predict<X>(&self, x: &X) -> usize
    where
        M: Layer<X>,
        L: Probabilities<M::Output>,
    {
        self.cost.class(&self.model.forward(x))
    }

    /// The class probabilities of `x`, in the output's shape: the softmax of
    /// the logits, or for binary outputs the probability of class 1 (the
    /// sigmoid of a logit, or the output itself under [`Bce`](crate::loss::Bce)).
    pub fn predict_proba<X>(&self, x: &X) -> M::Output
    where
        M: Layer<X>,
        L: Probabilities<M::Output>,
    {
        self.cost.probabilities(&self.model.forward(x))
    }

    /// [`predict`](Self::predict) of each input into `classes`, which must
    /// be as long as `inputs`.
    pub fn predict_into<X>(&self, inputs: &[X], classes: &mut [usize]) -> Result<(), MetricsError>
    where
        M: Layer<X>,
        L: Probabilities<M::Output>,
    {
        same_length(inputs.len(), classes.len())?;
        for (x, class) in inputs.iter().zip(classes) {
            *class = self.predict(x);
        }
        Ok(())
    }

    /// [`predict_proba`](Self::predict_proba) of each input into
    /// `probabilities`, which must be as long as `inputs`.
    pub fn predict_proba_into<X>(&self, inputs: &[X], probabilities: &mut [M::Output]) -> Result<(), MetricsError>
    where
        M: Layer<X>,
        L: Probabilities<M::Output>,
    {
        same_length(inputs.len(), probabilities.len())?;
        for (x, p) in inputs.iter().zip(probabilities) {
            *p = self.predict_proba(x);
        }
        Ok(())
    }

    /// The confusion matrix over labelled `data`: [`confusion`].
    #[allow(clippy::type_complexity)]
    pub fn confusion<X>(
        &self,
        data: &[(X, usize)],
    ) -> Result<ConfusionMatrix<L::Classes, ScalarOf<M::Output>>, MetricsError>
    where
        M: Layer<X, Output: Tensor>,
        L: Probabilities<M::Output>,
    {
        confusion(self.model, self.cost, data)
    }
}

fn same_length(inputs: usize, outputs: usize) -> Result<(), MetricsError> {
    if inputs == outputs { Ok(()) } else { Err(MetricsError::LengthMismatch { inputs, outputs }) }
}
