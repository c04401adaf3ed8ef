/* The library's version string, taken from the public header so it is written only once. */
#include "FastfoodVersion.h"

#include "../../include/fastfood.h"

const char *fastfood_internal_version_string(void) { return FASTFOOD_VERSION_STRING; }
