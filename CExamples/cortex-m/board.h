/* What the firmware test needs from the board (startup.c): semihosting
 * output and exit, stack painting, and a tick counter. */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

#define BOARD_STACK_PAINT 0x5A5A5A5Au

/* Under `qemu-system-arm -icount shift=0` one instruction advances virtual
 * time by 1 ns and SysTick counts the 25 MHz processor clock of mps2-an386:
 * one tick = 40 instructions. This is an instruction count, not cycles. */
#define BOARD_INSTRUCTIONS_PER_TICK 40u

void board_puts(const char *s);
void board_exit(int code);
void board_paint_stack(void);
uint32_t board_stack_used(void);
uint32_t board_stack_size(void);
void board_ticks_start(void);
uint64_t board_ticks(void);
uint32_t board_calibrate(void);

#endif
