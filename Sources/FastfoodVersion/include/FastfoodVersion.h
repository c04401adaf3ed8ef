#ifndef FASTFOOD_VERSION_H
#define FASTFOOD_VERSION_H

/* FASTFOOD_VERSION_STRING of include/fastfood.h, the one place the version is written (the
 * Makefile reads it from there too), as a static C string. Internal: hidden from the shared
 * library's symbol table. */
__attribute__((visibility("hidden"))) const char *fastfood_internal_version_string(void);

#endif
