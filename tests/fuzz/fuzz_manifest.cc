// libFuzzer target: the manifest reader and the validator must turn any byte
// string into diagnostics or a manifest, never a crash, hang or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "manifest/emit.h"
#include "manifest/reader.h"
#include "validate/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ctrun;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  manifest::LoadOptions options;
  options.base_dir = "/fuzz";
  options.getenv = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SET") return std::string("value");
    return std::nullopt;
  };
  manifest::Manifest m;
  manifest::SourceMap locs;
  Diagnostics diags;
  auto status = manifest::read_manifest_text(text, "fuzz.yaml", options, m, locs, diags);
  if (status != manifest::ReadStatus::unreadable) {
    bool valid = validate::validate(m, locs, diags) && status == manifest::ReadStatus::ok;
    if (valid) {
      // What validate prints must read back.
      std::string yaml = manifest::emit_yaml(m);
      manifest::Manifest again;
      manifest::SourceMap locs2;
      Diagnostics d2;
      if (manifest::read_manifest_text(yaml, "again.yaml", options, again, locs2, d2) != manifest::ReadStatus::ok) {
        __builtin_trap();
      }
    }
  }
  for (const auto& d : diags.items()) (void)render(d);
  return 0;
}
