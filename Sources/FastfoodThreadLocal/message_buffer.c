#include "FastfoodThreadLocal.h"

static _Thread_local char message[FASTFOOD_MESSAGE_CAPACITY];

char *fastfood_internal_message_buffer(void) { return message; }
