//! `Frozen`: a layer or a sub-network whose parameters stay as they are,
//! borrowed from wherever they live (flash, a `static`, a `Box`).

use rand::Rng;

use crate::init::{Initialize, Scheme};
use crate::layer::{Layer, Params, Train};
use crate::shape::Tensor;

/// A layer or a whole sub-network, borrowed and frozen: it runs forward in
/// evaluation mode and is never trained, so a network whose front is
/// frozen trains only its back (fine-tuning a head on a fixed feature
/// extractor, as TinyOL and TinyTL do on microcontrollers).
///
/// - **No parameters of its own.** `Frozen` holds a reference: its
///   [`Params::COUNT`] is 0 and its gradients are `()`, so a
///   [`Trainer`](crate::train::Trainer) keeps no gradients and no optimiser
///   state for it, and a parameter file of the network holds the trained
///   part alone. The frozen parameters stay where they are: in a `static`
///   in flash ([`embedded!`](crate::embedded)), or any other borrow.
/// - **No cache and no backward work.** Its training forward is the
///   evaluation forward ([`Layer::forward`]: batch norm uses its running
///   statistics, dropout is the identity), and it keeps nothing for a
///   backward pass. A chain whose front has no parameters skips that
///   front's backward altogether (see the chain's
///   [`backward_block`](Train::backward_block)), so the trainer's caches
///   hold only the frozen part's output and what the trained part needs.
/// - **In front of every trained layer.** It cannot pass a gradient back
///   ([`Train::INPUT_GRADIENT`] is `false`): a trained layer before it does
///   not compile.
///
/// ```
/// use typenet::prelude::*;
///
/// type Body = net![Dense<U4, U8>, Relu];
/// type Head = net![Dense<U8, U2>];
///
/// let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
/// let mut body = Body::default();
/// body.init(&mut rng); // a pretrained feature extractor, say
///
/// // The body is borrowed; only the head trains.
/// let mut model: (Frozen<Body>, Head) = (Frozen(&body), Head::default());
/// model.init(&mut rng);
/// assert_eq!(<(Frozen<Body>, Head) as Params<f32>>::COUNT, 8 * 2 + 2);
///
/// let data = [(vector([1.0, 0.0, 0.0, 0.0]), 0), (vector([0.0, 0.0, 0.0, 1.0]), 1)];
/// let mut trainer = Trainer::new(Sgd::new(0.5), Config { batch_size: 2, ..Config::default() });
/// let body_before = body.clone();
/// trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut rng).epochs(50).run().unwrap();
/// assert_eq!(body, body_before); // untouched
/// assert_eq!(evaluate(&model, &SoftmaxCrossEntropy, &data).unwrap().accuracy, Some(1.0));
/// ```
///
/// A trained layer in front of a frozen part does not compile:
///
/// ```compile_fail,E0080
/// use typenet::prelude::*;
/// type Body = net![Dense<U8, U8>, Relu];
/// let body = Body::default();
/// let mut model = layers![Dense::<U4, U8>::default(), Frozen(&body), Dense::<U8, U2>::default()];
/// let data = [(vector([1.0, 0.0, 0.0, 0.0]), 0)];
/// let mut trainer = Trainer::new(Sgd::new(0.5), Config { shuffle: false, ..Config::default() });
/// trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut NoRng).epochs(1).run().unwrap();
/// ```
///
/// Its twin, with the frozen part in front, does:
///
/// ```
/// use typenet::prelude::*;
/// type Body = net![Dense<U4, U8>, Relu];
/// let body = Body::default();
/// let mut model = layers![Frozen(&body), Dense::<U8, U8>::default(), Dense::<U8, U2>::default()];
/// let data = [(vector([1.0, 0.0, 0.0, 0.0]), 0)];
/// let mut trainer = Trainer::new(Sgd::new(0.5), Config { shuffle: false, ..Config::default() });
/// trainer.fit(&mut model, &SoftmaxCrossEntropy, &data, &mut NoRng).epochs(1).run().unwrap();
/// ```
#[derive(Debug)]
pub struct Frozen<'a, L>(pub &'a L);

impl<L> Clone for Frozen<'_, L> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<L> Copy for Frozen<'_, L> {}

impl<L: PartialEq> PartialEq for Frozen<'_, L> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<In, L: Layer<In>> Layer<In> for Frozen<'_, L> {
    type Output = L::Output;
    const FORWARD_STACK: usize = L::FORWARD_STACK;

    #[inline]
    fn forward(&self, input: &In) -> Self::Output {
        self.0.forward(input)
    }
}

/// Nothing to train, nothing in a parameter file.
impl<T, L> Params<T> for Frozen<'_, L> {
    const COUNT: usize = 0;
    type Grads = ();
    #[inline(always)]
    fn visit(&self, _: &mut impl FnMut(&[T])) {}
    #[inline(always)]
    fn visit_mut(&mut self, _: &mut impl FnMut(&mut [T])) {}
    #[inline(always)]
    fn zip_mut<const K: usize>(&mut self, _: [&mut (); K], _: &mut impl FnMut(&mut [T], [&mut [T]; K])) {}
}

/// Nothing to draw: the frozen parameters are what they are.
impl<L> Initialize for Frozen<'_, L> {
    #[inline]
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, _: Sch, _: &mut R) {}
}

impl<In, L> Train<In> for Frozen<'_, L>
where
    In: Tensor,
    L: Layer<In, Output: Tensor<Scalar = In::Scalar>>,
{
    type Cache = ();
    const INPUT_GRADIENT: bool = false;

    /// The evaluation forward of each sample.
    #[inline]
    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&In; B],
        _: [&mut (); B],
        outputs: [&mut Self::Output; B],
        _: &mut R,
    ) {
        for (x, y) in inputs.into_iter().zip(outputs).take(n) {
            *y = self.0.forward(x);
        }
    }

    /// Nothing: no parameters, and no input gradient to give.
    ///
    /// # Panics
    ///
    /// If asked for the input gradient, which no chain and no
    /// [`Trainer`](crate::train::Trainer) does (a trained layer in front of
    /// a `Frozen` part does not compile); only a direct call with
    /// `grad_inputs = Some(..)` can.
    #[inline]
    fn backward_block<const B: usize>(
        &self,
        _: usize,
        _: [&In; B],
        _: [&mut (); B],
        _: [&Self::Output; B],
        _: &mut (),
        grad_inputs: Option<[&mut In; B]>,
    ) {
        assert!(grad_inputs.is_none(), "`Frozen` keeps no cache and cannot give an input gradient");
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    type Body = net![Dense<U3, U5, f64>, Tanh, Dense<U5, U4, f64>, Relu];
    type Head = net![Dense<U4, U6, f64>, Sigmoid, Dense<U6, U2, f64>];

    fn body_and_head(seed: u64) -> (Body, Head) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (mut body, mut head) = (Body::default(), Head::default());
        crate::check::randomize(&mut body, &mut rng);
        crate::check::randomize(&mut head, &mut rng);
        (body, head)
    }

    fn data() -> [(Vector<f64, U3>, usize); 5] {
        let xs = [[0.1, -0.4, 0.9], [1.0, 0.3, -0.2], [-0.7, 0.5, 0.2], [0.0, 0.0, 1.0], [0.6, -0.9, -0.3]];
        core::array::from_fn(|i| (vector(xs[i]), i % 2))
    }

    /// Training a frozen body and a head is training the head on the body's
    /// outputs: the same gradients, the same steps, bit for bit; the body
    /// is not touched.
    #[test]
    fn a_frozen_front_trains_the_head_as_if_on_its_features() {
        let (body, head) = body_and_head(3);
        let body_before = body.clone();
        let mut model = (Frozen(&body), head.clone());
        let mut alone = head;
        let features = data().map(|(x, c)| (body.forward(&x), c));

        let config = Config { batch_size: 2, shuffle: false, ..Config::default() };
        let mut frozen_trainer = Trainer::new(Adam::new(0.01), config);
        let mut head_trainer = Trainer::new(Adam::new(0.01), config);
        let a = frozen_trainer.fit(&mut model, &SoftmaxCrossEntropy, &data(), &mut NoRng).epochs(5).run().unwrap();
        let b = head_trainer.fit(&mut alone, &SoftmaxCrossEntropy, &features, &mut NoRng).epochs(5).run().unwrap();

        assert_eq!(a.last.train, b.last.train);
        assert_eq!(model.1, alone);
        assert_eq!(body, body_before);
        for (x, _) in data() {
            assert_eq!(model.forward(&x), alone.forward(&body.forward(&x)));
        }
    }

    /// The frozen part holds a reference and adds nothing to the
    /// gradients, the optimiser state or the caches but its output.
    #[test]
    fn a_frozen_part_costs_a_pointer_and_its_output() {
        type Model<'a> = (Frozen<'a, Body>, Head);
        assert_eq!(size_of::<Frozen<Body>>(), size_of::<&Body>());
        assert_eq!(<Model as Params<f64>>::COUNT, <Head as Params<f64>>::COUNT);
        assert_eq!(size_of::<<Model as Params<f64>>::Grads>(), size_of::<((), <Head as Params<f64>>::Grads)>());
        type Cache<'a> = <Model<'a> as Train<Vector<f64, U3>>>::Cache;
        type HeadCache = <Head as Train<Vector<f64, U4>>>::Cache;
        // The body's output and its gradient slot, then the head's cache.
        assert_eq!(size_of::<Cache>(), size_of::<HeadCache>() + 2 * size_of::<Vector<f64, U4>>());
        assert!(size_of::<Cache>() < size_of::<<(Body, Head) as Train<Vector<f64, U3>>>::Cache>());
    }

    /// A parameterless front is skipped by the backward pass, and the
    /// gradients of the rest are those of the full backward.
    #[test]
    fn a_parameterless_front_changes_no_gradient() {
        let (body, head) = body_and_head(11);
        let model = (Frozen(&body), head.clone());
        let full = (Identity, head.clone());
        let x = &data()[0].0;
        let features = body.forward(x);
        let dy = vector([0.3, -1.2]);

        let mut cache = Default::default();
        let mut grads = Default::default();
        model.forward_train(x, &mut cache, &mut NoRng);
        model.backward_block(1, [x], [&mut cache], [&dy], &mut grads, None);

        let mut reference_cache = Default::default();
        let mut reference = <(Identity, Head) as Params<f64>>::Grads::default();
        full.forward_train(&features, &mut reference_cache, &mut NoRng);
        full.backward(&features, &mut reference_cache, &dy, &mut reference);
        assert_eq!(grads.1, reference.1);
    }
}
