// The effective manifest (every key, defaults filled in, variables expanded,
// paths absolute) as YAML: what `ctrun validate` prints. Reading it back gives
// the same Manifest.
#pragma once

#include <string>

#include "manifest/manifest.h"

namespace ctrun::manifest {

std::string emit_yaml(const Manifest& m);

}  // namespace ctrun::manifest
