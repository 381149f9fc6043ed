use typenet::prelude::*;

// The twin of `evaluate_data_width.rs`: 12 features for a model that takes 12.
type Net = net![Dense<U12, U16>, Relu, Dense<U16, U3>];

fn main() {
    let model = Net::default();
    let test: Vec<(Vector<f32, U12>, usize)> = vec![(Default::default(), 0)];
    let _ = evaluate(&model, &SoftmaxCrossEntropy, &test);
}
