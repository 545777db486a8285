/* Runs a libFuzzer target over the files given (a corpus without libFuzzer): built
 * with ASan and UBSan by native/Makefile so a regression input fails loudly. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
main (int argc, char **argv)
{
  int i;
  for (i = 1; i < argc; i++)
    {
      FILE *f = fopen (argv[i], "rb");
      uint8_t *buf = NULL;
      long size;
      if (f == NULL || fseek (f, 0, SEEK_END) < 0 || (size = ftell (f)) < 0 || fseek (f, 0, SEEK_SET) < 0
          || (buf = malloc ((size_t) size + 1)) == NULL || fread (buf, 1, (size_t) size, f) != (size_t) size)
        {
          fprintf (stderr, "replay: cannot read %s\n", argv[i]);
          return 2;
        }
      fclose (f);
      LLVMFuzzerTestOneInput (buf, (size_t) size);
      free (buf);
      printf ("ok %s\n", argv[i]);
    }
  return 0;
}
