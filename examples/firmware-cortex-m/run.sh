#!/usr/bin/env bash
# Builds the firmware, runs it in QEMU on an emulated Cortex-M4, checks what
# it prints, and reports the flash, RAM and stack it takes: f32 training and
# inference, int8 inference (the Cortex-M4F build with the DSP kernels, the
# Cortex-M0 build with the portable ones), and the int8 kernels' on-device
# check against the portable loops with convolution layers' instruction
# counts.
#
#   bash examples/firmware-cortex-m/run.sh
#
# Installs what it needs when missing: the thumb targets (rustup) and
# qemu-system-arm and binutils' `size` (apt-get). Exits non-zero if a build
# fails, QEMU times out (a panic halts the core), the firmware reports a
# failure, or a line it must print is missing or wrong.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never

M4=thumbv7em-none-eabihf
M0=thumbv6m-none-eabi
QEMU=(qemu-system-arm -cpu cortex-m4 -machine mps2-an386 -nographic
      -semihosting-config enable=on,target=native -icount shift=0)
TIMEOUT=120 # seconds; a run takes about one

say() { printf '\n== %s\n' "$*"; }
die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        die "need root to run: $*"
    fi
}

apt_install() {
    command -v apt-get >/dev/null || die "install $* (no apt-get here)"
    as_root apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q "$@" >/dev/null
}

say "tools"
rustup target add "$M4" "$M0"
command -v qemu-system-arm >/dev/null || apt_install qemu-system-arm
command -v size >/dev/null || apt_install binutils
qemu-system-arm --version | head -n 1

say "build (release: opt-level s, LTO)"
cargo build --release --target "$M4"
cargo build --release --target "$M0" --bin digits --bin int8 --bin kernels

# Runs an ELF in QEMU; its output goes to the terminal and to $2.
run() {
    local elf=$1 log=$2 status=0
    timeout "$TIMEOUT" "${QEMU[@]}" -kernel "$elf" </dev/null | tee "$log" || status=$?
    case $status in
        0) ;;
        124) die "$elf: no exit after ${TIMEOUT}s (a panic halts the core)" ;;
        *) die "$elf: exit status $status" ;;
    esac
}

# Fails unless a line of $1 matches the extended regular expression $2.
expect() {
    grep -Eq "$2" "$1" || die "$1: no line matches: $2"
}

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

say "run: training and inference on the Cortex-M4 ($M4)"
run "target/$M4/release/firmware-cortex-m" "$out/firmware.log"
expect "$out/firmware.log" '^firmware: xor correct=4/4 loss=0\.[0-9]{4} epochs=2000$'
expect "$out/firmware.log" '^firmware: digits correct=[0-9]+/360$'
expect "$out/firmware.log" '^firmware: digits same predictions as the host: 360/360$'
expect "$out/firmware.log" '^firmware: result=pass '

say "run: inference only, Cortex-M4 build"
run "target/$M4/release/digits" "$out/digits-m4.log"
expect "$out/digits-m4.log" '^digits: result=pass correct=[0-9]+/360 same_as_host=360/360 '

say "run: inference only, Cortex-M0 build ($M0), on the emulated M4 (Armv6-M is a subset of Armv7-M)"
run "target/$M0/release/digits" "$out/digits-m0.log"
expect "$out/digits-m0.log" '^digits: result=pass correct=[0-9]+/360 same_as_host=360/360 '

core_of() { case $1 in "$M4") echo cortex-m4f ;; "$M0") echo cortex-m0 ;; esac; }
kernel_of() { case $1 in "$M4") echo arm-dsp ;; "$M0") echo portable ;; esac; }

for target in "$M4" "$M0"; do
    core=$(core_of "$target") kernel=$(kernel_of "$target")
    say "run: int8 kernels on the $core build ($target): $kernel against the portable loops, convolution layers"
    run "target/$target/release/kernels" "$out/kernels-$core.log"
    expect "$out/kernels-$core.log" "^kernels: core=$core kernel=$kernel check=pass cases=[0-9]+ mismatches=0 "
    expect "$out/kernels-$core.log" "^kernels: conv .* same_as_reference=([0-9]+)/\\1\$"
    if grep -E '^kernels: conv ' "$out/kernels-$core.log" | grep -Ev 'same_as_reference=([0-9]+)/\1$' >/dev/null; then
        die "$out/kernels-$core.log: a convolution differs from the reference"
    fi
    expect "$out/kernels-$core.log" "^kernels: core=$core result=pass kernel=$kernel "

    say "run: int8 digits inference on the $core build ($target)"
    run "target/$target/release/int8" "$out/int8-$core.log"
    expect "$out/int8-$core.log" "^int8: core=$core result=pass correct=[0-9]+/360 same_as_host=360/360 inference_instructions=[0-9]+ macs=4736 params_bytes=$(stat -c %s data/digits_mlp_int8.tnet) stack_bytes=[0-9]+$"
done

# `size -A` lines: section, size, address.
section() { awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print 0 }' "$1"; }
stack_of() { grep -Eo 'stack_bytes=[0-9]+' "$1" | tail -n 1 | cut -d= -f2; }

report() {
    local name=$1 elf=$2 log=$3 sizes
    sizes="$out/$(basename "$elf").size"
    size -A "$elf" >"$sizes"
    local vt text rodata data bss uninit
    vt=$(section "$sizes" .vector_table) text=$(section "$sizes" .text) rodata=$(section "$sizes" .rodata)
    data=$(section "$sizes" .data) bss=$(section "$sizes" .bss) uninit=$(section "$sizes" .uninit)
    local stack
    stack=$(stack_of "$log")
    printf '%-34s %7d %7d %7d %7d  %7d %7d %7d %7d\n' "$name" $((vt + text + rodata + data)) "$vt" "$text" "$rodata" \
        $((data + bss + uninit)) "$data" "$bss" "$stack"
}

say "size report (bytes; flash = .vector_table + .text + .rodata + .data, RAM = .data + .bss + .uninit)"
printf '%-34s %7s %7s %7s %7s  %7s %7s %7s %7s\n' binary flash vectors .text .rodata RAM .data .bss stack
report "firmware, Cortex-M4F (train+infer)" "target/$M4/release/firmware-cortex-m" "$out/firmware.log"
report "digits, Cortex-M4F (infer)" "target/$M4/release/digits" "$out/digits-m4.log"
report "digits, Cortex-M0 (infer)" "target/$M0/release/digits" "$out/digits-m0.log"
report "int8 digits, Cortex-M4F (infer)" "target/$M4/release/int8" "$out/int8-cortex-m4f.log"
report "int8 digits, Cortex-M0 (infer)" "target/$M0/release/int8" "$out/int8-cortex-m0.log"
echo "(.rodata holds the embedded data: the digits parameters, $(stat -c %s data/digits_mlp.tnet) bytes" \
    "(int8: $(stat -c %s data/digits_mlp_int8.tnet) bytes), and the test digits, $(stat -c %s data/digits_test.bin) bytes" \
    "(and the host's int8 classes, $(stat -c %s data/digits_test_int8.bin) bytes); stack is the painted stack's high-water mark)"

say "int8 and its kernels, per core"
cat "$out/kernels-cortex-m4f.log" "$out/kernels-cortex-m0.log" "$out/int8-cortex-m4f.log" "$out/int8-cortex-m0.log" |
    grep -E '^(int8|kernels): (core=|conv )'

say "firmware: passed"
