// SHA-256 digests, in hex (nettle).
#pragma once

#include <cstddef>
#include <string>

namespace ctrun {

// The sha256 of a file, hex; empty when it cannot be read.
std::string sha256_file(const std::string& path);
// The sha256 of bytes, hex.
std::string sha256_hex(const void* data, size_t size);

}  // namespace ctrun
