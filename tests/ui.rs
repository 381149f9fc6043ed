//! Compile-fail tests: shapes that do not fit must not build, and the
//! message must name the layer; the crate's kernels must stay out of
//! reach. Each failing case has a twin in `ui/pass/` that differs in one
//! size (or one call) and builds.
//!
//! trybuild builds typenet and its dev-dependencies again in a target
//! directory of its own, which takes minutes on a fresh clone, so plain
//! `cargo test` skips this; `.ci/run` runs it as its own step:
//! `cargo test --test ui -- --ignored`.

#[test]
#[ignore = "builds typenet again (minutes); run with `cargo test --test ui -- --ignored`, as .ci/run does"]
fn shape_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
