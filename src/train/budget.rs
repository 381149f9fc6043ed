//! What training takes in memory, from the types alone, and a check at
//! compile time that it fits.

use super::Trainer;
use crate::layer::{Layer, Params, Train};
use crate::optim::Optimizer;
use crate::shape::{ScalarOf, Tensor};
use crate::text::Message;

/// The memory training a model takes, in bytes, known at compile time:
/// [`Trainer::BUDGET`].
///
/// `model + trainer` is the RAM training holds (the model and the
/// [`Trainer`], wherever they are placed: a `static`, a `Box`, the stack);
/// `trainer` is made of the gradients, the optimiser's state, the caches,
/// the outputs and their gradients, and a few words of settings. `stack`
/// is what the passes keep on the stack on top of that
/// ([`Layer::FORWARD_STACK`]: evaluation, and a [`Frozen`] part's forward).
///
/// ```
/// use typenet::prelude::*;
/// use typenet::train::{Budget, Limits};
///
/// type Net = net![Dense<U64, U32>, Relu, Dense<U32, U10>];
/// type Training = Trainer<Net, Vector<f32, U64>, Adam, 8>;
/// let budget: Budget = Training::BUDGET;
/// assert_eq!(budget.model, size_of::<Net>());
/// assert!(budget.optimizer_state >= 2 * budget.gradients); // Adam's two moments and its step
/// assert_eq!(budget.ram(), size_of::<Net>() + size_of::<Training>());
///
/// // Fails the build, with the figures, if training does not fit 64 KiB of
/// // RAM and 4 KiB of stack:
/// const _: () = Training::BUDGET.assert_fits(Limits { ram: 64 * 1024, stack: 4 * 1024 });
/// ```
///
/// A configuration that does not fit does not compile, and the message
/// says which part is over and by how much:
///
/// ```compile_fail,E0080
/// use typenet::prelude::*;
/// use typenet::train::Limits;
/// type Net = net![Dense<U64, U64>, Relu, Dense<U64, U10>];
/// type Training = Trainer<Net, Vector<f32, U64>, Adam, 32>;
/// const _: () = Training::BUDGET.assert_fits(Limits { ram: 96 * 1024, stack: 4 * 1024 });
/// ```
///
/// Its twin, training in blocks of 4 samples, fits:
///
/// ```
/// use typenet::prelude::*;
/// use typenet::train::Limits;
/// type Net = net![Dense<U64, U64>, Relu, Dense<U64, U10>];
/// type Training = Trainer<Net, Vector<f32, U64>, Adam, 4>;
/// const _: () = Training::BUDGET.assert_fits(Limits { ram: 96 * 1024, stack: 4 * 1024 });
/// ```
///
/// [`Frozen`]: crate::layers::Frozen
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Budget {
    /// The model: its parameters (a [`Frozen`](crate::layers::Frozen) part
    /// counts as the reference it is).
    pub model: usize,
    /// The gradients: the shape of the trained parameters.
    pub gradients: usize,
    /// The optimiser's state (Adam: two moments; SGD: nothing).
    pub optimizer_state: usize,
    /// `B` caches: what each layer keeps for its backward pass, with every
    /// layer's output and the gradient with respect to it.
    pub caches: usize,
    /// `B` outputs of the network and `B` gradients with respect to them.
    pub outputs: usize,
    /// The whole [`Trainer`]: the four above and its settings.
    pub trainer: usize,
    /// The values the passes keep on the stack at their deepest
    /// ([`Layer::FORWARD_STACK`]), locals of a few words a layer aside.
    pub stack: usize,
}

/// The memory a target offers training, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// RAM for the model and the trainer.
    pub ram: usize,
    /// Stack for the passes.
    pub stack: usize,
}

impl<M: Train<X>, X: Tensor, O: Optimizer<ScalarOf<X>>, const B: usize> Trainer<M, X, O, B> {
    /// The memory this training takes, from the types: see [`Budget`].
    pub const BUDGET: Budget = Budget {
        model: size_of::<M>(),
        gradients: size_of::<<M as Params<ScalarOf<X>>>::Grads>(),
        optimizer_state: size_of::<O::State<<M as Params<ScalarOf<X>>>::Grads>>(),
        caches: size_of::<[M::Cache; B]>(),
        outputs: 2 * size_of::<[<M as Layer<X>>::Output; B]>(),
        trainer: size_of::<Self>(),
        stack: <M as Layer<X>>::FORWARD_STACK,
    };
}

impl Budget {
    /// The RAM training holds: the model and the trainer.
    pub const fn ram(&self) -> usize {
        self.model + self.trainer
    }

    /// Fails, naming the part over its limit, the excess and every figure
    /// in decimal bytes, unless training fits `limits`. In a `const` item
    /// (`const _: () = …;`) the failure is a build error.
    pub const fn assert_fits(&self, limits: Limits) {
        if self.ram() > limits.ram {
            let mut m = Message::new();
            m.push("typenet budget: training needs ").number(self.ram());
            m.push(" bytes of RAM, over the limit of ").number(limits.ram);
            m.push(" by ").number(self.ram() - limits.ram);
            m.push(" bytes: model ").number(self.model);
            m.push(", trainer ").number(self.trainer);
            m.push(" (gradients ").number(self.gradients);
            m.push(", optimiser state ").number(self.optimizer_state);
            m.push(", caches ").number(self.caches);
            m.push(", outputs and their gradients ").number(self.outputs);
            m.push("); a smaller block B shrinks the caches and outputs, a `Frozen` front the rest");
            m.fail();
        }
        if self.stack > limits.stack {
            let mut m = Message::new();
            m.push("typenet budget: the passes keep ").number(self.stack);
            m.push(" bytes on the stack, over the limit of ").number(limits.stack);
            m.push(" by ").number(self.stack - limits.stack);
            m.push(" bytes (the largest intermediate outputs of one forward pass)");
            m.fail();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    #[test]
    fn the_budget_adds_up_to_the_trainer() {
        type Net = net![Dense<U8, U16>, Relu, Dense<U16, U4>];
        type Training = Trainer<Net, Vector<f32, U8>, Adam, 4>;
        let b = Training::BUDGET;
        assert_eq!(b.gradients, size_of::<Net>());
        assert!(b.optimizer_state >= 2 * b.gradients, "{b:?}"); // two moments and a step count
        let parts = b.gradients + b.optimizer_state + b.caches + b.outputs;
        assert!(b.trainer >= parts && b.trainer - parts <= 64 + crate::memory::LAYER_ALIGN, "{b:?}");
        assert_eq!(b.caches, 4 * size_of::<<Net as Train<Vector<f32, U8>>>::Cache>());
        assert_eq!(b.outputs, 2 * 4 * 4 * 4);
        assert_eq!(b.stack, 4 * (16 + 16 + 4)); // every output of one forward pass
        assert!(std::panic::catch_unwind(|| b.assert_fits(Limits { ram: b.ram(), stack: b.stack })).is_ok());
        let err = std::panic::catch_unwind(|| b.assert_fits(Limits { ram: b.ram() - 1, stack: b.stack })).unwrap_err();
        let text = err.downcast_ref::<std::string::String>().unwrap();
        assert!(text.contains(" over the limit of ") && text.contains(" by 1 bytes: model "), "{text}");
    }
}
