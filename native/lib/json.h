/* A compact JSON reader (no dependency is vendored: the build has no network).
 * Parses a whole document into a tree that lives as long as the process needs it. */
#ifndef BERTH_JSON_H
#define BERTH_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

typedef struct json {
  enum json_type type;
  char *key;        /* member name when inside an object */
  char *str;        /* JSON_STRING value, or the literal text of a JSON_NUMBER */
  bool boolean;
  struct json **items; /* array elements or object members */
  size_t n;
} json_t;

/* Returns NULL and writes a message with the byte offset into errbuf on failure. */
json_t *json_parse (const char *text, size_t len, char *errbuf, size_t errlen);

/* Frees a tree json_parse returned (for a process that parses many documents). */
void json_free (json_t *j);

json_t *json_get (const json_t *obj, const char *key);
/* Follows a path of keys separated by '.', e.g. "process.user.uid". */
json_t *json_path (const json_t *obj, const char *path);
const char *json_string (const json_t *j); /* NULL unless a string */
bool json_is (const json_t *j, enum json_type t);
/* Integer accessors: return false when j is not an integer number. */
bool json_int64 (const json_t *j, int64_t *out);
bool json_uint64 (const json_t *j, uint64_t *out);

#endif
