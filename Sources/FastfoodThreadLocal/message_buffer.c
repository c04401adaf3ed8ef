#include "FastfoodThreadLocal.h"

static _Thread_local char message[FASTFOOD_MESSAGE_CAPACITY];

char *fastfood_internal_message_buffer(void) { return message; }

static _Thread_local char pending[FASTFOOD_MESSAGE_CAPACITY];

char *fastfood_internal_pending_message(void) { return pending; }

#include <stdio.h>

int fastfood_internal_format_double(char *out, size_t size, int exponential, int precision, double value) {
    return exponential ? snprintf(out, size, "%.*e", precision, value) : snprintf(out, size, "%.*f", precision, value);
}
