use typenet::Scalar;

// The crate's kernels are not part of its API: a `Scalar` bound does not
// reach `sum_squares`, even though every `Scalar` implements it.
fn energy<T: Scalar>(values: &[T]) -> T {
    T::sum_squares(values)
}

fn main() {
    assert_eq!(energy(&[3.0f32, 4.0]), 25.0);
}
