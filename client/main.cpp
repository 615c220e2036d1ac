// main.cpp — the `sotto` program: everything is in cli.cpp (run_cli never
// throws and returns the exit code documented in cli.hpp).
#include "client/cli.hpp"

int main(int argc, char** argv) {
  return sotto::client::run_cli(argc, argv);
}
