#include "nozero_exec.h"

int main(int argc, char** argv) { return nozero_exec::nozero_exec_main(argc, argv); }
