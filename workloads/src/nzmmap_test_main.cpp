#include "reuse_program.h"

int main(int argc, char** argv) {
  return workloads::reuse_program_main(workloads::ReuseProgram::nzmmap_test, argc, argv);
}
