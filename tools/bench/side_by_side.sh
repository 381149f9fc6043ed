#!/usr/bin/env bash
# typenet's workloads bench and the peers' benchmarks, side by side in one
# session on one machine, one thread pinned to one CPU, for one instruction
# set. BENCHMARKS.md's tables come from this script.
#
#   tools/bench/side_by_side.sh avx512|avx2|portable [typenet runs, default 3]
#
# The instruction set is imposed on every side that lets one choose it:
#   typenet  TYPENET_KERNELS=avx2|portable (AVX-512 is the default where the CPU has it)
#   numpy    OPENBLAS_CORETYPE=SkylakeX|Haswell|Nehalem (OpenBLAS's SGEMM kernel)
#   torch    ATEN_CPU_CAPABILITY, MKL_ENABLE_INSTRUCTIONS, ONEDNN_MAX_CPU_ISA
#   jax      XLA_FLAGS=--xla_cpu_max_isa=AVX512|AVX2|SSE4_2 (the code XLA generates)
#   dfdx     cannot be limited (matrixmultiply picks AVX2 + FMA at run time): it
#            runs in the avx512 and avx2 sets as it is, and not in the portable set.
#
# Needs the peers set up as ../shared/bench-peers/README.md says (setup.sh:
# /tmp/benchpeers/venv with numpy, scikit-learn, threadpoolctl, jax[cpu], the
# data export and the dfdx build). torch runs from $TORCH_PYTHON if set (a
# Python with torch and scikit-learn), else from the peers' venv.
# Environment: CPU (default 1), PEERS (default ../shared/bench-peers),
# BENCHPEERS (default /tmp/benchpeers).
set -euo pipefail
isa=${1:?usage: side_by_side.sh avx512|avx2|portable [runs]}
runs=${2:-3}
here=$(cd "$(dirname "$0")/../.." && pwd)
cpu=${CPU:-1}
peers=${PEERS:-$here/../shared/bench-peers}
bp=${BENCHPEERS:-/tmp/benchpeers}
py=$bp/venv/bin/python
torch_py=${TORCH_PYTHON:-$py}
case $isa in
    avx512) kernels=""; coretype=SkylakeX; aten=avx512; mkl=AVX512; onednn=AVX512_CORE; xla=AVX512 ;;
    avx2) kernels=avx2; coretype=Haswell; aten=avx2; mkl=AVX2; onednn=AVX2; xla=AVX2 ;;
    portable) kernels=portable; coretype=Nehalem; aten=default; mkl=SSE4_2; onednn=SSE41; xla=SSE4_2 ;;
    *) echo "unknown instruction set '$isa': avx512, avx2 or portable" >&2; exit 2 ;;
esac
one_thread=(env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 RAYON_NUM_THREADS=1 BENCH_THREADS=1
    OPENBLAS_CORETYPE=$coretype ATEN_CPU_CAPABILITY=$aten MKL_ENABLE_INSTRUCTIONS=$mkl ONEDNN_MAX_CPU_ISA=$onednn
    XLA_FLAGS=--xla_cpu_max_isa=$xla BENCH_OUT=$bp/results-$isa.jsonl taskset -c "$cpu")
: >"$bp/results-$isa.jsonl"

echo "== $isa on $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), CPU $cpu, $(date -u +%FT%TZ)"
cd "$here"
cargo bench --bench workloads --no-run -q 2>/dev/null
for run in $(seq "$runs"); do
    echo "-- typenet, run $run of $runs (TYPENET_KERNELS=${kernels:-default})"
    TYPENET_KERNELS=$kernels taskset -c "$cpu" cargo bench -q --bench workloads -- 'W[1-5]_' 2>/dev/null |
        awk '/change:/ {skip = 2; next}
             skip > 0 {skip--; next}
             /time:/ {
                 if ($1 == "time:") { name = prev; $0 = "x " $0 }
                 else name = $1
                 print "typenet", name, "time", $5, $6
             }
             /thrpt:/ && name != "" {print "typenet", name, "thrpt", $4, $5; name = ""}
             NF {prev = $1}'
done
echo "-- SGEMM peak (numpy, OPENBLAS_CORETYPE=$coretype)"
"${one_thread[@]}" "$py" "$peers/peak.py" --threads=1 | grep -E 'architecture|GFLOP|GB/s' | sed 's/^threadpool: .*architecture.: .\([A-Za-z0-9]*\).*/openblas kernel: \1/'
echo "-- numpy"
"${one_thread[@]}" "$py" "$peers/bench_numpy.py" --threads=1 | grep -v '^#'
echo "-- torch"
"${one_thread[@]}" "$torch_py" "$peers/bench_torch.py" --threads=1 | grep -v '^#'
echo "-- jax"
"${one_thread[@]}" "$py" "$peers/bench_jax.py" --threads=1 | grep -v '^#'
if [ "$isa" != portable ]; then
    echo "-- dfdx"
    "${one_thread[@]}" "$bp/dfdx-bench/target/release/dfdx-bench" | grep -v '^#'
fi
