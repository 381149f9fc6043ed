//! Cortex-M: cortex-m-rt starts the core (and paints the stack),
//! semihosting carries the output and the exit status to QEMU, SysTick
//! counts instructions.

use core::fmt;

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_semihosting::debug::{self, EXIT_FAILURE, EXIT_SUCCESS};
use cortex_m_semihosting::hprintln;

pub use cortex_m_rt::entry;

use super::PerTick;

/// Writes one line to QEMU's standard output (semihosting).
pub fn print(line: fmt::Arguments) {
    hprintln!("{}", line);
}

/// Ends QEMU with a success or failure status.
pub fn exit(success: bool) -> ! {
    debug::exit(if success { EXIT_SUCCESS } else { EXIT_FAILURE });
    #[allow(clippy::empty_loop)] // reached only outside an emulator or debugger
    loop {}
}

/// Counts instructions with SysTick.
///
/// QEMU run with `-icount shift=0` advances its virtual clock by 1 ns per
/// instruction, and SysTick, clocked from the core, ticks once per period
/// of the board's clock: 40 ns on `mps2-an386` and `mps2-an500` (25 MHz),
/// 50 ns on `mps2-an505` (20 MHz), 62.5 ns on `microbit` (16 MHz), 20 ns on
/// `lm3s6965evb` (50 MHz, once [`Clock::start`] has set its clock): the
/// same count on every run. On real hardware it counts core clock cycles
/// instead.
pub struct Clock {
    _syst: SYST,
}

impl Clock {
    /// Instructions per SysTick tick on the board this build is for, under
    /// `-icount shift=0`.
    pub const PER_TICK: PerTick = PerTick::BOARD;

    const RELOAD: u32 = 0x00ff_ffff;

    /// Takes the core peripherals and starts [`Clock::start`]; ends
    /// `program` if they were taken already.
    pub fn take(program: &str) -> Self {
        let Some(peripherals) = cortex_m::Peripherals::take() else {
            super::fail(program, "the core peripherals were already taken")
        };
        Self::start(program, peripherals.SYST)
    }

    /// Starts SysTick free-running from the core clock, its interrupt off,
    /// and checks that it ticks as [`Clock::PER_TICK`] says (else ends
    /// `program`: QEMU must run with `-icount shift=0` on the board this
    /// build is for).
    pub fn start(program: &str, mut syst: SYST) -> Self {
        board_clock();
        syst.disable_interrupt();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(Self::RELOAD);
        syst.clear_current();
        syst.enable_counter();
        let mut clock = Clock { _syst: syst };
        super::calibrate(program, "SysTick ticks", |iterations| clock.calibrate(iterations));
        clock
    }

    /// Runs `f` and returns its result and the ticks it took (at most
    /// 2²⁴ − 1 ticks can be measured: 671 million instructions at 40 per
    /// tick).
    pub fn ticks<R>(&mut self, f: impl FnOnce() -> R) -> (R, u32) {
        let start = SYST::get_current();
        let result = core::hint::black_box(f());
        let end = SYST::get_current();
        (result, start.wrapping_sub(end) & Self::RELOAD)
    }

    /// Runs `f` and returns its result and the instructions it took, to
    /// within one tick.
    pub fn instructions<R>(&mut self, f: impl FnOnce() -> R) -> (R, u32) {
        let (result, ticks) = self.ticks(f);
        (result, Self::PER_TICK.instructions(ticks))
    }

    /// Ticks of a loop of exactly `2 · iterations` instructions (a
    /// subtract and a branch per iteration).
    fn calibrate(&mut self, iterations: u32) -> u32 {
        self.ticks(|| {
            // SAFETY: a counting loop on one register, no memory or stack.
            unsafe {
                core::arch::asm!("2:", "subs {0}, #1", "bne 2b", inout(reg) iterations => _, options(nomem, nostack));
            }
        })
        .1
    }
}

/// Sets a faster core clock where the board starts slow, for a finer
/// count: the Stellaris LM3S6965 resets with its system divider at 16,
/// which QEMU runs at 12.5 MHz (80 instructions per SysTick tick); its
/// run-mode clock configuration (RCC) with the PLL in use and the divider
/// at 4 makes it 50 MHz (200 MHz / 4): 20 instructions per tick.
fn board_clock() {
    #[cfg(firmware_board = "lm3s6965evb")]
    {
        const RCC: *mut u32 = 0x400f_e060 as *mut u32;
        // SAFETY: the LM3S6965's RCC register, always mapped; no other
        // code touches it.
        unsafe {
            let rcc = RCC.read_volatile();
            // BYPASS (bit 11) off, USESYSDIV (22) on, SYSDIV (26:23) = 3: ÷4.
            RCC.write_volatile((rcc & !(1 << 11) & !(0xf << 23)) | (1 << 22) | (3 << 23));
        }
    }
}

/// How many bytes of the stack were ever used: cortex-m-rt painted the
/// whole stack region (`_stack_end` to `_stack_start`) with
/// [`cortex_m_rt::STACK_PAINT_VALUE`] before `main`; the lowest word no
/// longer holding it marks the deepest the stack went.
pub fn stack_high_water() -> usize {
    unsafe extern "C" {
        static _stack_start: u32;
        static _stack_end: u32;
    }
    let top = &raw const _stack_start as usize;
    let mut word = &raw const _stack_end as usize;
    // SAFETY: the region between the linker's two stack symbols is RAM,
    // word-aligned; reading it changes nothing.
    while word < top && unsafe { (word as *const u32).read_volatile() } == cortex_m_rt::STACK_PAINT_VALUE {
        word += 4;
    }
    top - word
}

/// Nothing to do: cortex-m-rt painted the stack before `main`.
pub fn paint_stack() {}
