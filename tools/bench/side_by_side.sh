#!/usr/bin/env bash
# typenet's workloads bench and the peers' benchmarks, side by side in one
# session on one machine, one thread pinned to one CPU, for one instruction
# set. BENCHMARKS.md's tables come from this script.
#
#   tools/bench/side_by_side.sh avx512|avx2|portable [runs, default 3]
#   tools/bench/side_by_side.sh avx512|avx2|portable w3 [rounds, default 5]
#
# The first form runs typenet's bench `runs` times, then every peer's
# script once. The second runs W3 only, in rounds: typenet's W3, JAX's W3
# and numpy's SGEMM peak one after the other, `rounds` times, so that each
# side's median spans the same stretch of time (this host's speed drifts by
# 10–30% within minutes). tools/bench/side_by_side_table.py makes either
# log into BENCHMARKS.md's table rows.
#
# The instruction set is imposed on every side, first through the CPU the
# process sees: below AVX-512, each side runs under tools/bench/hide_isa.c
# (preloaded; CPUID reports no AVX-512, or no AVX at all for the portable
# set), so whatever a library picks at run time from CPUID is what it would
# pick on such a CPU. Its own switches are set as well:
#   typenet  TYPENET_KERNELS=avx2|portable (AVX-512 is the default where the CPU has it)
#   numpy    OPENBLAS_CORETYPE=SkylakeX|Haswell|Nehalem (OpenBLAS's SGEMM kernel)
#   torch    ATEN_CPU_CAPABILITY, MKL_ENABLE_INSTRUCTIONS, ONEDNN_MAX_CPU_ISA
#   jax      XLA_FLAGS=--xla_cpu_max_isa=AVX512|AVX2|SSE4_2 (the code XLA generates;
#            it does not bind the matrix products, which YNNPACK chooses from CPUID)
#   dfdx     none (matrixmultiply chooses from CPUID)
#   glibc    GLIBC_TUNABLES=glibc.cpu.hwcaps=-… (memcpy and memset)
# Hiding needs CPUID faulting (the cpuid_fault flag, Intel; Linux); on a CPU
# without the hidden instructions nothing needs hiding.
#
# Needs the peers set up as ../shared/bench-peers/README.md says (setup.sh:
# /tmp/benchpeers/venv with numpy, scikit-learn, threadpoolctl, jax[cpu], the
# data export and the dfdx build), and gcc. torch runs from $TORCH_PYTHON if
# set (a Python with torch and scikit-learn), else from the peers' venv.
# Environment: CPU (default 1), PEERS (default ../shared/bench-peers),
# BENCHPEERS (default /tmp/benchpeers).
set -euo pipefail
usage="usage: side_by_side.sh avx512|avx2|portable [runs] | side_by_side.sh avx512|avx2|portable w3 [rounds]"
isa=${1:?$usage}
mode=all
if [ "${2:-}" = w3 ]; then
    mode=w3
    runs=${3:-5}
    if [ "$isa" = portable ]; then
        echo "the W3 rounds compare with JAX, which needs AVX: avx512 or avx2" >&2
        exit 2
    fi
else
    runs=${2:-3}
fi
here=$(cd "$(dirname "$0")/../.." && pwd)
cpu=${CPU:-1}
peers=${PEERS:-$here/../shared/bench-peers}
bp=${BENCHPEERS:-/tmp/benchpeers}
py=$bp/venv/bin/python
torch_py=${TORCH_PYTHON:-$py}
avx512_tunables=-AVX512F,-AVX512CD,-AVX512BW,-AVX512DQ,-AVX512VL,-AVX512_VNNI,-AVX512_BF16,-AVX512_FP16
case $isa in
    avx512) kernels=""; coretype=SkylakeX; aten=avx512; mkl=AVX512; onednn=AVX512_CORE; xla=AVX512; hide="" ;;
    avx2) kernels=avx2; coretype=Haswell; aten=avx2; mkl=AVX2; onednn=AVX2; xla=AVX2; hide=avx512
        hidden_flag=avx512f; tunables=$avx512_tunables ;;
    portable) kernels=portable; coretype=Nehalem; aten=default; mkl=SSE4_2; onednn=SSE41; xla=SSE4_2; hide=avx
        hidden_flag=avx; tunables=-AVX,-AVX2,-FMA,-F16C,$avx512_tunables ;;
    *) echo "unknown instruction set '$isa': avx512, avx2 or portable" >&2; exit 2 ;;
esac
preload=()
if [ -n "$hide" ] && grep -m1 '^flags' /proc/cpuinfo | grep -qw "$hidden_flag"; then
    if ! grep -m1 '^flags' /proc/cpuinfo | grep -qw cpuid_fault; then
        echo "this CPU has ${hidden_flag^^} and no CPUID faulting: the $isa set cannot hide it" >&2
        exit 3
    fi
    shim=$here/target/hide_isa.so
    mkdir -p "$here/target"
    gcc -O2 -shared -fPIC -o "$shim" "$here/tools/bench/hide_isa.c"
    preload=(LD_PRELOAD="$shim" HIDE_ISA=$hide GLIBC_TUNABLES=glibc.cpu.hwcaps=$tunables)
fi
one_thread=(env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 RAYON_NUM_THREADS=1 BENCH_THREADS=1
    OPENBLAS_CORETYPE=$coretype ATEN_CPU_CAPABILITY=$aten MKL_ENABLE_INSTRUCTIONS=$mkl ONEDNN_MAX_CPU_ISA=$onednn
    XLA_FLAGS=--xla_cpu_max_isa=$xla BENCH_OUT=$bp/results-$isa-$mode.jsonl taskset -c "$cpu" env "${preload[@]}")
: >"$bp/results-$isa-$mode.jsonl"

echo "== $isa on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), CPU $cpu, $(date -u +%FT%TZ)"
cd "$here"
bench=$(cargo bench --bench workloads --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\)).*/\1/p' | tail -1)
if [ -n "${preload[*]}" ]; then
    echo "hidden from every side: ${hidden_flag^^} and above (HIDE_ISA=$hide)"
fi
typenet() { # the bench's lines for workloads matching $1, as "typenet <name> time|thrpt <value> <unit>"
    TYPENET_KERNELS=$kernels taskset -c "$cpu" env "${preload[@]}" "$bench" --bench "$1" 2>/dev/null |
        awk '/change:/ {skip = 2; next}
             skip > 0 {skip--; next}
             /time:/ {
                 if ($1 == "time:") { name = prev; $0 = "x " $0 }
                 else name = $1
                 print "typenet", name, "time", $5, $6
             }
             /thrpt:/ && name != "" {print "typenet", name, "thrpt", $4, $5; name = ""}
             NF {prev = $1}'
}
peak() {
    echo "-- SGEMM peak (numpy, OPENBLAS_CORETYPE=$coretype)"
    "${one_thread[@]}" "$py" "$peers/peak.py" --threads=1 | grep -E 'architecture|GFLOP|GB/s' |
        sed 's/^threadpool: .*architecture.: .\([A-Za-z0-9]*\).*/openblas kernel: \1/'
}
if [ "$mode" = w3 ]; then
    for run in $(seq "$runs"); do
        echo "-- round $run of $runs: typenet (TYPENET_KERNELS=${kernels:-default}), jax, SGEMM peak ($(date -u +%T))"
        typenet 'W3_'
        "${one_thread[@]}" "$py" -c "import sys; sys.argv = ['bench_jax.py', '--threads=1']
sys.path.insert(0, '$peers')
import bench_jax
bench_jax.w3_synth()" | grep -v '^#'
        peak
    done
    exit 0
fi
for run in $(seq "$runs"); do
    echo "-- typenet, run $run of $runs (TYPENET_KERNELS=${kernels:-default})"
    typenet 'W[1-5]_'
done
peak
echo "-- numpy"
"${one_thread[@]}" "$py" "$peers/bench_numpy.py" --threads=1 | grep -v '^#'
echo "-- torch"
"${one_thread[@]}" "$torch_py" "$peers/bench_torch.py" --threads=1 | grep -v '^#'
echo "-- jax"
if [ "$isa" = portable ]; then
    echo "not run: jaxlib is built for AVX and refuses a CPU without it"
else
    "${one_thread[@]}" "$py" "$peers/bench_jax.py" --threads=1 | grep -v '^#'
fi
echo "-- dfdx"
"${one_thread[@]}" "$bp/dfdx-bench/target/release/dfdx-bench" | grep -v '^#'
