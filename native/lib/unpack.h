/* The image layer unpacker (lib/unpack.c) behind `berth-runtime unpack DIR`. */
#ifndef BERTH_UNPACK_H
#define BERTH_UNPACK_H

#include "error.h"

/* Unpacks the plain tar read from IN (to its end) into the directory DEST (made when
 * missing, expected empty) and sets *SIZE to the bytes of file content. Everything it
 * opens or allocates is released on return, failed or not (the fuzz target calls it
 * once per input). */
int unpack_layer (int in, const char *dest, long long *size, berth_error_t *err);

#endif
