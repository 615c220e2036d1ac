// main.cpp — sotto-relay's entry point (placeholder until cli.cpp lands).
int main() {
  return 0;
}
