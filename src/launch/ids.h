// The payload's identity: process.user / group / supplementary_groups looked
// up in the container's own /etc/passwd and /etc/group (never the host's).
// Pure: the caller reads the files.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/failure.h"
#include "plan/plan.h"

namespace ctrun::launch {

struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary: /etc/group membership, then the manifest's
  std::string home = "/";
};

// A user without a passwd entry may be given as a number: its group is then
// the same number and its home "/".
bool resolve_identity(const std::string& passwd, const std::string& group, const plan::ExecPlan& e, Identity& out,
                      Failure& f);

}  // namespace ctrun::launch
