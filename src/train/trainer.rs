//! The [`Trainer`] and its [`Config`]: the loop from [`Trainer::fit`] over
//! epochs and batches down to one gradient step.

use rand::Rng;

use super::regularize;
use super::report::Tally;
use super::{
    BatchReport, Fit, Metrics, Monitor, Permutation, Position, StepResult, TrainError, clip_grad_norm, grad_norm,
};
use crate::layer::Train;
use crate::loss::Loss;
use crate::memory::zero_in_place;
use crate::optim::{OptimError, Optimizer, Range, checked_rate};
use crate::scalar::Scalar;
use crate::shape::{ScalarOf, Tensor};
use crate::text::Message;
use num_traits::{Float, One, Zero};

/// How to train, besides the optimiser (and its learning-rate
/// [`Schedule`](crate::optim::Schedule)); the numbers are in the model's
/// scalar `T`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Config<T = f32> {
    /// Samples per gradient step; the gradients are averaged over the batch
    /// (the last batch of an epoch may be smaller). Must be at least 1.
    pub batch_size: usize,
    /// L1 penalty `l1·Σ|θ|` over all parameters, 0 for none.
    pub l1: T,
    /// L2 penalty `l2/2·Σθ²` over all parameters, 0 for none: the one
    /// coupled weight decay, for every optimiser, adding `l2·θ` to each
    /// gradient. PyTorch's `weight_decay = l2` of `SGD`, `Adam` and
    /// `RMSprop` (the updates are the same), with two differences: the
    /// penalty counts in the reported training loss (as Keras'
    /// `kernel_regularizer=l2(l2/2)` does), and its gradient is added
    /// before [`clip_norm`](Self::clip_norm) rescales. For AdamW's
    /// decoupled decay use [`Adam::adamw`](crate::optim::Adam::adamw)
    /// instead ([`optim`](crate::optim) compares them).
    pub l2: T,
    /// Rescale the gradients when their global L2 norm exceeds this
    /// (PyTorch's `clip_grad_norm_`); `None` for no clipping.
    pub clip_norm: Option<T>,
    /// Visit the training samples in a new random order every epoch (a
    /// [`Permutation`] drawn from the training `Rng`; the data itself is
    /// not moved), else in the order given.
    pub shuffle: bool,
    /// Leave out the last mini-batch of an epoch when it is smaller than
    /// `batch_size` (PyTorch's `DataLoader(drop_last=True)`): for networks
    /// with batch norm, whose mini-batches need at least 2 samples.
    pub drop_last: bool,
}

impl<T: Scalar> Config<T> {
    /// Checks the settings that have a range: `l1` and `l2` finite and at
    /// least 0, `clip_norm` finite and above 0. The batch size is checked
    /// by the trainer ([`TrainError::ZeroBatchSize`]).
    ///
    /// ```
    /// use typenet::prelude::*;
    /// assert!(Config::<f32>::default().validate().is_ok());
    /// let err = Config { l2: -1e-4f32, ..Config::default() }.validate().unwrap_err();
    /// assert_eq!(err.to_string(), "Config's l2 is -0.0001, it must be finite and at least 0");
    /// ```
    pub fn validate(&self) -> Result<(), OptimError> {
        Range::NonNegative.check("Config", "l1", self.l1)?;
        Range::NonNegative.check("Config", "l2", self.l2)?;
        if let Some(max) = self.clip_norm {
            Range::Positive.check("Config", "clip_norm", max)?;
        }
        Ok(())
    }
}

impl<T: Scalar> Default for Config<T> {
    /// Batch size 32, no penalties, no clipping, shuffled.
    fn default() -> Self {
        Config { batch_size: 32, l1: T::zero(), l2: T::zero(), clip_norm: None, shuffle: true, drop_last: false }
    }
}

/// Models with fewer parameters skip the wide-register copy of the step.
const SMALL_MODEL: usize = 256;

/// The number of samples a [`Trainer`] runs through the network together
/// unless told otherwise (its `B`).
pub const DEFAULT_BLOCK: usize = 32;

/// The largest [`Trainer`], in bytes, that [`Trainer::new`] and
/// [`Trainer::with_block`] return by value: 500,000 bytes; a larger one is
/// a compile error that says what to use instead.
///
/// A trainer returned by value passes through the stack up to twice (also
/// in an unoptimised build), so one of this size needs about 1,000,000
/// bytes of it besides what the passes need: that leaves room on a 2 MiB
/// thread, the size of `std::thread::spawn`'s threads and of the threads
/// `cargo test` runs tests on. Microcontrollers have far smaller stacks:
/// there, build the trainer in a `static` with
/// [`new_in`](Trainer::new_in).
pub const MAX_BY_VALUE: usize = 500_000;

/// The state of training a model `M` on inputs `X` with optimiser `O`.
///
/// Samples go through the network in blocks of up to `B` (a mini-batch of
/// any runtime size is cut into blocks), so layers such as `Dense` work on
/// a matrix of samples at once. The trainer keeps `B` caches and `B` outputs
/// and their gradients, and the backward pass holds `B` of each layer's
/// output gradients with the caches: a smaller `B` (down to 1) saves memory
/// on a microcontroller, the default suits a workstation. The results do not
/// depend on `B` beyond the rounding of sums.
///
/// A network whose samples are coupled in training (batch norm, see
/// [`Train::COUPLES_SAMPLES`]) runs each mini-batch as one block: its
/// batch size must be between 2 and `B`, which [`fit`](Self::fit),
/// [`train_epoch`](Self::train_epoch) and [`step`](Self::step) check
/// before any step, with a [`TrainError`] that says which rule failed.
pub struct Trainer<M: Train<X>, X: Tensor, O: Optimizer<ScalarOf<X>>, const B: usize = DEFAULT_BLOCK> {
    /// The optimiser's hyperparameters (and its schedule).
    pub optimizer: O,
    /// Batch size and regularisation.
    pub config: Config<ScalarOf<X>>,
    grads: M::Grads,
    caches: [M::Cache; B],
    outputs: [M::Output; B],
    grad_outputs: [M::Output; B],
    state: O::State<M::Grads>,
    /// Epochs trained so far: the schedule's epoch of the next step.
    epoch: usize,
}

impl<M: Train<X>, X: Tensor, O: Optimizer<ScalarOf<X>>> Trainer<M, X, O> {
    /// A trainer with zeroed gradients and fresh optimiser state, running
    /// blocks of [`DEFAULT_BLOCK`] samples, returned by value.
    ///
    /// The trainer holds gradients and optimiser state the size of the
    /// model (or twice, for Adam) and a block of caches and outputs, and a
    /// value returned by value passes through the stack. A trainer larger
    /// than [`MAX_BY_VALUE`] (500,000 bytes) does not build this way: the
    /// build fails with a message that gives its size and what to use
    /// instead, [`boxed`](Self::boxed) or [`new_in`](Self::new_in), which
    /// build it where it will live, or a smaller block
    /// ([`with_block`](Trainer::with_block)). A CNN on 28×28 images is one:
    ///
    /// ```compile_fail,E0080
    /// use typenet::prelude::*;
    /// type Cnn = net![Conv2d<U1, U4, U3, U1, U1>, Relu, MaxPool2d<U2>, Flatten, Dense<U784, U10>];
    /// // Blocks of 32 samples, each keeping every layer's output and its gradient: 2 MB.
    /// let trainer = Trainer::<Cnn, Tensor3<f32, U1, U28, U28>, _>::new(Sgd::new(0.1), Config::default());
    /// ```
    ///
    /// Its twin on 8×8 images builds (170 KB):
    ///
    /// ```
    /// use typenet::prelude::*;
    /// type Cnn = net![Conv2d<U1, U4, U3, U1, U1>, Relu, MaxPool2d<U2>, Flatten, Dense<U64, U10>];
    /// let trainer = Trainer::<Cnn, Tensor3<f32, U1, U8, U8>, _>::new(Sgd::new(0.1), Config::default());
    /// assert!(size_of_val(&trainer) <= typenet::train::MAX_BY_VALUE);
    /// ```
    pub fn new(optimizer: O, config: Config<ScalarOf<X>>) -> Self {
        const { Self::check_by_value("new") };
        Self::by_value(optimizer, config)
    }

    /// A trainer like [`new`](Trainer::new) built directly on the heap, of
    /// any size: for models whose caches (a block of every layer's outputs)
    /// would not fit the stack, such as CNNs on 28×28 images. With the model
    /// in a `Box` too ([`default_box`](crate::memory::default_box)), training
    /// needs little stack (the example MNIST models train on a 2 MiB
    /// thread).
    #[cfg(feature = "std")]
    pub fn boxed(optimizer: O, config: Config<ScalarOf<X>>) -> std::boxed::Box<Self> {
        Self::boxed_with_block(optimizer, config)
    }
}

impl<M: Train<X>, X: Tensor, O: Optimizer<ScalarOf<X>>, const B: usize> Trainer<M, X, O, B> {
    /// A trainer like [`new`](Trainer::new) running blocks of `B` samples:
    /// `Trainer::<Net, X, Sgd, 1>::with_block(..)` keeps a single cache.
    /// Like `new`, it returns the trainer by value and so does not build
    /// one larger than [`MAX_BY_VALUE`] bytes.
    pub fn with_block(optimizer: O, config: Config<ScalarOf<X>>) -> Self {
        const { Self::check_by_value("with_block") };
        Self::by_value(optimizer, config)
    }

    /// Built in a slot and moved out once: the trainer passes through the
    /// stack twice at most (the slot and the caller's variable), also
    /// unoptimised, where building its arrays field by field and moving the
    /// struct took six times its size of an unoptimised build's stack.
    #[inline(always)]
    fn by_value(optimizer: O, config: Config<ScalarOf<X>>) -> Self {
        crate::memory::built(|slot| Self::new_in(slot, optimizer, config))
    }

    /// Refuses, at compile time, a trainer too large to return by value
    /// from `call` (`new` or `with_block`), with its size and the ways out.
    const fn check_by_value(call: &str) {
        assert!(B > 0, "the block size B must be at least 1");
        let budget = Self::BUDGET;
        let bytes = budget.trainer;
        if bytes > MAX_BY_VALUE {
            // Each sample of a block keeps a cache, an output and its gradient.
            let per_sample = (budget.caches + budget.outputs) / B;
            let fixed = bytes - B * per_sample + align_of::<Self>();
            let block = if fixed >= MAX_BY_VALUE { 0 } else { (MAX_BY_VALUE - fixed) / per_sample };
            too_large_by_value(call, bytes, B, block);
        }
    }

    /// Builds the trainer in `slot` (a `static`, a field, a `MaybeUninit`
    /// on a stack large enough) without passing it through the stack, of
    /// any size.
    pub fn new_in(slot: &mut core::mem::MaybeUninit<Self>, optimizer: O, config: Config<ScalarOf<X>>) -> &mut Self {
        const { assert!(B > 0, "the block size B must be at least 1") };
        crate::memory::build_in_place!(slot, Trainer {
            zeroed: [grads, caches, outputs, grad_outputs, state],
            written: [optimizer: optimizer, config: config, epoch: 0],
        })
    }

    /// [`boxed`](Trainer::boxed) with blocks of `B` samples.
    #[cfg(feature = "std")]
    pub fn boxed_with_block(optimizer: O, config: Config<ScalarOf<X>>) -> std::boxed::Box<Self> {
        crate::memory::boxed_in(|slot| Self::new_in(slot, optimizer, config))
    }

    /// Forgets the optimiser state (momentum, Adam's moments and step) and
    /// the epoch count ([`epoch`](Self::epoch) is 0 again).
    pub fn reset(&mut self) {
        zero_in_place(&mut self.state);
        self.epoch = 0;
    }

    /// The gradients of the last step (averaged over its batch, penalties
    /// added, clipped).
    pub fn grads(&self) -> &M::Grads {
        &self.grads
    }

    /// Training `model` on `train` with the cost `loss`, drawing each
    /// epoch's order (and dropout) from `rng`: a [`Fit`] whose options are
    /// named, then [`run`](Fit::run). Nothing is trained until `run`.
    ///
    /// ```
    /// use typenet::prelude::*;
    ///
    /// type Xor = net![Dense<U2, U8>, Tanh, Dense<U8, U1>, Sigmoid];
    /// let data = [
    ///     (vector([0.0f32, 0.0]), vector([0.0])),
    ///     (vector([0.0, 1.0]), vector([1.0])),
    ///     (vector([1.0, 0.0]), vector([1.0])),
    ///     (vector([1.0, 1.0]), vector([0.0])),
    /// ];
    /// let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    /// let mut model = Xor::default();
    /// model.init(&mut rng);
    /// let mut trainer = Trainer::new(Adam::new(0.05), Config { batch_size: 4, ..Config::default() });
    /// let report = trainer.fit(&mut model, &Bce, &data, &mut rng).epochs(300).run()?;
    /// assert_eq!(report.epochs, 300);
    /// assert_eq!(evaluate(&model, &Bce, &data).unwrap().accuracy, Some(1.0));
    /// # Ok::<(), typenet::train::TrainError>(())
    /// ```
    ///
    /// The options and their defaults ([`Fit`] says more):
    ///
    /// | option | default |
    /// | --- | --- |
    /// | [`epochs(n)`](Fit::epochs) | 1 (as Keras' `fit`) |
    /// | [`validate_on(&val)`](Fit::validate_on) | no validation set |
    /// | [`monitor(m)`](Fit::monitor) | none (`()`) |
    /// | [`early_stopping(stop)`](Fit::early_stopping) | none: every epoch runs |
    pub fn fit<'a, Y, L, R>(
        &'a mut self,
        model: &'a mut M,
        loss: &'a L,
        train: &'a [(X, Y)],
        rng: &'a mut R,
    ) -> Fit<'a, M, X, O, Y, L, R, (), B>
    where
        L: Loss<M::Output, Y>,
        R: Rng + ?Sized,
    {
        let () = <M as crate::layer::Layer<X>>::FITS; // a model that does not fit the data: the message points here
        Fit::new(self, model, loss, train, rng)
    }

    /// The number of epochs trained so far: [`fit`](Self::fit) counts them
    /// from 0 as it starts, [`train_epoch`](Self::train_epoch) adds one
    /// when its epoch succeeds. The rate of the next step is the
    /// optimiser's for this epoch ([`learning_rate`](Self::learning_rate)).
    pub fn epoch(&self) -> usize {
        self.epoch
    }

    /// Sets the number of epochs trained so far, for a hand-written loop
    /// of [`step`](Self::step)s that follows a schedule (or one that
    /// resumes): the next steps run at the optimiser's rate for `epoch`
    /// (from 0), and the next [`train_epoch`](Self::train_epoch) is number
    /// `epoch + 1`.
    ///
    /// ```
    /// use typenet::optim::StepDecay;
    /// use typenet::prelude::*;
    /// let sgd = Sgd::new(0.1f32).scheduled(StepDecay { every: 10, gamma: 0.5 });
    /// let mut trainer = Trainer::<net![Dense<U1, U1>], Vector<f32, U1>, _>::new(sgd, Config::default());
    /// assert_eq!(trainer.learning_rate(), 0.1);
    /// trainer.set_epoch(10);
    /// assert_eq!(trainer.learning_rate(), 0.05);
    /// ```
    pub fn set_epoch(&mut self, epoch: usize) {
        self.epoch = epoch;
    }

    /// The learning rate of the next step: the optimiser's (its schedule's)
    /// rate at [`epoch`](Self::epoch), `optimizer.rate_at(epoch)`. The
    /// optimiser is the one place the rate is set: change it through
    /// [`optimizer`](Self::optimizer) (`trainer.optimizer.lr = …`).
    pub fn learning_rate(&self) -> ScalarOf<X> {
        self.optimizer.rate_at(self.epoch)
    }

    /// One pass over `train` in mini-batches (in a random order drawn from
    /// `rng` when `config.shuffle`), telling `monitor` of each batch: the
    /// epoch number [`epoch`](Self::epoch)` + 1`, at the optimiser's rate
    /// for it ([`learning_rate`](Self::learning_rate)). On success the
    /// trainer counts the epoch, so a loop of `train_epoch` follows the
    /// optimiser's schedule. Returns the loss and accuracy averaged over the
    /// samples as they were trained. The settings and every target are
    /// checked first.
    pub fn train_epoch<Y, L, R>(
        &mut self,
        model: &mut M,
        loss: &L,
        train: &[(X, Y)],
        rng: &mut R,
        monitor: &mut impl Monitor<ScalarOf<X>>,
    ) -> Result<Metrics<ScalarOf<X>>, TrainError>
    where
        L: Loss<M::Output, Y>,
        R: Rng + ?Sized,
    {
        self.check_settings(Position::Start)?;
        check_data(loss, train, false)?;
        self.next_epoch(model, loss, train, rng, monitor)
    }

    /// The next epoch ([`train_epoch`](Self::train_epoch)) on checked
    /// settings and data, counted when it succeeds.
    pub(super) fn next_epoch<Y, L, R>(
        &mut self,
        model: &mut M,
        loss: &L,
        train: &[(X, Y)],
        rng: &mut R,
        monitor: &mut impl Monitor<ScalarOf<X>>,
    ) -> Result<Metrics<ScalarOf<X>>, TrainError>
    where
        L: Loss<M::Output, Y>,
        R: Rng + ?Sized,
    {
        let (epoch, lr) = (self.epoch + 1, self.learning_rate());
        let metrics = self.run_epoch(model, loss, train, epoch, lr, rng, monitor)?;
        self.epoch = epoch;
        Ok(metrics)
    }

    /// [`train_epoch`](Self::train_epoch) on checked settings and data.
    #[allow(clippy::too_many_arguments)]
    fn run_epoch<Y, L, R>(
        &mut self,
        model: &mut M,
        loss: &L,
        train: &[(X, Y)],
        epoch: usize,
        lr: ScalarOf<X>,
        rng: &mut R,
        monitor: &mut impl Monitor<ScalarOf<X>>,
    ) -> Result<Metrics<ScalarOf<X>>, TrainError>
    where
        L: Loss<M::Output, Y>,
        R: Rng + ?Sized,
    {
        Self::check_rate(lr, Position::Batch { epoch, batch: 0 })?;
        let batch_size = self.config.batch_size;
        let batches = if self.config.drop_last { train.len() / batch_size } else { train.len().div_ceil(batch_size) };
        if batches == 0 {
            return Err(TrainError::EmptyData);
        }
        if M::COUPLES_SAMPLES {
            let last = train.len() - (batches - 1) * batch_size;
            let (first, last_batch) =
                (Position::Batch { epoch, batch: 0 }, Position::Batch { epoch, batch: batches - 1 });
            Self::check_coupled_batch(batch_size.min(train.len())).map_err(|e| e.at(first))?;
            Self::check_coupled_batch(last.min(batch_size)).map_err(|e| e.at(last_batch))?;
        }
        let order =
            if self.config.shuffle { Permutation::new(train.len(), rng) } else { Permutation::identity(train.len()) };
        let mut tally = Tally::new(L::CLASSIFIES);
        for batch in 0..batches {
            let first = batch * batch_size;
            let samples = batch_size.min(train.len() - first);
            let sample = |i: usize| &train[order.get(first + i)];
            let at = Position::Batch { epoch, batch };
            let step = self.step_any(model, loss, samples, sample, lr, rng).map_err(|e| match e {
                // The sample's index in `train`, not in the batch.
                TrainError::NonFiniteLoss { sample, .. } => {
                    TrainError::NonFiniteLoss { at, sample: order.get(first + sample) }
                }
                e => e.at(at),
            })?;
            tally.add(&step, samples);
            monitor.on_batch(&BatchReport { epoch, batch, batches, samples, step });
        }
        Ok(tally.metrics())
    }

    /// One gradient step on `batch`: forward, cost, backward for each
    /// sample, gradients averaged, penalties added, clipped, checked, the
    /// optimiser's update at its rate for the trainer's
    /// [`epoch`](Self::epoch) ([`learning_rate`](Self::learning_rate);
    /// [`set_epoch`](Self::set_epoch) moves it), and the model's buffers
    /// (batch norm's running statistics) updated.
    ///
    /// The settings and the batch's targets are checked first. A step whose
    /// loss, gradients or update would not be finite is refused, and then
    /// the model (parameters and buffers) and the optimiser's state are as
    /// they were.
    ///
    /// ```
    /// use typenet::prelude::*;
    /// use typenet::train::{Position, TrainError};
    ///
    /// let mut model = <net![Dense<U1, U1>]>::default();
    /// model.0.weight[0][0] = 1.0;
    /// // A feature of 1e19: the loss (1e38) and the gradient (2e38) are
    /// // finite in f32, the update at rate 100 (2e40) is not.
    /// let data = [(vector([1e19f32]), vector([0.0f32]))];
    /// let mut trainer = Trainer::new(Sgd::new(100.0), Config { batch_size: 1, ..Config::default() });
    /// let err = trainer.step(&mut model, &Mse, &data, &mut NoRng).unwrap_err();
    /// assert_eq!(err, TrainError::NonFiniteUpdate { at: Position::Step });
    /// assert_eq!(model.0.weight[0][0], 1.0);
    /// ```
    pub fn step<Y, L, R>(
        &mut self,
        model: &mut M,
        loss: &L,
        batch: &[(X, Y)],
        rng: &mut R,
    ) -> Result<StepResult<ScalarOf<X>>, TrainError>
    where
        L: Loss<M::Output, Y>,
        R: Rng + ?Sized,
    {
        self.check_settings(Position::Step)?;
        let lr = self.learning_rate();
        Self::check_rate(lr, Position::Step)?;
        check_data(loss, batch, false)?;
        if M::COUPLES_SAMPLES {
            Self::check_coupled_batch(batch.len())?;
        }
        self.step_any(model, loss, batch.len(), |i| &batch[i], lr, rng)
    }

    /// The batch size, the [`Config`] and the optimiser's hyperparameters,
    /// checked as training starts (`at`).
    pub(super) fn check_settings(&self, at: Position) -> Result<(), TrainError> {
        if self.config.batch_size == 0 {
            return Err(TrainError::ZeroBatchSize);
        }
        let settings = self.config.validate().and_then(|()| self.optimizer.validate());
        settings.map_err(|error| TrainError::Hyperparameter { at, error })
    }

    /// The learning rate of an epoch (or a lone step, `at`): finite and at
    /// least 0 ([`checked_rate`]).
    fn check_rate(lr: ScalarOf<X>, at: Position) -> Result<(), TrainError> {
        let rate = checked_rate(O::NAME, lr);
        rate.map(|_| ()).map_err(|error| TrainError::Hyperparameter { at, error })
    }

    /// A network with coupled samples runs a mini-batch of `len` as one
    /// block, with at least 2 samples.
    fn check_coupled_batch(len: usize) -> Result<(), TrainError> {
        if len > B {
            return Err(TrainError::BatchLargerThanBlock { batch_size: len, block: B });
        }
        if len < 2 {
            return Err(TrainError::SingleSampleBatch { at: Position::Step });
        }
        Ok(())
    }

    /// [`step`](Self::step) on the `len ≥ 1` samples `sample(0..len)`;
    /// its errors are placed at [`Position::Step`] and a sample is named
    /// by its index in the batch.
    #[inline]
    fn step_any<'a, Y: 'a, L, R>(
        &mut self,
        model: &mut M,
        loss: &L,
        len: usize,
        sample: impl Fn(usize) -> &'a (X, Y),
        lr: ScalarOf<X>,
        rng: &mut R,
    ) -> Result<StepResult<ScalarOf<X>>, TrainError>
    where
        X: 'a,
        L: Loss<M::Output, Y>,
        R: Rng + ?Sized,
    {
        // Tiny models run as they are (their loops are shorter than a wide
        // register); others run in a copy of the step built for the widest
        // vectors the CPU has.
        if M::COUNT < SMALL_MODEL {
            return self.step_blocks(model, loss, len, sample, lr, rng);
        }
        crate::kernel::with_best_isa(
            #[inline(always)]
            || self.step_blocks(model, loss, len, sample, lr, rng),
        )
    }

    #[inline(always)]
    fn step_blocks<'a, Y: 'a, L, R>(
        &mut self,
        model: &mut M,
        loss: &L,
        len: usize,
        sample: impl Fn(usize) -> &'a (X, Y),
        lr: ScalarOf<X>,
        rng: &mut R,
    ) -> Result<StepResult<ScalarOf<X>>, TrainError>
    where
        X: 'a,
        L: Loss<M::Output, Y>,
        R: Rng + ?Sized,
    {
        zero_in_place(&mut self.grads);
        let (mut total, mut correct) = (ScalarOf::<X>::zero(), 0usize);
        // Asked only of a cost that classifies (a constant: no test per sample).
        let is_correct = |out: &M::Output, y: &Y| L::CLASSIFIES && loss.is_correct(out, y);
        let scale = ScalarOf::<X>::one() / ScalarOf::<X>::from_usize(len);
        if len == 1 {
            // One sample: the per-sample passes, without the block's arrays.
            let (x, y) = sample(0);
            let out = model.forward_train(x, &mut self.caches[0], rng);
            let sample_loss = loss.loss_grad(&out, y, &mut self.grad_outputs[0]);
            if !sample_loss.is_finite() {
                return Err(TrainError::NonFiniteLoss { at: Position::Step, sample: 0 });
            }
            total = total + sample_loss;
            correct += is_correct(&out, y) as usize;
            model.backward_block(1, [x], [&mut self.caches[0]], [&self.grad_outputs[0]], &mut self.grads, None);
        }
        let mut last_block = 1;
        for first in (0..len).step_by(B).filter(|_| len > 1) {
            let n = B.min(len - first);
            // Slots past `n` repeat the last sample; only `n` are used.
            let samples: [&(X, Y); B] = core::array::from_fn(|b| sample(first + b.min(n - 1)));
            let inputs = samples.map(|(x, _)| x);
            model.forward_train_block(n, inputs, self.caches.each_mut(), self.outputs.each_mut(), rng);
            let targets = self.outputs.iter().zip(self.grad_outputs.iter_mut()).zip(samples).take(n);
            for (b, ((out, dy), (_, y))) in targets.enumerate() {
                let sample_loss = loss.loss_grad(out, y, dy);
                if !sample_loss.is_finite() {
                    return Err(TrainError::NonFiniteLoss { at: Position::Step, sample: first + b });
                }
                total = total + sample_loss;
                correct += is_correct(out, y) as usize;
                // Backward is linear in dL/dy: scaling each output's gradient
                // by 1/len makes the accumulated gradients the batch's mean,
                // with no pass over the parameters to divide them.
                dy.as_flat_mut().iter_mut().for_each(|g| *g = *g * scale);
            }
            let (caches, grad_outputs) = (self.caches.each_mut(), self.grad_outputs.each_ref());
            model.backward_block(n, inputs, caches, grad_outputs, &mut self.grads, None);
            last_block = n;
        }
        let penalty = regularize::add_penalty(model, &mut self.grads, self.config.l1, self.config.l2);
        let norm = match self.config.clip_norm {
            Some(max) => clip_grad_norm(&mut self.grads, max),
            None => grad_norm(&self.grads),
        };
        if !norm.is_finite() {
            return Err(TrainError::NonFiniteGradient { at: Position::Step });
        }
        // A network with buffers couples its samples, so its mini-batch was
        // one block: the caches hold the statistics of the whole batch. The
        // buffers are checked before anything is written, the parameters
        // and the optimiser's state by the optimiser itself, all or nothing.
        if !model.buffers_stay_finite(last_block, self.caches.each_ref()) {
            return Err(TrainError::NonFiniteUpdate { at: Position::Step });
        }
        // Settings and rate were checked as the epoch (or the lone step) began.
        let update = self.optimizer.update(model, &mut self.grads, &mut self.state, lr);
        update.map_err(|error| TrainError::from_optimizer(error, Position::Step))?;
        model.update_buffers(last_block, self.caches.each_ref());
        let correct = L::CLASSIFIES.then_some(correct);
        Ok(StepResult { loss: total / ScalarOf::<X>::from_usize(len) + penalty, correct, grad_norm: norm })
    }
}

pub(super) fn check_data<X, Y, L: Loss<O, Y>, O: Tensor>(
    loss: &L,
    data: &[(X, Y)],
    validation: bool,
) -> Result<(), TrainError> {
    if data.is_empty() {
        return Err(TrainError::EmptyData);
    }
    for (sample, (_, y)) in data.iter().enumerate() {
        loss.check_target(y).map_err(|error| TrainError::BadTarget { validation, sample, error })?;
    }
    Ok(())
}

/// Fails the build, saying that `call` will not return a trainer of
/// `bytes` bytes (blocks of `b`) by value and what to use instead; `block`
/// is the largest block that would fit, 0 for none.
const fn too_large_by_value(call: &str, bytes: usize, b: usize, block: usize) -> ! {
    let mut m = Message::new();
    m.push("`Trainer::").push(call).push("` would return a trainer of ").number(bytes);
    m.push(" bytes (blocks of ").number(b).push(" samples) by value, through the stack, and MAX_BY_VALUE is ");
    m.number(MAX_BY_VALUE).push(" bytes: build it where it will live with `Trainer::boxed` (on the heap) or ");
    m.push("`Trainer::new_in` (in a `static` or a `MaybeUninit`)");
    if block == 0 {
        m.push("; no block size is small enough for `with_block`");
    } else {
        m.push(", or run blocks of at most ").number(block).push(" samples with `Trainer::<_, _, _, ");
        m.number(block).push(">::with_block`");
    }
    m.fail()
}
