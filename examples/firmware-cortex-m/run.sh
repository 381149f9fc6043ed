#!/usr/bin/env bash
# Builds the firmware for six cores, runs each build in QEMU on its board,
# checks what it prints, and reports the flash, RAM and stack it takes:
#
#   core        QEMU machine   Rust target
#   cortex-m0   microbit       thumbv6m-none-eabi          (16 KB RAM: int8 digits)
#   cortex-m3   lm3s6965evb    thumbv7m-none-eabi
#   cortex-m4f  mps2-an386     thumbv7em-none-eabihf
#   cortex-m7   mps2-an500     thumbv7em-none-eabihf, -C target-cpu=cortex-m7
#   cortex-m33  mps2-an505     thumbv8m.main-none-eabihf
#   rv32imac    virt           riscv32imac-unknown-none-elf
#
# each training XOR and classifying the test digits (`src/main.rs`); the
# XOR-only trainer (`src/bin/xor_only.rs`, exit status only) on each core;
# and, as before, the inference-only binaries and the int8 kernels' check on
# the Cortex-M4F and the Cortex-M0 build (the M0 code on the emulated M4,
# whose RAM holds the f32 model and the convolutions' weights); and the
# fine-tuning firmware (`src/bin/finetune.rs`: the digits head retrained on
# the device on digits shifted a pixel, the body frozen in flash) on the
# Cortex-M4F (Adam) and on the Cortex-M0's own board, the microbit (SGD in
# its 16 KB).
#
#   bash examples/firmware-cortex-m/run.sh
#
# Prints one line per core,
#   core=NAME result=pass xor_correct=4/4 digits_correct=... same_as_host=...
#     xor_epoch_instructions=... inference_instructions=... text_bytes=... stack_bytes=...
# one for the XOR-only trainer on the Cortex-M4F,
#   xor_only: text_bytes=... xor_correct=4/4
# one per fine-tuning run (Cortex-M4F, then Cortex-M0),
#   finetune: before_accuracy=... after_accuracy=... ram_bytes=... step_instructions=...
# and the table the README shows. It fails if the M4F's training firmware
# links software f64. Installs what it needs when missing: the
# Rust targets (rustup), qemu-system-arm, qemu-system-misc (RISC-V) and
# binutils' `size` (apt-get). Exits non-zero if a build fails, QEMU times out
# (a panic halts the core), a firmware reports a failure, or a line it must
# print is missing or wrong, or fine-tuning does not raise the accuracy.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR=never

M4=thumbv7em-none-eabihf
M0=thumbv6m-none-eabi
TIMEOUT=120 # seconds; the slowest run (fine-tuning on the microbit, soft float) takes about 50

# The cores: name, QEMU machine (a directory of boards/), Rust target, extra
# rustc flags.
CORES=(
    "cortex-m0 microbit $M0"
    "cortex-m3 lm3s6965evb thumbv7m-none-eabi"
    "cortex-m4f mps2-an386 $M4"
    "cortex-m7 mps2-an500 $M4 -C target-cpu=cortex-m7"
    "cortex-m33 mps2-an505 thumbv8m.main-none-eabihf"
    "rv32imac virt riscv32imac-unknown-none-elf"
)

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
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

say "tools"
rustup target add $(for core in "${CORES[@]}"; do set -- $core; echo "$3"; done | sort -u)
command -v qemu-system-arm >/dev/null || apt_install qemu-system-arm
command -v qemu-system-riscv32 >/dev/null || apt_install qemu-system-misc
command -v size >/dev/null || apt_install binutils
qemu-system-arm --version | head -n 1
qemu-system-riscv32 --version | head -n 1

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Builds binaries for a board and copies them to target/boards/BOARD/CORE/,
# where the next board's build (same target directory) cannot overwrite
# them: build CORE BOARD TARGET "RUSTFLAGS" BIN...
build() {
    local core=$1 board=$2 target=$3 flags=$4 dir=target
    shift 4
    [ -z "$flags" ] || dir=target/flags-$core # other flags: other artefacts
    local bins=() bin
    for bin in "$@"; do bins+=(--bin "$bin"); done
    if [ -n "$flags" ]; then export RUSTFLAGS=$flags; fi
    FIRMWARE_BOARD=$board cargo build --release --target "$target" --target-dir "$dir" "${bins[@]}"
    if [ -n "$flags" ]; then unset RUSTFLAGS; fi
    mkdir -p "target/boards/$board/$core"
    for bin in "$@"; do cp "$dir/$target/release/$bin" "target/boards/$board/$core/$bin"; done
}

say "build (release: opt-level s, LTO), per core"
for core in "${CORES[@]}"; do
    set -- $core
    name=$1 board=$2 target=$3
    shift 3
    bins=(firmware-cortex-m xor_only)
    [ "$name" != cortex-m4f ] || bins+=(digits int8 kernels f32_kernels finetune)
    [ "$name" != cortex-m0 ] || bins+=(finetune)
    build "$name" "$board" "$target" "$*" "${bins[@]}"
done
say "build: the Cortex-M0 code for the emulated M4 ($M0, mps2-an386)"
build cortex-m0 mps2-an386 "$M0" "" digits int8 kernels

# Runs ELF on BOARD in QEMU; its output goes to the terminal and to LOG; an
# exit status other than 0 fails the run unless EXPECTED names it:
# run BOARD ELF LOG [EXPECTED].
run() {
    local board=$1 elf=$2 log=$3 expected=${4:-0} status=0
    FIRMWARE_BOARD=$board timeout "$TIMEOUT" ./qemu.sh "$elf" </dev/null | tee "$log" || status=$?
    case $status in
        "$expected") ;;
        124) die "$elf: no exit after ${TIMEOUT}s (a panic halts the core)" ;;
        *) die "$elf: exit status $status" ;;
    esac
}

# Fails unless a line of $1 matches the extended regular expression $2.
expect() {
    grep -Eq "$2" "$1" || die "$1: no line matches: $2"
}

# `size -A` lines: section, size, address.
section() { awk -v s="$2" '$1 == s { print $2; found = 1 } END { if (!found) print 0 }' "$1"; }
sizes() { size -A "$1" >"$out/sizes"; }
# Flash: what the image holds (vectors, code, constants, initial data); RAM:
# the statics (.data, .bss, .uninit). Not the `.stack` and `.heap` regions of
# riscv-rt, nor debug sections.
flash_of() {
    sizes "$1"
    echo $(($(section "$out/sizes" .vector_table) + $(section "$out/sizes" .text) + $(section "$out/sizes" .rodata) +
        $(section "$out/sizes" .data)))
}
ram_of() {
    sizes "$1"
    echo $(($(section "$out/sizes" .data) + $(section "$out/sizes" .bss) + $(section "$out/sizes" .uninit)))
}
text_of() {
    sizes "$1"
    section "$out/sizes" .text
}
# The value of KEY in the last line of LOG that has it: field LOG KEY.
field() { grep -Eo "(^| )$2=[^ ]+" "$1" | tail -n 1 | cut -d= -f2; }

for core in "${CORES[@]}"; do
    set -- $core
    name=$1 board=$2 target=$3
    shift 3
    elf=target/boards/$board/$name
    say "run: $name on $board ($target${*:+ $*}): train XOR, classify the digits"
    run "$board" "$elf/firmware-cortex-m" "$out/firmware-$name.log"
    log=$out/firmware-$name.log
    expect "$log" '^firmware: xor correct=4/4 loss=0\.[0-9]{4} epochs=2000$'
    expect "$log" '^firmware: digits correct=[0-9]+/360$'
    expect "$log" '^firmware: digits same predictions as the host: 360/360$'
    expect "$log" "^firmware: core=$name board=$board result=pass xor_correct=4/4 digits_model=(f32|int8) digits_correct=[0-9]+/360 same_as_host=360/360 xor_epoch_instructions=[0-9]+ inference_instructions=[0-9]+ stack_bytes=[0-9]+\$"

    say "run: $name on $board: the XOR-only trainer (exit status only)"
    status=0
    FIRMWARE_BOARD=$board timeout "$TIMEOUT" ./qemu.sh "$elf/xor_only" </dev/null || status=$?
    case $status in
        0) echo "4/4" >"$out/xor_only-$name" ;;
        1) die "$elf/xor_only: XOR not learnt (exit status 1)" ;;
        124) die "$elf/xor_only: no exit after ${TIMEOUT}s (a panic halts the core)" ;;
        *) die "$elf/xor_only: exit status $status" ;;
    esac
done

say "run: inference only, Cortex-M4F build"
run mps2-an386 target/boards/mps2-an386/cortex-m4f/digits "$out/digits-m4.log"
expect "$out/digits-m4.log" '^digits: result=pass correct=[0-9]+/360 same_as_host=360/360 '

say "run: inference only, Cortex-M0 build ($M0), on the emulated M4 (Armv6-M is a subset of Armv7-M)"
run mps2-an386 target/boards/mps2-an386/cortex-m0/digits "$out/digits-m0.log"
expect "$out/digits-m0.log" '^digits: result=pass correct=[0-9]+/360 same_as_host=360/360 '

kernel_of() { case $1 in cortex-m4f) echo arm-dsp ;; cortex-m0) echo portable ;; esac; }

for core in cortex-m4f cortex-m0; do
    kernel=$(kernel_of "$core") elf=target/boards/mps2-an386/$core
    say "run: int8 kernels on the $core build (on mps2-an386): $kernel against the portable loops, convolution layers"
    run mps2-an386 "$elf/kernels" "$out/kernels-$core.log"
    expect "$out/kernels-$core.log" "^kernels: core=$core kernel=$kernel check=pass cases=[0-9]+ mismatches=0 "
    expect "$out/kernels-$core.log" "^kernels: conv .* same_as_reference=([0-9]+)/\\1\$"
    if grep -E '^kernels: conv ' "$out/kernels-$core.log" | grep -Ev 'same_as_reference=([0-9]+)/\1$' >/dev/null; then
        die "$out/kernels-$core.log: a convolution differs from the reference"
    fi
    expect "$out/kernels-$core.log" "^kernels: core=$core result=pass kernel=$kernel "

    say "run: int8 digits inference on the $core build (on mps2-an386)"
    run mps2-an386 "$elf/int8" "$out/int8-$core.log"
    expect "$out/int8-$core.log" "^int8: core=$core result=pass correct=[0-9]+/360 same_as_host=360/360 inference_instructions=[0-9]+ macs=4736 params_bytes=$(stat -c %s data/digits_mlp_int8.tnet) stack_bytes=[0-9]+$"
done

say "run: the f32 kernels of the Cortex-M FPU leaf against the portable loops (Cortex-M4F), a digits Adam step"
log=$out/f32_kernels-cortex-m4f.log
run mps2-an386 target/boards/mps2-an386/cortex-m4f/f32_kernels "$log"
expect "$log" '^f32_kernels: check core=cortex-m4f kernel=cortex-m-fpu cases=[0-9]+ mismatches=0 '
expect "$log" '^f32_kernels: check core=cortex-m4f kernel=cortex-m-fpu conv_cases=[0-9]+ mismatches=0 declined=[0-9]+ '
expect "$log" '^f32_kernels: sqrt core=cortex-m4f cases=65536 differ=0 '
expect "$log" '^f32_kernels: digits_adam_step core=cortex-m4f result=pass batch=16 instructions=[0-9]+ '
expect "$log" '^f32_kernels: core=cortex-m4f result=pass kernel=cortex-m-fpu check_cases=[0-9]+ check_mismatches=0$'

# The fine-tuning firmware: the head retrained on shifted digits, the body
# frozen in flash, and bias-only fine-tuning beside it; their budgets' RAM is
# the statics the ELF holds (models and trainers), to within a few words of
# the runtime's own.
for core in cortex-m4f cortex-m0; do
    case $core in cortex-m4f) board=mps2-an386 optim=adam ;; cortex-m0) board=microbit optim=sgd ;; esac
    say "run: fine-tuning on the $core build ($board, $optim): the digits head on digits shifted a pixel, the body frozen in flash"
    elf=target/boards/$board/$core/finetune log=$out/finetune-$core.log
    run "$board" "$elf" "$log"
    n='[0-9]+'
    expect "$log" "^finetune: budget frozen_body optimizer=$optim block=$n model=$n gradients=$n optimizer_state=$n caches=$n outputs=$n trainer=$n stack=$n ram=$n\$"
    expect "$log" "^finetune: budget full_training optimizer=$optim block=$n model=19240 gradients=19240 optimizer_state=$n caches=$n outputs=$n trainer=$n stack=$n ram=$n\$"
    expect "$log" "^finetune: budget bias_only optimizer=$optim block=$n model=$n gradients=$n optimizer_state=$n caches=$n outputs=$n trainer=$n stack=$n ram=$n\$"
    expect "$log" '^finetune: bias_only: shifted test correct=[0-9]+/360 -> [0-9]+/360, unshifted test correct=[0-9]+/360 after; '
    expect "$log" '^finetune: the embedded model \(a static, 19240 bytes at 0x[0-9a-f]+\): correct=[0-9]+/360 same_as_host=360/360$'
    expect "$log" '^finetune: body at 0x[0-9a-f]+ \(flash\), head at 0x[0-9a-f]+ \(RAM\); '
    expect "$log" "^finetune: core=$core board=$board result=pass optimizer=$optim "
    expect "$log" '^finetune: before_accuracy=0\.[0-9]{4} after_accuracy=[01]\.[0-9]{4} ram_bytes=[0-9]+ step_instructions=[0-9]+$'
    before=$(field "$log" before_accuracy) after=$(field "$log" after_accuracy)
    awk -v b="$before" -v a="$after" 'BEGIN { exit !(a > b) }' || die "$log: fine-tuning did not raise the accuracy ($before to $after)"
    budget=$(($(field "$log" frozen_ram_bytes) + $(field "$log" bias_only_ram_bytes))) statics=$(ram_of "$elf")
    [ "$statics" -ge "$budget" ] && [ $((statics - budget)) -le 64 ] ||
        die "$elf: static RAM $statics bytes, not the budgets' $budget and a few words"
done

stack_of() { grep -Eo 'stack_bytes=[0-9]+' "$1" | tail -n 1 | cut -d= -f2; }

report() {
    local name=$1 elf=$2 log=$3
    sizes "$elf"
    local vt text rodata data bss uninit
    vt=$(section "$out/sizes" .vector_table) text=$(section "$out/sizes" .text)
    rodata=$(section "$out/sizes" .rodata) data=$(section "$out/sizes" .data)
    bss=$(section "$out/sizes" .bss) uninit=$(section "$out/sizes" .uninit)
    printf '%-34s %7d %7d %7d %7d  %7d %7d %7d %7d\n' "$name" $((vt + text + rodata + data)) "$vt" "$text" "$rodata" \
        $((data + bss + uninit)) "$data" "$bss" "$(stack_of "$log")"
}

say "size report (bytes; flash = .vector_table + .text + .rodata + .data, RAM = .data + .bss + .uninit)"
printf '%-34s %7s %7s %7s %7s  %7s %7s %7s %7s\n' binary flash vectors .text .rodata RAM .data .bss stack
for core in "${CORES[@]}"; do
    set -- $core
    report "firmware, $1 (train+infer)" "target/boards/$2/$1/firmware-cortex-m" "$out/firmware-$1.log"
done
report "digits, Cortex-M4F (infer)" target/boards/mps2-an386/cortex-m4f/digits "$out/digits-m4.log"
report "digits, Cortex-M0 (infer)" target/boards/mps2-an386/cortex-m0/digits "$out/digits-m0.log"
report "int8 digits, Cortex-M4F (infer)" target/boards/mps2-an386/cortex-m4f/int8 "$out/int8-cortex-m4f.log"
report "int8 digits, Cortex-M0 (infer)" target/boards/mps2-an386/cortex-m0/int8 "$out/int8-cortex-m0.log"
report "finetune, Cortex-M4F (head, Adam)" target/boards/mps2-an386/cortex-m4f/finetune "$out/finetune-cortex-m4f.log"
report "finetune, Cortex-M0 (head, SGD)" target/boards/microbit/cortex-m0/finetune "$out/finetune-cortex-m0.log"
echo "(.rodata holds the embedded data: the digits parameters, $(stat -c %s data/digits_mlp.tnet) bytes" \
    "(int8: $(stat -c %s data/digits_mlp_int8.tnet) bytes), and the test digits, $(stat -c %s data/digits_test.bin) bytes" \
    "(and the host's int8 classes, $(stat -c %s data/digits_test_int8.bin) bytes; finetune: the validation digits, $(stat -c %s data/digits_val.bin) bytes," \
    "and the model as a static built by the compiler, 19240 bytes, not the file); stack is the painted stack's high-water mark)"

say "int8 and its kernels, per core"
cat "$out/kernels-cortex-m4f.log" "$out/kernels-cortex-m0.log" "$out/int8-cortex-m4f.log" "$out/int8-cortex-m0.log" |
    grep -E '^(int8|kernels): (core=|conv )'

say "f32 kernels (Cortex-M4F FPU leaf): instructions per multiply-add against the portable loops"
grep -E '^f32_kernels: (dense|conv|sqrt|digits_adam_step) ' "$out/f32_kernels-cortex-m4f.log"

say "fine-tuning on the device: budgets (bytes), accuracies, instructions per step of 16 (Cortex-M4F, then Cortex-M0)"
for core in cortex-m4f cortex-m0; do
    grep -E '^finetune: (budget|board|after|accuracy|bias_only|ram_bytes|one step|core=)' "$out/finetune-$core.log"
done
for core in cortex-m4f cortex-m0; do
    grep -E '^finetune: before_accuracy=' "$out/finetune-$core.log" || die "$core: no finetune line"
done

say "the six cores"
table="$out/table.md"
{
    echo "| core | QEMU machine | Rust target | XOR | digits model | digits correct | same class as the host | instructions per XOR epoch | per inference | flash | .text | static RAM | stack | XOR-only trainer .text |"
    echo "| --- | --- | --- | :---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} >"$table"
for core in "${CORES[@]}"; do
    set -- $core
    name=$1 board=$2 target=$3 elf=target/boards/$2/$1/firmware-cortex-m log=$out/firmware-$1.log
    text=$(text_of "$elf") stack=$(field "$log" stack_bytes)
    printf 'core=%s result=%s xor_correct=%s digits_correct=%s same_as_host=%s xor_epoch_instructions=%s inference_instructions=%s text_bytes=%s stack_bytes=%s\n' \
        "$name" "$(field "$log" result)" "$(field "$log" xor_correct)" "$(field "$log" digits_correct)" \
        "$(field "$log" same_as_host)" "$(field "$log" xor_epoch_instructions)" "$(field "$log" inference_instructions)" \
        "$text" "$stack"
    shift 3
    printf '| %s | `%s` | `%s`%s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
        "$name" "$board" "$target" "${*:+ (\`$*\`)}" "$(field "$log" xor_correct)" "$(field "$log" digits_model)" \
        "$(field "$log" digits_correct)" "$(field "$log" same_as_host)" "$(field "$log" xor_epoch_instructions)" \
        "$(field "$log" inference_instructions)" "$(flash_of "$elf")" "$text" "$(ram_of "$elf")" "$stack" \
        "$(text_of "target/boards/$board/$name/xor_only")" >>"$table"
done
xor_only=target/boards/mps2-an386/cortex-m4f/xor_only
echo "xor_only: text_bytes=$(text_of "$xor_only") xor_correct=$(cat "$out/xor_only-cortex-m4f")"
# It formats nothing, and no f32 training firmware links software f64: an
# f32 model trains in f32 (the check covers the full firmware too).
nm -C "$xor_only" >"$out/xor_only.nm"
if grep -q 'core::fmt' "$out/xor_only.nm"; then die "$xor_only links core::fmt"; fi
soft_f64_of() {
    nm "$1" | awk '{ print $NF }' |
        grep -E '^(__aeabi_(d[a-z0-9]+|[a-z0-9]+2d)|__[a-z0-9]*df[a-z0-9]*)$' | sort -u | tr '\n' ' ' || true
}
for elf in "$xor_only" target/boards/mps2-an386/cortex-m4f/firmware-cortex-m; do
    soft_f64=$(soft_f64_of "$elf")
    echo "software f64 in $(basename "$elf"), cortex-m4f: ${soft_f64:-none}"
    [ -z "$soft_f64" ] || die "$elf links software f64: $soft_f64"
done
echo
cat "$table"

say "firmware: passed"
