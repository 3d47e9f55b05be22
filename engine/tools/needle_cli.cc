#include <cstdio>
int main() {
  std::fprintf(stderr, "needle: not built yet\n");
  return 2;
}
