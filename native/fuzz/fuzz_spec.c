/* libFuzzer target: config.json bytes through the JSON parser and spec_parse, as
 * `create` reads them. Built by bench/fuzz.sh (clang -fsanitize=fuzzer,address). */
#include "json.h"
#include "spec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  char errbuf[256];
  char *text = malloc (size + 1);
  struct spec spec;
  berth_error_t err = NULL;
  json_t *j;
  if (text == NULL)
    return 0;
  memcpy (text, data, size);
  text[size] = '\0';
  /* Trees live as long as the process (no free): bench/fuzz.sh runs with leak checks off. */
  j = json_parse (text, size, errbuf, sizeof errbuf);
  (void) j;
  memset (&spec, 0, sizeof spec);
  if (spec_parse (text, size, "/nonexistent-bundle", &spec, &err) < 0)
    berth_error_release (&err);
  free (text);
  return 0;
}
