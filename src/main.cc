// argv -> cli::run -> exit status. Nothing else lives here.
#include "cli/cli.h"

int main(int argc, char** argv) { return ctrun::cli::run(argc, argv); }
