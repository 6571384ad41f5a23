#include "cc_sim.h"

int main(int argc, char** argv) { return ccsim::cc_sim_main(argc, argv); }
