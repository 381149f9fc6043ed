//! A layer written from outside the crate with the public authoring API
//! only, and no `unsafe`: PyTorch's `nn.LayerNorm(N)`, chained, checked
//! against finite differences and trained. (The library has its own
//! `LayerNorm`, over any trailing shape; this one is the demonstration of
//! the contract, and must agree with it.)

#![forbid(unsafe_code)]

use typenet::check::{check_gradients, randomize};
use typenet::init::{Initialize, Scheme};
use typenet::prelude::*;

/// `y = (x − mean x) / √(var x + eps) ⊙ weight + bias` over the `N` features.
#[derive(Clone, Debug, PartialEq)]
pub struct MyLayerNorm<N: ArrayLength, T = f32> {
    pub weight: Vector<T, N>,
    pub bias: Vector<T, N>,
    pub eps: f64,
}

typenet::params! {
    impl[N: ArrayLength, T: Scalar] Params<T> for MyLayerNorm<N, T> {
        weight: Vector<T, N>,
        bias: Vector<T, N>;
        eps: f64 = 1e-5,
    }
}

impl<N: ArrayLength, T: Scalar> Initialize for MyLayerNorm<N, T> {
    /// PyTorch's: weight 1, bias 0, whatever the scheme.
    fn init_with<Sch: Scheme, R: Rng + ?Sized>(&mut self, _: Sch, _: &mut R) {
        self.weight.fill(T::one());
        self.bias.fill(T::zero());
    }
}

/// What backward needs of a sample: the normalised input and 1/σ.
#[derive(Clone, Debug, Default)]
pub struct NormCache<T, N: ArrayLength> {
    x_hat: Vector<T, N>,
    inv_std: T,
}

typenet::zeroable!(impl[T: Scalar, N: ArrayLength] for NormCache<T, N> { x_hat: Vector<T, N>, inv_std: T });

impl<N: ArrayLength, T: Scalar> MyLayerNorm<N, T> {
    fn normalise(&self, x: &Vector<T, N>, cache: &mut NormCache<T, N>, y: &mut Vector<T, N>) {
        let n = T::from_f64(N::USIZE as f64);
        let mean = x.iter().fold(T::zero(), |s, &v| s + v) / n;
        let var = x.iter().fold(T::zero(), |s, &v| s + (v - mean) * (v - mean)) / n;
        cache.inv_std = T::one() / (var + T::from_f64(self.eps)).sqrt();
        for i in 0..N::USIZE {
            cache.x_hat[i] = (x[i] - mean) * cache.inv_std;
            y[i] = cache.x_hat[i] * self.weight[i] + self.bias[i];
        }
    }
}

impl<N: ArrayLength, T: Scalar> Layer<Vector<T, N>> for MyLayerNorm<N, T> {
    type Output = Vector<T, N>;
    fn forward(&self, x: &Vector<T, N>) -> Vector<T, N> {
        let mut y = Vector::default();
        self.normalise(x, &mut NormCache::default(), &mut y);
        y
    }
}

impl<N: ArrayLength, T: Scalar> Train<Vector<T, N>> for MyLayerNorm<N, T> {
    type Cache = NormCache<T, N>;

    fn forward_train_block<R: Rng + ?Sized, const B: usize>(
        &self,
        n: usize,
        inputs: [&Vector<T, N>; B],
        caches: [&mut NormCache<T, N>; B],
        outputs: [&mut Vector<T, N>; B],
        _: &mut R,
    ) {
        for ((x, cache), y) in inputs.into_iter().zip(caches).zip(outputs).take(n) {
            self.normalise(x, cache, y);
        }
    }

    /// `dx = (d − mean d − x̂ · mean(d ⊙ x̂)) / σ` with `d = dy ⊙ weight`.
    fn backward_block<const B: usize>(
        &self,
        n: usize,
        _: [&Vector<T, N>; B],
        caches: [&mut NormCache<T, N>; B],
        grad_outputs: [&Vector<T, N>; B],
        grads: &mut Self,
        grad_inputs: Option<[&mut Vector<T, N>; B]>,
    ) {
        let mut grad_inputs = grad_inputs.map(|dxs| dxs.map(Some)).unwrap_or_else(|| core::array::from_fn(|_| None));
        for ((cache, dy), dx) in caches.into_iter().zip(grad_outputs).zip(&mut grad_inputs).take(n) {
            let (mut mean_d, mut mean_dx_hat) = (T::zero(), T::zero());
            for i in 0..N::USIZE {
                grads.weight[i] = grads.weight[i] + dy[i] * cache.x_hat[i];
                grads.bias[i] = grads.bias[i] + dy[i];
                mean_d = mean_d + dy[i] * self.weight[i] / T::from_f64(N::USIZE as f64);
                mean_dx_hat = mean_dx_hat + dy[i] * self.weight[i] * cache.x_hat[i] / T::from_f64(N::USIZE as f64);
            }
            for (i, dx) in dx.iter_mut().flat_map(|dx| dx.iter_mut()).enumerate() {
                *dx = (dy[i] * self.weight[i] - mean_d - cache.x_hat[i] * mean_dx_hat) * cache.inv_std;
            }
        }
    }
}

#[test]
fn forward_is_pytorchs_layer_norm() {
    let mut norm = MyLayerNorm::<U4, f64>::default();
    assert_eq!((norm.weight[0], norm.eps), (0.0, 1e-5), "zero parameters, eps from the field list");
    norm.init(&mut NoRng);
    let y = norm.forward(&vector([1.0, 2.0, 3.0, 4.0]));
    let sigma = (1.25f64 + 1e-5).sqrt(); // mean 2.5, biased variance 1.25
    let expected = [-1.5 / sigma, -0.5 / sigma, 0.5 / sigma, 1.5 / sigma];
    assert!(y.iter().zip(expected).all(|(y, e)| (y - e).abs() < 1e-15), "{y:?}");
}

/// The layer written here and the library's `LayerNorm<N>` are the same
/// function with the same gradients.
#[test]
fn agrees_with_the_library_layer_norm() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let (mut mine, mut library) = (MyLayerNorm::<U6, f64>::default(), LayerNorm::<U6, f64>::default());
    randomize(&mut mine, &mut rng);
    library.weight = mine.weight;
    library.bias = mine.bias;
    let x = vector([0.3, -1.2, 2.5, 0.0, 0.7, -0.4]);
    let dy = vector([1.0, -0.5, 0.25, 2.0, -1.5, 0.1]);
    let (mut a, mut b) = (Default::default(), Default::default());
    let (ya, yb) = (mine.forward_train(&x, &mut a, &mut NoRng), library.forward_train(&x, &mut b, &mut NoRng));
    let (mut ga, mut gb) = (MyLayerNorm::default(), LayerNorm::default());
    let (dxa, dxb) = (mine.backward(&x, &mut a, &dy, &mut ga), library.backward(&x, &mut b, &dy, &mut gb));
    let close = |p: &[f64], q: &[f64]| p.iter().zip(q).all(|(p, q)| (p - q).abs() < 1e-14);
    assert!(close(&ya, &yb) && close(&dxa, &dxb), "{ya:?} {yb:?} {dxa:?} {dxb:?}");
    assert!(close(&ga.weight, &gb.weight) && close(&ga.bias, &gb.bias));
}

#[test]
fn gradients_match_finite_differences_in_a_chain() {
    type Net = net![Dense<U3, U5, f64>, MyLayerNorm<U5, f64>, Tanh, Dense<U5, U2, f64>];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    let mut net = Net::default();
    randomize(&mut net, &mut rng);
    let report = check_gradients(&mut net, &vector([0.3, -1.1, 0.8]), &mut rng);
    assert!(report.max_rel_error < 1e-6, "{report:?}");
    assert_eq!((report.inputs_checked, report.params_checked), (3, 20 + 10 + 12));
}

#[test]
fn trains_in_a_network_built_in_place() {
    type Net = net![Dense<U2, U16>, MyLayerNorm<U16>, Relu, Dense<U16, U3>];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    let mut slot = Box::<Net>::new_uninit();
    let net = typenet::memory::default_in(&mut slot);
    assert_eq!(net.layer::<U1>().eps, 1e-5);
    net.init(&mut rng);
    // Three classes: the sign pattern of two features, shifted away from the axes.
    let data: Vec<_> = (0..300)
        .map(|_| {
            let (a, b) = (rng.random_range(-1.0f32..1.0), rng.random_range(-1.0f32..1.0));
            let class = if a > 0.0 {
                0
            } else if b > 0.0 {
                1
            } else {
                2
            };
            (vector([a + a.signum() * 0.2, b + b.signum() * 0.2]), class)
        })
        .collect();
    let mut trainer = Trainer::new(Adam::new(0.01), Config { batch_size: 16, ..Config::default() });
    let before = evaluate(net, &SoftmaxCrossEntropy, &data).unwrap();
    trainer.fit(net, &SoftmaxCrossEntropy, &data, &mut rng).epochs(30).run().unwrap();
    let after = evaluate(net, &SoftmaxCrossEntropy, &data).unwrap();
    assert!(after.loss < before.loss / 4.0, "{before:?} → {after:?}");
    assert!(after.accuracy > Some(0.97), "{after:?}");
}
