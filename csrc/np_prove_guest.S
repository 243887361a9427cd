/* The proof guest: 64-bit long-mode code run by np_prove.c (its bytes are NPP_GUEST there;
 * tests/test_prove_native.py assembles this file and requires the same bytes).
 *
 * Loaded at guest-physical 0x4000, identity-mapped by 4-level page tables at 0x0000
 * (PML4), 0x1000 (PDPT), 0x2000 (PD), 0x3000 (PT); virtual page 0x6000 maps the data
 * page at physical 0x5000, so the first write only lands there through the tables.
 * Inputs in registers (KVM_SET_REGS / WHvSetVirtualProcessorRegisters): r8 = value,
 * r9 = loop iterations, r10 = loop rounds, r11 = I/O exits, r12 = CPUID batches,
 * r13 = CPUIDs per batch. Exits, in order: out 0x4E0 (the value read back),
 * out 0x4E1 (CPUID(0).EBX), rounds x (out 0x4E2 loop start, out 0x4E3 loop end with
 * the loop's TSC ticks at 0x5008), r11 x out 0x4E4, r12 x (r13 CPUIDs, out 0x4E5), hlt.
 * `never` (offset 0x97) is the guest that never exits: the watchdog's test.
 */
.code64
.text
.globl proof
proof:
    movl %r8d, 0x6000
    movl 0x5000, %eax
    movw $0x4E0, %dx
    outl %eax, %dx
    xorl %eax, %eax
    xorl %ecx, %ecx
    cpuid
    movl %ebx, %eax
    movw $0x4E1, %dx
    outl %eax, %dx
loop_round:
    testq %r10, %r10
    jz io_phase
    movw $0x4E2, %dx
    outb %al, %dx
    movq %r9, %rcx
    lfence
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    movq %rax, %rsi
spin:
    decq %rcx
    jnz spin
    lfence
    rdtsc
    shlq $32, %rdx
    orq %rdx, %rax
    subq %rsi, %rax
    movq %rax, 0x5008
    movw $0x4E3, %dx
    outl %eax, %dx
    decq %r10
    jmp loop_round
io_phase:
    movw $0x4E4, %dx
    testq %r11, %r11
    jz cpuid_phase
io_loop:
    outb %al, %dx
    decq %r11
    jnz io_loop
cpuid_phase:
    testq %r12, %r12
    jz done
batch:
    movq %r13, %r14
    testq %r14, %r14
    jz batch_end
cpuid_loop:
    xorl %eax, %eax
    xorl %ecx, %ecx
    cpuid
    decq %r14
    jnz cpuid_loop
batch_end:
    movw $0x4E5, %dx
    outb %al, %dx
    decq %r12
    jnz batch
done:
    hlt
    jmp done
.globl never
never:
    jmp never
