//! Placing large models without copying them through the stack.
//!
//! `Box::new(Model::default())` builds the value on the stack first and then
//! moves it, which overflows small stacks (a thread's, a microcontroller's)
//! long before the heap or a `static` runs out. [`default_in`] and
//! [`default_box`] build a model's `Default` directly where it will live:
//!
//! ```
//! use typenet::prelude::*;
//! use core::mem::MaybeUninit;
//!
//! type Mlp = net![Dense<U784, U128>, LeakyRelu, Dense<U128, U10>];
//!
//! // In a `static` or any other slot, with no allocator:
//! let mut slot = MaybeUninit::<Mlp>::uninit();
//! let mlp: &mut Mlp = typenet::memory::default_in(&mut slot);
//! assert_eq!(mlp.layer::<U2>().bias[9], 0.0);
//! assert_eq!(mlp.layer::<U1>().slope, 0.01); // hyperparameters keep their defaults
//!
//! // On the heap (with `std`):
//! # #[cfg(feature = "std")] {
//! let mlp: Box<Mlp> = typenet::memory::default_box();
//! # }
//! ```
//!
//! Two traits make this work. [`Zeroable`] says that all-zero bytes are a
//! valid value of a type; [`DefaultInPlace`] turns such a zero value into
//! the type's `Default` without moving it (nothing to do for parameters,
//! which default to zero; hyperparameters such as
//! [`LeakyRelu`](crate::layers::LeakyRelu)'s slope are written). Layers get
//! both from [`params!`](crate::params), caches and optimiser state get
//! `Zeroable` from [`zeroable!`](crate::zeroable): neither asks its author
//! for `unsafe`.

use core::marker::PhantomData;
use core::mem::MaybeUninit;

use generic_array::{ArrayLength, GenericArray};

use crate::shape::Tensor;

/// The alignment of every layer that holds parameters (`Dense`, the
/// convolutions, the recurrent layers), in bytes, and so of their gradients
/// and optimiser state: a cache line on x86-64, where the kernels' 64-byte
/// vector loads and stores would otherwise straddle two lines (a model at
/// an unlucky address trained up to a fifth slower); elsewhere 1, adding
/// nothing to the scalar's own alignment.
///
/// A layer's `size_of` is its parameters rounded up to a multiple of this,
/// which on a microcontroller is exactly its parameters:
///
/// ```
/// use typenet::prelude::*;
/// use typenet::memory::LAYER_ALIGN;
/// type Layer = Dense<U3, U2>; // 8 parameters, 32 bytes
/// assert_eq!(size_of::<Layer>(), (8 * 4usize).next_multiple_of(LAYER_ALIGN));
/// assert_eq!(align_of::<Layer>(), LAYER_ALIGN.max(4));
/// ```
pub const LAYER_ALIGN: usize = if cfg!(target_arch = "x86_64") { 64 } else { 1 };

/// Tensor `X` from the first `size_of::<X>()` bytes of `bytes`, read as
/// little-endian scalars (a parameter file's values), at compile time or
/// at run time. A build for a big-endian target, or too few bytes, fails
/// where it is evaluated.
#[doc(hidden)]
pub const fn tensor_from_le_bytes<X: Tensor>(bytes: &[u8]) -> X {
    const { assert!(cfg!(target_endian = "little"), "embedded parameters are little-endian, as the targets typenet knows") };
    assert!(bytes.len() >= size_of::<X>(), "the embedded parameter file ends inside a tensor");
    let mut value = MaybeUninit::<X>::uninit();
    // SAFETY: `Tensor` is sealed: `X` is an `f32` or `f64`, or nested
    // `GenericArray`s of one (`repr(transparent)` arrays), so it is
    // `size_of::<X>()` bytes of scalars with no padding, for which every
    // bit pattern is a value; the bytes are in the target's order (checked
    // above), and `bytes` holds at least that many and does not overlap the
    // new value.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), value.as_mut_ptr().cast::<u8>(), size_of::<X>());
        value.assume_init()
    }
}

/// Types for which all-zero bytes are a valid value (not necessarily the
/// `Default`: see [`DefaultInPlace`]).
///
/// Derive it with [`zeroable!`](crate::zeroable) (or, for a layer,
/// [`params!`](crate::params)), which checks every field at compile time.
///
/// # Safety
///
/// Implement only for types made of numbers, `bool`s and other `Zeroable`
/// types, with no references, pointers, `NonZero*` or enums whose zero
/// discriminant is not a variant.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not known to be valid as all-zero bytes",
    note = "list the type's fields in `typenet::zeroable!` (or `typenet::params!` for a layer)"
)]
pub unsafe trait Zeroable {}

/// Types whose `Default` can be built in place from all-zero bytes: the
/// zero value is valid ([`Zeroable`]) and
/// [`zeroed_to_default`](DefaultInPlace::zeroed_to_default) turns it into
/// `Self::default()` without moving it.
///
/// Numbers, arrays and tensors default to zero and need nothing; a layer's
/// hyperparameters are written by the impl [`params!`](crate::params)
/// generates; chains recurse.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be built in place",
    note = "declare the layer's fields with `typenet::params!`, which implements `DefaultInPlace`"
)]
pub trait DefaultInPlace: Zeroable + Default {
    /// Turns the all-zero value in `self` into `Self::default()`, in place.
    fn zeroed_to_default(&mut self);
}

macro_rules! zero_is_default {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: zero is a valid value of every number type and `false` of `bool`.
        unsafe impl Zeroable for $t {}
        impl DefaultInPlace for $t {
            #[inline(always)]
            fn zeroed_to_default(&mut self) {}
        }
    )*};
}
zero_is_default!(f32, f64, u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, bool, ());

// SAFETY: a generic array is `N` contiguous `X`s and nothing else.
unsafe impl<X: Zeroable, N: ArrayLength> Zeroable for GenericArray<X, N> {}
// SAFETY: an array is `N` contiguous `X`s and nothing else.
unsafe impl<X: Zeroable, const N: usize> Zeroable for [X; N] {}
// SAFETY: `PhantomData` holds nothing.
unsafe impl<X: ?Sized> Zeroable for PhantomData<X> {}
// SAFETY: tuples hold their fields and padding only.
unsafe impl<A: Zeroable> Zeroable for (A,) {}
// SAFETY: as above.
unsafe impl<A: Zeroable, B: Zeroable> Zeroable for (A, B) {}
// SAFETY: as above.
unsafe impl<A: Zeroable, B: Zeroable, C: Zeroable> Zeroable for (A, B, C) {}

impl<X: DefaultInPlace, N: ArrayLength> DefaultInPlace for GenericArray<X, N> {
    #[inline]
    fn zeroed_to_default(&mut self) {
        self.iter_mut().for_each(X::zeroed_to_default);
    }
}

impl<X: DefaultInPlace, const N: usize> DefaultInPlace for [X; N]
where
    [X; N]: Default,
{
    #[inline]
    fn zeroed_to_default(&mut self) {
        self.iter_mut().for_each(X::zeroed_to_default);
    }
}

impl<X: ?Sized> DefaultInPlace for PhantomData<X> {
    #[inline(always)]
    fn zeroed_to_default(&mut self) {}
}

impl<A: DefaultInPlace> DefaultInPlace for (A,) {
    #[inline]
    fn zeroed_to_default(&mut self) {
        self.0.zeroed_to_default();
    }
}

impl<A: DefaultInPlace, B: DefaultInPlace> DefaultInPlace for (A, B) {
    #[inline]
    fn zeroed_to_default(&mut self) {
        self.0.zeroed_to_default();
        self.1.zeroed_to_default();
    }
}

impl<A: DefaultInPlace, B: DefaultInPlace, C: DefaultInPlace> DefaultInPlace for (A, B, C) {
    #[inline]
    fn zeroed_to_default(&mut self) {
        self.0.zeroed_to_default();
        self.1.zeroed_to_default();
        self.2.zeroed_to_default();
    }
}

/// The scalars of a tensor's items, as one flat slice in row-major order.
#[inline(always)]
pub(crate) fn flat<X: Tensor>(items: &[X]) -> &[X::Scalar] {
    const { assert!(size_of::<X>() == X::LEN * size_of::<X::Scalar>()) };
    // SAFETY: `X` is a scalar or a nested `GenericArray` of scalars (the
    // `Tensor` trait is sealed), so it holds exactly `X::LEN` scalars with no
    // padding (checked above), and a slice holds its items contiguously.
    unsafe { core::slice::from_raw_parts(items.as_ptr().cast(), items.len() * X::LEN) }
}

/// The scalars of a tensor's items, as one flat slice, mutably.
#[inline(always)]
pub(crate) fn flat_mut<X: Tensor>(items: &mut [X]) -> &mut [X::Scalar] {
    const { assert!(size_of::<X>() == X::LEN * size_of::<X::Scalar>()) };
    // SAFETY: as in `flat`, and the borrow is unique.
    unsafe { core::slice::from_raw_parts_mut(items.as_mut_ptr().cast(), items.len() * X::LEN) }
}

/// The `i8`s of int8 tensors, as one flat slice in row-major order.
#[inline(always)]
pub(crate) fn flat_i8<X: crate::quant::Int8Tensor>(items: &[X]) -> &[i8] {
    const { assert!(size_of::<X>() == X::LEN) };
    // SAFETY: `X` is `i8` or a nested `GenericArray` of `i8` (the
    // `Int8Tensor` trait is sealed), so it holds exactly `X::LEN` bytes with
    // no padding (checked above), and a slice holds its items contiguously.
    unsafe { core::slice::from_raw_parts(items.as_ptr().cast(), items.len() * X::LEN) }
}

/// The `i8`s of int8 tensors, as one flat slice, mutably.
#[inline(always)]
pub(crate) fn flat_i8_mut<X: crate::quant::Int8Tensor>(items: &mut [X]) -> &mut [i8] {
    const { assert!(size_of::<X>() == X::LEN) };
    // SAFETY: as in `flat_i8`, and the borrow is unique.
    unsafe { core::slice::from_raw_parts_mut(items.as_mut_ptr().cast(), items.len() * X::LEN) }
}

/// Builds `T::default()` in `slot` and returns it: no copy through the
/// stack, no allocator.
pub fn default_in<T: DefaultInPlace>(slot: &mut MaybeUninit<T>) -> &mut T {
    let value = zeroed_in(slot);
    value.zeroed_to_default();
    value
}

/// `T::default()` built directly on the heap.
#[cfg(feature = "std")]
pub fn default_box<T: DefaultInPlace>() -> std::boxed::Box<T> {
    boxed_in(default_in)
}

/// Sets `value` back to `T::default()` in place.
pub fn reset<T: DefaultInPlace>(value: &mut T) {
    zero_in_place(value);
    value.zeroed_to_default();
}

/// Zero-fills `slot` in place and returns the value. Crate-private: zero is
/// a valid value, not always the right one (see [`default_in`]).
pub(crate) fn zeroed_in<T: Zeroable>(slot: &mut MaybeUninit<T>) -> &mut T {
    // SAFETY: `T: Zeroable`, so all-zero bytes are a valid `T`.
    unsafe {
        slot.as_mut_ptr().write_bytes(0, 1);
        slot.assume_init_mut()
    }
}

/// Sets `value` to all-zero bytes in place: gradients and optimiser state,
/// whose right starting value is zero.
pub(crate) fn zero_in_place<T: Zeroable>(value: &mut T) {
    // SAFETY: `T: Zeroable`, so all-zero bytes are a valid `T`; Zeroable
    // types hold no resources, so nothing is leaked by not dropping.
    unsafe { (value as *mut T).write_bytes(0, 1) }
}

/// A `T` built on the heap by `init`, which fills the slot and returns it.
#[cfg(feature = "std")]
pub(crate) fn boxed_in<T>(init: impl FnOnce(&mut MaybeUninit<T>) -> &mut T) -> std::boxed::Box<T> {
    let mut boxed = std::boxed::Box::<T>::new_uninit();
    let slot: *const MaybeUninit<T> = &*boxed;
    let value: *const T = init(&mut boxed);
    assert!(core::ptr::eq(value, slot.cast()), "`init` must return the value it built in the slot");
    // SAFETY: `init` returned a reference to the slot's value, which it
    // could only have as an initialised `T` (checked above).
    unsafe { boxed.assume_init() }
}

/// A `T` built by `init` in a slot of its own and returned by value: the
/// one copy a value returned by value needs (out of the slot), however it
/// was built, also in an unoptimised build.
pub(crate) fn built<T>(init: impl FnOnce(&mut MaybeUninit<T>) -> &mut T) -> T {
    let mut slot = MaybeUninit::uninit();
    let value: *const T = init(&mut slot);
    assert!(core::ptr::eq(value, slot.as_ptr()), "`init` must return the value it built in the slot");
    // SAFETY: `init` returned a reference to the slot's value, which it
    // could only have as an initialised `T` (checked above); it is read
    // once, and a `MaybeUninit` never drops it. (A read rather than
    // `assume_init`, whose by-value argument is one more copy on the stack
    // of an unoptimised build.)
    unsafe { slot.as_ptr().read() }
}

/// Type-checks `check` against `slot` without calling it: the field-list
/// check of `build_in_place!`.
#[inline(always)]
pub(crate) fn same_slot<T>(_: &mut MaybeUninit<T>, _: impl FnOnce(&mut MaybeUninit<T>)) {}

/// Zero-fills the `Zeroable` value behind `field`.
///
/// # Safety
///
/// `field` must be valid for writes (a field of a slot being built).
pub(crate) unsafe fn zero_field<Z: Zeroable>(field: *mut Z) {
    // SAFETY: the caller's promise; zero is a valid `Z`.
    unsafe { field.write_bytes(0, 1) }
}

/// Builds a struct in `slot` field by field and returns it, for values too
/// large to build on the stack and move (the
/// [`Trainer`](crate::train::Trainer)): the `zeroed` fields are zero-filled
/// (they must be `Zeroable`), the `written` ones written whole.
///
/// Its soundness is checked: the struct literal in the never-called closure
/// does not compile unless every field is named exactly once.
macro_rules! build_in_place {
    ($slot:expr, $name:ident { zeroed: [$($zeroed:ident),* $(,)?], written: [$($field:ident: $value:expr),* $(,)?] $(,)? }) => {{
        let slot: &mut core::mem::MaybeUninit<_> = $slot;
        // Never called: proves that the fields below are all the struct's.
        // (A closure, so that even an unoptimised build reserves no stack for
        // the whole struct.)
        $crate::memory::same_slot(
            &mut *slot,
            #[allow(unreachable_code, clippy::diverging_sub_expression)]
            |slot| {
                slot.write($name { $($zeroed: unreachable!(),)* $($field: unreachable!(),)* });
            },
        );
        // The values are computed outside the `unsafe` block below.
        $(#[allow(clippy::redundant_locals)] let $field = $value;)*
        let this = slot.as_mut_ptr();
        // SAFETY: `this` points to the slot; every field is written exactly
        // once (the struct literal in the closure above names them all), the
        // zero-filled ones are `Zeroable` (`zero_field`'s bound), so the
        // value is initialised when the slot is assumed so.
        unsafe {
            $($crate::memory::zero_field(&raw mut (*this).$zeroed);)*
            $((&raw mut (*this).$field).write($field);)*
            slot.assume_init_mut()
        }
    }};
}
pub(crate) use build_in_place;

/// Implements [`Zeroable`] for a struct from the list of all its fields,
/// checked at compile time: the build fails if a field is missing from the
/// list, a listed type is not the field's, or a field is not `Zeroable`.
/// No `unsafe` on the caller's side.
///
/// `impl[generics] for Type<args> { field: FieldType, … }`; a tuple
/// struct's fields are named `0`, `1`, ….
///
/// ```
/// use typenet::prelude::*;
/// use typenet::memory::Zeroable;
///
/// /// What a layer keeps for its backward pass.
/// #[derive(Clone, Debug, Default)]
/// pub struct NormCache<T, N: ArrayLength> {
///     centred: Vector<T, N>,
///     inv_std: T,
/// }
/// typenet::zeroable!(impl[T: Scalar, N: ArrayLength] for NormCache<T, N> { centred: Vector<T, N>, inv_std: T });
///
/// fn zeroable<Z: Zeroable>() {}
/// zeroable::<NormCache<f32, U4>>();
/// ```
///
/// A field left out does not compile:
///
/// ```compile_fail,E0027
/// #[derive(Default)]
/// pub struct Pair { a: f32, b: f32 }
/// typenet::zeroable!(impl[] for Pair { a: f32 });
/// ```
///
/// Its twin, with both fields, does:
///
/// ```
/// #[derive(Default)]
/// pub struct Pair { a: f32, b: f32 }
/// typenet::zeroable!(impl[] for Pair { a: f32, b: f32 });
/// ```
#[macro_export]
macro_rules! zeroable {
    (impl[$($gen:tt)*] for $name:ident $(<$($arg:ty),* $(,)?>)? { $($field:tt: $fty:ty),* $(,)? }) => {
        const _: () = {
            #[allow(dead_code)]
            fn every_field_is_listed_and_zeroable<$($gen)*>(value: &$name $(<$($arg),*>)?) {
                let $name { $($field: _),* } = value;
                $($crate::memory::is_zeroable::<$fty>(&value.$field);)*
            }
        };
        // SAFETY: `every_field_is_listed_and_zeroable` above compiles only if
        // the list holds every field of the struct, each `Zeroable`.
        unsafe impl<$($gen)*> $crate::memory::Zeroable for $name $(<$($arg),*>)? {}
    };
}

/// The compile-time check behind [`zeroable!`](crate::zeroable).
#[doc(hidden)]
#[inline(always)]
pub fn is_zeroable<Z: Zeroable>(_: &Z) {}

#[cfg(test)]
mod tests {
    use core::mem::MaybeUninit;

    use super::{default_in, reset};
    use crate::prelude::*;

    /// Built in place, a model equals its `Default`, hyperparameters
    /// included (zero-filling alone gave a slope and a rate of 0).
    #[test]
    fn default_in_keeps_every_hyperparameter() {
        type Net = net![Dense<U3, U4>, LeakyRelu, Dropout, Elu, Dense<U4, U2>];
        let mut slot = MaybeUninit::<Net>::uninit();
        let net = default_in(&mut slot);
        assert!(*net == Net::default());
        assert_eq!((net.layer::<U1>().slope, net.layer::<U2>().rate, net.layer::<U3>().alpha), (0.01, 0.5, 1.0));

        net.layer_mut::<U1>().slope = 0.2;
        net.layer_mut::<U0>().bias[1] = 3.0;
        reset(net);
        assert!(*net == Net::default());
    }
}
