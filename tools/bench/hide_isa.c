// Runs a process as if its CPU lacked AVX-512 (HIDE_ISA=avx512) or AVX
// altogether (HIDE_ISA=avx: AVX, AVX2, FMA, F16C and AVX-512), for the
// side-by-side benchmarks: libraries that choose their kernels from CPUID at
// run time (JAX's YNNPACK and XNNPACK, oneDNN, MKL, OpenBLAS, matrixmultiply,
// Rust's is_x86_feature_detected!) then take the code they would take on
// such a CPU. JAX's --xla_cpu_max_isa does not bind its matrix products:
// under --xla_cpu_max_isa=AVX2 they run ynn::dot_fp32_5x64x1_1x16x1_avx512.
//
//   gcc -O2 -shared -fPIC -o hide_isa.so tools/bench/hide_isa.c
//   HIDE_ISA=avx512 LD_PRELOAD=$PWD/hide_isa.so python ...
//
// How: the constructor makes CPUID fault (Linux's ARCH_SET_CPUID, on CPUs
// with CPUID faulting: the `cpuid_fault` flag in /proc/cpuinfo) and its
// SIGSEGV handler runs the real CPUID with those feature bits cleared. The
// setting lasts across fork and ends at exec, where the preload sets it
// again. A program that installs a SIGSEGV handler of its own over this one
// (perf does) must not be preloaded: put LD_PRELOAD on the measured command.
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define BIT(n) (1u << (n))

static int hide_avx; // 0: AVX-512 only; 1: every AVX extension

static int cpuid_enabled(int on) { return (int)syscall(SYS_arch_prctl, ARCH_SET_CPUID, on); }

static void masked_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
    if (leaf == 7 && sub == 0) {
        // EBX: AVX512 F, DQ, IFMA, PF, ER, CD, BW, VL.
        r[1] &= ~(BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31));
        // ECX: AVX512 VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ.
        r[2] &= ~(BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14));
        // EDX: AVX512 4VNNIW, 4FMAPS, VP2INTERSECT, FP16; AMX BF16, TILE, INT8.
        r[3] &= ~(BIT(2) | BIT(3) | BIT(8) | BIT(22) | BIT(23) | BIT(24) | BIT(25));
        if (hide_avx) {
            r[1] &= ~BIT(5); // AVX2
        }
    } else if (leaf == 7 && sub == 1) {
        r[0] &= ~BIT(5);  // AVX512 BF16
        r[3] &= ~BIT(19); // AVX10
        if (hide_avx) {
            r[0] &= ~(BIT(4) | BIT(23));                   // AVX-VNNI, AVX-IFMA
            r[3] &= ~(BIT(4) | BIT(5) | BIT(10));           // AVX-VNNI-INT8, AVX-NE-CONVERT, AVX-VNNI-INT16
        }
    } else if (leaf == 0x24) {
        r[0] = r[1] = r[2] = r[3] = 0; // AVX10's details
    } else if (leaf == 1 && hide_avx) {
        r[2] &= ~(BIT(12) | BIT(28) | BIT(29)); // FMA, AVX, F16C
    }
}

static void on_segv(int sig, siginfo_t *info, void *context) {
    (void)sig;
    (void)info;
    greg_t *g = ((ucontext_t *)context)->uc_mcontext.gregs;
    const uint8_t *ip = (const uint8_t *)g[REG_RIP];
    if (ip[0] != 0x0f || ip[1] != 0xa2) {
        signal(SIGSEGV, SIG_DFL); // a real fault: it recurs with the default action
        return;
    }
    uint32_t r[4];
    cpuid_enabled(1);
    masked_cpuid((uint32_t)g[REG_RAX], (uint32_t)g[REG_RCX], r);
    cpuid_enabled(0);
    g[REG_RAX] = r[0];
    g[REG_RBX] = r[1];
    g[REG_RCX] = r[2];
    g[REG_RDX] = r[3];
    g[REG_RIP] += 2;
}

__attribute__((constructor)) static void hide_isa(void) {
    const char *what = getenv("HIDE_ISA");
    if (what == NULL || strcmp(what, "avx512") == 0) {
        hide_avx = 0;
    } else if (strcmp(what, "avx") == 0) {
        hide_avx = 1;
    } else {
        fprintf(stderr, "hide_isa: HIDE_ISA is '%s', expected avx512 or avx\n", what);
        exit(2);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGSEGV, &sa, NULL);
    if (cpuid_enabled(0) != 0) {
        fprintf(stderr, "hide_isa: no CPUID faulting on this CPU or kernel (the cpuid_fault flag)\n");
        exit(3);
    }
}
