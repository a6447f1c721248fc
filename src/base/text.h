// Small string helpers shared by the reader and the CLI.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ctrun {

// Optimal string alignment distance (Levenshtein plus adjacent transposition).
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` within max_distance, or "" when none is.
std::string closest_match(std::string_view word, std::span<const std::string> candidates,
                          size_t max_distance = 2);

// A value quoted for a message: "12Q", with control characters escaped and
// long values cut, so that a message never carries raw bytes to a terminal.
std::string quoted(std::string_view value);

std::string join(std::span<const std::string> items, std::string_view sep);

// Lexical clean-up of an absolute path: collapses "//" and "/./", drops a
// trailing slash. ".." is kept (its meaning depends on symlinks).
std::string clean_path(std::string_view path);

// True when the path has a ".." component.
bool has_dotdot(std::string_view path);

}  // namespace ctrun
