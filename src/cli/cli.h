// The command line: argv in, an exit status out. Exit statuses: 0 success,
// 2 usage error, 125 a manifest error or a failure of ctrun itself.
#pragma once

namespace ctrun::cli {

inline constexpr int kExitUsage = 2;
inline constexpr int kExitFailure = 125;

int run(int argc, char** argv);

}  // namespace ctrun::cli
