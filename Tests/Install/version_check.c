/* The installed header's version macros, the library's cnn_version() /
 * cnn_version_string() and the version the installer used (argv[1], from
 * Version.swift through the Makefile) must all agree. */
#include <stdio.h>
#include <string.h>

#include "cnnrt.h"

int main(int argc, char **argv) {
  char macros[32];
  snprintf(macros, sizeof macros, "%d.%d.%d", CNN_VERSION_MAJOR, CNN_VERSION_MINOR, CNN_VERSION_PATCH);
  unsigned v = cnn_version();
  char lib[32];
  snprintf(lib, sizeof lib, "%u.%u.%u", (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
  printf("header %s (CNN_VERSION_STRING %s, CNN_VERSION_NUMBER 0x%06x), cnn_version() %s, cnn_version_string() %s, expected %s\n",
         macros, CNN_VERSION_STRING, (unsigned)CNN_VERSION_NUMBER, lib, cnn_version_string(), argc > 1 ? argv[1] : "?");
  int ok = strcmp(macros, CNN_VERSION_STRING) == 0 && v == CNN_VERSION_NUMBER && strcmp(lib, macros) == 0 &&
           strcmp(cnn_version_string(), macros) == 0 && argc > 1 && strcmp(argv[1], macros) == 0;
  if (!ok) { fprintf(stderr, "version_check: MISMATCH\n"); return 1; }
  return 0;
}
