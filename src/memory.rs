//! Placing large models without copying them through the stack.
//!
//! `Box::new(Model::default())` builds the value on the stack first and then
//! moves it, which overflows small stacks (a thread's, a microcontroller's)
//! long before the heap or a `static` runs out. Everything in this crate
//! that holds numbers, models, gradients, caches and optimiser state, is
//! valid as all-zero bytes, marked by [`Zeroable`], so it can be created
//! directly where it will live:
//!
//! ```
//! use typenet::prelude::*;
//! use core::mem::MaybeUninit;
//!
//! type Mlp = net![Dense<U784, U128>, Relu, Dense<U128, U10>];
//!
//! // In a `static` or any other slot, with no allocator:
//! let mut slot = MaybeUninit::<Mlp>::uninit();
//! let mlp: &mut Mlp = typenet::memory::zeroed_in(&mut slot);
//! assert_eq!(mlp.layer::<U2>().bias[9], 0.0);
//!
//! // On the heap (with `std`):
//! # #[cfg(feature = "std")] {
//! let mlp: Box<Mlp> = typenet::memory::zeroed_box();
//! # }
//! ```

use core::mem::MaybeUninit;

use generic_array::{ArrayLength, GenericArray};

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

/// Types for which all-zero bytes are a valid value.
///
/// # Safety
///
/// Implement only for types made of numbers, `bool`s and other `Zeroable`
/// types, with no references, pointers, `NonZero*` or enums whose zero
/// discriminant is not a variant.
pub unsafe trait Zeroable {}

macro_rules! zeroable {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: zero is a valid value of every number type and `false` of `bool`.
        unsafe impl Zeroable for $t {}
    )*};
}
zeroable!(f32, f64, u8, u16, u32, u64, usize, i8, i16, i32, i64, isize, bool, ());

// SAFETY: a generic array is `N` contiguous `X`s and nothing else.
unsafe impl<X: Zeroable, N: ArrayLength> Zeroable for GenericArray<X, N> {}
// SAFETY: an array is `N` contiguous `X`s and nothing else.
unsafe impl<X: Zeroable, const N: usize> Zeroable for [X; N] {}
// SAFETY: tuples hold their fields and padding only.
unsafe impl<A: Zeroable> Zeroable for (A,) {}
// SAFETY: as above.
unsafe impl<A: Zeroable, B: Zeroable> Zeroable for (A, B) {}
// SAFETY: as above.
unsafe impl<A: Zeroable, B: Zeroable, C: Zeroable> Zeroable for (A, B, C) {}

/// Zero-fills `slot` in place and returns the value: no copy through the
/// stack, no allocator.
pub fn zeroed_in<T: Zeroable>(slot: &mut MaybeUninit<T>) -> &mut T {
    // SAFETY: `T: Zeroable`, so all-zero bytes are a valid `T`.
    unsafe {
        slot.as_mut_ptr().write_bytes(0, 1);
        slot.assume_init_mut()
    }
}

/// Sets `value` to all-zero bytes in place (for gradients, optimiser state).
pub fn zero_in_place<T: Zeroable>(value: &mut T) {
    // SAFETY: `T: Zeroable`, so all-zero bytes are a valid `T`; Zeroable
    // types hold no resources, so nothing is leaked by not dropping.
    unsafe { (value as *mut T).write_bytes(0, 1) }
}

/// A zero-filled `T` allocated directly on the heap.
#[cfg(feature = "std")]
pub fn zeroed_box<T: Zeroable>() -> std::boxed::Box<T> {
    let mut boxed = std::boxed::Box::<T>::new_uninit();
    zeroed_in(&mut boxed);
    // SAFETY: `zeroed_in` initialised the value.
    unsafe { boxed.assume_init() }
}
