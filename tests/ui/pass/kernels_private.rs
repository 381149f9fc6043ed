use typenet::Scalar;

// The same sum through the public API of `Scalar`.
fn energy<T: Scalar>(values: &[T]) -> f64 {
    values.iter().map(|&v| v.to_f64() * v.to_f64()).sum()
}

fn main() {
    assert_eq!(energy(&[3.0f32, 4.0]), 25.0);
}
