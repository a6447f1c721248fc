#include "base/digest.h"

#include <fcntl.h>
#include <nettle/sha2.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>

#include "base/fd.h"

namespace ctrun {

namespace {
std::string hex_digest(sha256_ctx& ctx) {
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof digest, digest);
  std::string hex;
  char b[3];
  for (uint8_t d : digest) {
    std::snprintf(b, sizeof b, "%02x", d);
    hex += b;
  }
  return hex;
}
}  // namespace

std::string sha256_file(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return {};
  sha256_ctx ctx;
  sha256_init(&ctx);
  uint8_t buf[16384];
  ssize_t n;
  while ((n = read(fd.get(), buf, sizeof buf)) > 0) sha256_update(&ctx, static_cast<size_t>(n), buf);
  if (n < 0) return {};
  return hex_digest(ctx);
}

std::string sha256_hex(const void* data, size_t size) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, size, static_cast<const uint8_t*>(data));
  return hex_digest(ctx);
}

}  // namespace ctrun
