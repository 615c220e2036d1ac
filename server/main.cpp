// main.cpp — sotto-relay: the command line is in cli.cpp.
#include "server/cli.hpp"

int main(int argc, char** argv) {
  return sotto::relay::run_cli(argc, argv, SOTTO_RELAY_ALLOCATOR);
}
