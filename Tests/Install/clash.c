/* Linked into the static example next to libcnnrt.a: defines, as a global
 * function, a name that libcnnrt uses internally (CLASH_NAME, chosen by
 * tools/test-install.sh from `nm libcnnrt.a`). The link must succeed and the
 * library must keep calling its own copy; if it called this one, the
 * program would abort. */
#include <stdio.h>
#include <stdlib.h>

#define STR2(x) #x
#define STR(x) STR2(x)

void CLASH_NAME(void);
void CLASH_NAME(void) {
  fputs("clash: libcnnrt called the program's " STR(CLASH_NAME) "\n", stderr);
  abort();
}
