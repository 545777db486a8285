#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("berth-runtime version %s\n", BERTH_VERSION);
    return 0;
  }
  fprintf(stderr, "berth-runtime: no command given\n");
  return 1;
}
