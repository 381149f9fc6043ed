//! Compile-fail tests: shapes that do not fit must not build, and the
//! message must name the layer; the crate's kernels must stay out of
//! reach. Each failing case has a twin in `ui/pass/` that differs in one
//! size (or one call) and builds.

#[test]
fn shape_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
