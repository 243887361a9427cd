/* Which instruction path a compiler gets: one definition for every csrc/ file.
 *
 *   NP_X86_MSVC  MSVC-like compiler (cl, clang-cl, clang --target=*-windows-msvc) on x86:
 *                documented intrinsics only (<intrin.h>: __cpuidex, __rdtsc, __rdtscp,
 *                _mm_lfence; learn.microsoft.com/cpp/intrinsics/x64-amd64-intrinsics-list).
 *   NP_X86_GNU   GCC or Clang with GNU inline asm on x86: Linux, mingw-w64, macOS.
 *   NP_X86       either of the two; 0 on every other architecture (no CPUID, no TSC).
 *
 * _MSC_VER is tested first: clang in MSVC mode defines both _MSC_VER and __clang__.
 */
#ifndef NESTPROBE_NP_ARCH_H
#define NESTPROBE_NP_ARCH_H

#if defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#define NP_X86_MSVC 1
#define NP_X86_GNU 0
#elif (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define NP_X86_MSVC 0
#define NP_X86_GNU 1
#else
#define NP_X86_MSVC 0
#define NP_X86_GNU 0
#endif

#define NP_X86 (NP_X86_MSVC || NP_X86_GNU)

#endif
