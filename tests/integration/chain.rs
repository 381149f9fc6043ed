//! Chains of layers: gradients through a deep chain, typed access, XOR.

use typenet::check::{check_gradients, randomize};
use typenet::prelude::*;

type Five = net![Dense<U4, U6, f64>, Tanh, Dense<U6, U5, f64>, Gelu, Dense<U5, U3, f64>];

#[test]
fn five_layer_chain_passes_the_gradient_check() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let mut net = Five::default();
    randomize(&mut net, &mut rng);
    let x = vector([0.4, -1.3, 0.8, 2.1]);
    let report = check_gradients(&mut net, &x, &mut rng);
    assert!(report.max_rel_error < 1e-6, "{report:?}");
    assert_eq!(report.inputs_checked, 4);
    assert_eq!(report.params_checked, (4 * 6 + 6) + (6 * 5 + 5) + (5 * 3 + 3));
}

#[test]
fn every_activation_in_one_chain_passes_the_gradient_check() {
    type All = net![
        Dense<U3, U6, f64>, Sigmoid, Dense<U6, U6, f64>, Relu, Dense<U6, U6, f64>, LeakyRelu<f64>,
        Dense<U6, U6, f64>, Elu<f64>, Dense<U6, U6, f64>, GeluTanh, Dense<U6, U6, f64>, Silu,
        Dense<U6, U6, f64>, Softplus, Identity, Dense<U6, U4, f64>, LogSoftmax
    ];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(12);
    let mut net = All::default();
    randomize(&mut net, &mut rng);
    let report = check_gradients(&mut net, &vector([0.7, -0.4, 1.9]), &mut rng);
    assert!(report.max_rel_error < 1e-6, "{report:?}");
    assert_eq!(<All as Chain>::LEN, 17);
}

#[test]
fn skipping_the_input_gradient_keeps_the_parameter_gradients() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(13);
    let mut net = Five::default();
    randomize(&mut net, &mut rng);
    let x = vector([0.4, -1.3, 0.8, 2.1]);
    let mut cache = Default::default();
    net.forward_train(&x, &mut cache, &mut NoRng);
    let dy = vector([1.0, -0.5, 0.25]);
    let mut a = <Five as Params<f64>>::Grads::default();
    let mut b = <Five as Params<f64>>::Grads::default();
    net.backward(&x, &mut cache, &dy, &mut a);
    net.backward_block(1, [&x], [&mut cache], [&dy], &mut b, None);
    assert_eq!(a, b);
}

#[test]
fn training_forward_equals_inference_forward() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(14);
    let mut net = Five::default();
    randomize(&mut net, &mut rng);
    let x = vector([0.1, 0.2, -0.3, 0.4]);
    let mut cache = Default::default();
    assert_eq!(net.forward(&x), net.forward_train(&x, &mut cache, &mut NoRng));
}

#[test]
fn layers_are_reached_by_typed_index() {
    let mut net = Five::default();
    net.layer_mut::<U4>().bias[2] = 7.0;
    typenum::assert_type_eq!(LayerOf<Five, U4>, Dense<U5, U3, f64>);
    typenum::assert_type_eq!(LayerOf<Five, U1>, Tanh);
    assert_eq!(net.layer::<U4>().bias.as_slice(), &[0.0, 0.0, 7.0]);
    assert_eq!(net.forward(&vector([1.0, 1.0, 1.0, 1.0])).as_slice(), &[0.0, 0.0, 7.0]);
    // Gradients nest like the network and are indexed the same way.
    let grads = <Five as Params<f64>>::Grads::default();
    let g: &Dense<U5, U3, f64> = grads.layer::<U4>();
    assert_eq!(g.weight.len(), 3);
}

#[test]
fn parameters_are_visited_in_pytorch_order() {
    let mut net = <net![Dense<U2, U3>, Relu, Dense<U3, U1>]>::default();
    let mut k = 0.0;
    net.visit_mut(&mut |t| {
        for p in t {
            *p = k;
            k += 1.0;
        }
    });
    // state_dict order: 0.weight [3][2], 0.bias [3], 2.weight [1][3], 2.bias [1]
    assert_eq!(net.0.weight[1].as_slice(), &[2.0, 3.0]);
    assert_eq!(net.0.bias.as_slice(), &[6.0, 7.0, 8.0]);
    assert_eq!(net.1.1.0.weight[0].as_slice(), &[9.0, 10.0, 11.0]);
    assert_eq!(net.1.1.0.bias[0], 12.0);
    assert_eq!(k, 13.0);
}

#[test]
fn sixteen_layer_chain_builds_and_runs() {
    type Deep = net![
        Dense<U8, U8>, Relu, Dense<U8, U8>, Relu, Dense<U8, U8>, Relu, Dense<U8, U8>, Relu,
        Dense<U8, U8>, Relu, Dense<U8, U8>, Relu, Dense<U8, U8>, Relu, Dense<U8, U4>, Softmax
    ];
    let net = Deep::default();
    let y = net.forward(&vector([1.0f32; 8]));
    assert_eq!(y.as_slice(), &[0.25; 4]);
    assert_eq!(<Deep as Chain>::LEN, 16);
    assert_eq!(size_of::<Deep>(), 7 * padded((8 * 8 + 8) * 4) + padded((4 * 8 + 4) * 4));
}

#[test]
fn a_network_holds_nothing_but_parameters() {
    type Mlp = net![Dense<U64, U32>, Relu, Dense<U32, U10>, Softmax];
    assert_eq!(size_of::<Mlp>(), padded((64 * 32 + 32) * 4) + padded((32 * 10 + 10) * 4));
    assert_eq!(size_of::<Dense<U64, U32>>(), (64 * 32 + 32) * 4);
}

/// A layer's bytes of parameters rounded up to its alignment (a cache line
/// on x86-64; nothing on a microcontroller).
fn padded(bytes: usize) -> usize {
    bytes.next_multiple_of(typenet::memory::LAYER_ALIGN)
}

type Xor = net![Dense<U2, U4>, Sigmoid, Dense<U4, U1>, Sigmoid];

/// The XOR network trained by a hand-written SGD loop on the squared error.
fn train_xor(seed: u64) -> (Xor, usize) {
    let data = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut net = Xor::default();
    randomize(&mut net, &mut rng);
    let mut cache = Default::default();
    for _ in 0..4000 {
        for (x, t) in data {
            let x = vector(x);
            let y: Vector<f32, U1> = net.forward_train(&x, &mut cache, &mut NoRng);
            let mut grads = <Xor as Params<f32>>::Grads::default();
            net.backward(&x, &mut cache, &vector([2.0 * (y[0] - t)]), &mut grads);
            net.zip_mut([&mut grads], &mut |p, [g]| {
                for (p, g) in p.iter_mut().zip(g.iter()) {
                    *p -= 0.5 * g;
                }
            });
        }
    }
    let correct = data.iter().filter(|(x, t)| (net.forward(&vector(*x))[0] > 0.5) == (*t > 0.5)).count();
    (net, correct)
}

#[test]
fn xor_is_learned_by_a_hand_written_sgd_loop() {
    let (net, correct) = train_xor(2);
    assert_eq!(correct, 4);
    assert!(net.forward(&vector([1.0, 0.0]))[0] > 0.9);
    assert!(net.forward(&vector([1.0, 1.0]))[0] < 0.1);
}
