#!/usr/bin/env bash
# Runs a firmware ELF in QEMU on its board, counting instructions
# (`-icount shift=0`: one nanosecond of virtual time per instruction):
#
#   ./qemu.sh ELF
#
# The board is FIRMWARE_BOARD (a directory of boards/), else the one
# build.rs chooses for the target in the ELF's path. Cargo's runner
# (.cargo/config.toml), and run.sh's.
set -euo pipefail
elf=$1
board=${FIRMWARE_BOARD:-}
if [ -z "$board" ]; then
    case $elf in
        *thumbv6m-none-eabi/*) board=microbit ;;
        *thumbv7m-none-eabi/*) board=lm3s6965evb ;;
        *thumbv8m.main-none-eabihf/*) board=mps2-an505 ;;
        *riscv32imac-unknown-none-elf/*) board=virt ;;
        *) board=mps2-an386 ;;
    esac
fi
# Arm: output and exit through semihosting.
arm=(qemu-system-arm -nographic -semihosting-config enable=on,target=native -icount shift=0)
case $board in
    microbit) cmd=("${arm[@]}" -machine microbit) ;;
    lm3s6965evb) cmd=("${arm[@]}" -machine lm3s6965evb) ;;
    mps2-an386) cmd=("${arm[@]}" -cpu cortex-m4 -machine mps2-an386) ;;
    mps2-an500) cmd=("${arm[@]}" -cpu cortex-m7 -machine mps2-an500) ;;
    mps2-an505) cmd=("${arm[@]}" -cpu cortex-m33 -machine mps2-an505) ;;
    # RISC-V: output on the UART, exit through the test device.
    virt) cmd=(qemu-system-riscv32 -machine virt -bios none -nographic -icount shift=0) ;;
    *) echo "qemu.sh: no board $board in boards/" >&2; exit 2 ;;
esac
exec "${cmd[@]}" -kernel "$elf"
