/* Startup code for the Cortex-M firmware test (QEMU mps2-an386 / any
 * Armv6-M or Armv7-M core): vector table, reset (copy .data, zero .bss,
 * enable the FPU when there is one, paint the stack), fault handlers that
 * report over semihosting and exit non-zero, and a SysTick counter. */
#include <stdint.h>

#include "board.h"

extern uint32_t __data_load, __data_start, __data_end, __bss_start, __bss_end, __stack_limit, __stack_top;
int main(void);

volatile uint32_t board_systick_wraps;

/* Semihosting call: r0 = operation, r1 = argument; BKPT 0xAB. */
static int semihost(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

void board_puts(const char *s) { semihost(0x04 /* SYS_WRITE0 */, s); }

void board_exit(int code) {
  /* SYS_EXIT_EXTENDED (0x20): reason ADP_Stopped_ApplicationExit, subcode = exit status. */
  const uint32_t block[2] = {0x20026u, (uint32_t)code};
  semihost(0x20, block);
  /* Armv6-M QEMU without the extended call: plain SYS_EXIT (0x18). */
  semihost(0x18, (const void *)(uintptr_t)(code == 0 ? 0x20026u : 0x20024u));
  for (;;) {}
}

/* Fills the unused stack below the caller's frame with STACK_PAINT. */
void board_paint_stack(void) {
  uint32_t *sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t *p = &__stack_limit; p < sp - 16; p++) *p = BOARD_STACK_PAINT;
}

/* Bytes of stack ever used since the last paint (highest watermark). */
uint32_t board_stack_used(void) {
  const uint32_t *p = &__stack_limit;
  while (p < &__stack_top && *p == BOARD_STACK_PAINT) p++;
  return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)p);
}

uint32_t board_stack_size(void) { return (uint32_t)((uintptr_t)&__stack_top - (uintptr_t)&__stack_limit); }

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)

/* SysTick on the processor clock, counting down from 2^24 - 1; the
 * interrupt counts the wraps. */
void board_ticks_start(void) {
  SYST_CSR = 0;
  SYST_RVR = 0x00FFFFFFu;
  SYST_CVR = 0;
  board_systick_wraps = 0;
  SYST_CSR = 7u; /* ENABLE | TICKINT | CLKSOURCE = processor */
}

uint64_t board_ticks(void) {
  uint32_t w1, v, w2;
  do {
    w1 = board_systick_wraps;
    v = SYST_CVR;
    w2 = board_systick_wraps;
  } while (w1 != w2);
  return (uint64_t)w1 * 0x01000000u + (0x00FFFFFFu - v);
}

/* Instructions per SysTick tick, measured: 4,000,000 iterations of a
 * two-instruction loop (subs; bne), rounded. */
uint32_t board_calibrate(void) {
  uint32_t n = 4000000u;
  board_ticks_start();
  __asm__ volatile(".syntax unified\n1: subs %0, %0, #1\n\tbne 1b" : "+l"(n) : : "cc");
  uint64_t t = board_ticks();
  return t ? (uint32_t)((8000000u + t / 2) / t) : 0;
}

void SysTick_Handler(void) { board_systick_wraps++; }

static void fault(const char *what) {
  board_puts("FAULT: ");
  board_puts(what);
  board_puts(" (the firmware test failed)\n");
  board_exit(3);
}

static void put_hex(uint32_t v) {
  char b[11] = "0x";
  for (int i = 0; i < 8; i++) b[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15u];
  b[10] = 0;
  board_puts(b);
}

/* The faulting instruction's address: the stacked PC of the exception frame. */
void fault_with_frame(const uint32_t *frame) {
  board_puts("HardFault at pc ");
  put_hex(frame[6]);
  board_puts(", lr ");
  put_hex(frame[5]);
  board_puts("\n");
  fault("HardFault");
}

void NMI_Handler(void) { fault("NMI"); }
__attribute__((naked)) void HardFault_Handler(void) {
  __asm__ volatile("mov r0, sp\n\tb fault_with_frame");
}
void MemManage_Handler(void) { fault("MemManage"); }
void BusFault_Handler(void) { fault("BusFault"); }
void UsageFault_Handler(void) { fault("UsageFault"); }
void Default_Handler(void) { fault("unexpected interrupt"); }

void Reset_Handler(void) {
  for (uint32_t *s = &__data_load, *d = &__data_start; d < &__data_end;) *d++ = *s++;
  for (uint32_t *d = &__bss_start; d < &__bss_end;) *d++ = 0;
#if defined(__ARM_FP)
  /* CPACR: full access to CP10 and CP11 (the FPU). */
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
  __asm__ volatile("dsb\n isb");
#endif
  board_paint_stack();
  board_exit(main());
}

typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) static const vector vectors[16 + 32] = {
  (vector)(uintptr_t)&__stack_top, Reset_Handler, NMI_Handler, HardFault_Handler,
  MemManage_Handler, BusFault_Handler, UsageFault_Handler, 0, 0, 0, 0,
  Default_Handler /* SVC */, Default_Handler /* debug monitor */, 0, Default_Handler /* PendSV */, SysTick_Handler,
  Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
  Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
  Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
  Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
  Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler, Default_Handler,
  Default_Handler, Default_Handler,
};
