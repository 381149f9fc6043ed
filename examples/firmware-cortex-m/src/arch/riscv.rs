//! RISC-V on QEMU's `virt` machine: riscv-rt starts the hart, the 16550
//! UART carries the output, the SiFive test device ends QEMU with a
//! status, `minstret` counts instructions, and the firmware paints the
//! stack itself.

use core::fmt::{self, Write};

pub use riscv_rt::entry;

use super::PerTick;

/// The 16550 UART of `virt`.
const UART: usize = 0x1000_0000;
/// The SiFive test device of `virt`: a write ends QEMU.
const TEST_DEVICE: *mut u32 = 0x0010_0000 as *mut u32;

struct Uart;

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        const THR: *mut u8 = UART as *mut u8;
        const LSR: *const u8 = (UART + 5) as *const u8;
        for byte in s.bytes() {
            // SAFETY: the UART's transmit and line status registers,
            // always mapped on `virt`; only this writer uses them.
            unsafe {
                while LSR.read_volatile() & 0x20 == 0 {}
                THR.write_volatile(byte);
            }
        }
        Ok(())
    }
}

/// Writes one line to the UART (QEMU's standard output with `-nographic`).
pub fn print(line: fmt::Arguments) {
    let _ = writeln!(Uart, "{line}");
}

/// Ends QEMU with a success or failure status (exit status 0 or 1).
pub fn exit(success: bool) -> ! {
    // SAFETY: the test device's register, always mapped on `virt`.
    unsafe { TEST_DEVICE.write_volatile(if success { 0x5555 } else { (1 << 16) | 0x3333 }) };
    #[allow(clippy::empty_loop)] // reached only outside QEMU
    loop {}
}

/// Counts instructions with `minstret`, the count of instructions the
/// hart retired (which QEMU keeps exactly under `-icount shift=0`; on real
/// hardware it counts instructions too).
pub struct Clock(());

impl Clock {
    /// Instructions per count: one.
    pub const PER_TICK: PerTick = PerTick::BOARD;

    /// Starts counting and checks that `minstret` counts instructions
    /// (else ends `program`: QEMU must run with `-icount shift=0`).
    pub fn take(program: &str) -> Self {
        let mut clock = Clock(());
        super::calibrate(program, "minstret counts", |iterations| clock.calibrate(iterations));
        clock
    }

    /// Runs `f` and returns its result and the instructions retired
    /// meanwhile (up to 2³² − 1), the first read of the counter not
    /// counted.
    pub fn ticks<R>(&mut self, f: impl FnOnce() -> R) -> (R, u32) {
        let start = minstret();
        let result = core::hint::black_box(f());
        let end = minstret();
        (result, end.wrapping_sub(start).wrapping_sub(1))
    }

    /// Runs `f` and returns its result and the instructions it took.
    pub fn instructions<R>(&mut self, f: impl FnOnce() -> R) -> (R, u32) {
        let (result, ticks) = self.ticks(f);
        (result, Self::PER_TICK.instructions(ticks))
    }

    /// Instructions of a loop of exactly `2 · iterations` instructions (a
    /// decrement and a branch per iteration), as counted.
    fn calibrate(&mut self, iterations: u32) -> u32 {
        self.ticks(|| {
            // SAFETY: a counting loop on one register, no memory or stack.
            unsafe {
                core::arch::asm!("2:", "addi {0}, {0}, -1", "bnez {0}, 2b", inout(reg) iterations => _, options(nomem, nostack));
            }
        })
        .1
    }
}

/// The low 32 bits of `minstret`.
fn minstret() -> u32 {
    let count: u32;
    // SAFETY: reads a counter CSR, which machine mode may always read.
    unsafe { core::arch::asm!("csrr {0}, minstret", out(reg) count, options(nomem, nostack)) };
    count
}

/// The value the stack is painted with (cortex-m-rt's, so both read alike).
const STACK_PAINT_VALUE: u32 = 0xcccc_cccc;

unsafe extern "C" {
    /// riscv-rt's stack region: from `_estack` (its bottom, after `.bss`)
    /// up to `_stack_start` (its top, where the stack pointer starts).
    static _estack: u32;
    static _stack_start: u32;
}

/// Paints the stack below the current stack pointer with
/// [`STACK_PAINT_VALUE`], for [`stack_high_water`]; `main` calls it first.
/// (riscv-rt, unlike cortex-m-rt, does not paint the stack.)
pub fn paint_stack() {
    let bottom = &raw const _estack as usize;
    // SAFETY: writes words from the bottom of the stack region up to the
    // stack pointer, the part of the stack no frame uses yet, in a loop
    // that itself keeps everything in registers.
    unsafe {
        core::arch::asm!(
            "2:",
            "bgeu {p}, sp, 3f",
            "sw {v}, 0({p})",
            "addi {p}, {p}, 4",
            "j 2b",
            "3:",
            p = inout(reg) bottom => _,
            v = in(reg) STACK_PAINT_VALUE,
            options(nostack),
        );
    }
}

/// How many bytes of the stack were ever used: the lowest word above
/// `_estack` no longer holding the paint marks the deepest the stack went.
pub fn stack_high_water() -> usize {
    let top = &raw const _stack_start as usize;
    let mut word = &raw const _estack as usize;
    // SAFETY: the stack region is RAM, word-aligned; reading it changes
    // nothing.
    while word < top && unsafe { (word as *const u32).read_volatile() } == STACK_PAINT_VALUE {
        word += 4;
    }
    top - word
}
