#include "seccomp/profile.h"

#include <linux/seccomp.h>
#include <seccomp.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "manifest/yaml_tree.h"

namespace ctrun::seccomp {
namespace {

#include "default_profile.inc"  // kDefaultProfile, generated from seccomp-profiles/default.json

using manifest::YamlNode;

// JSON allows tabs between tokens, YAML not as indentation: a tab outside a
// string becomes a space (same column count), so that yaml-cpp, which reads
// JSON as the YAML subset it is, takes profiles indented with tabs.
std::string detab(std::string_view text) {
  std::string out(text);
  bool in_string = false, escaped = false;
  for (char& c : out) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '\t') {
      c = ' ';
    }
  }
  return out;
}

class Reader {
 public:
  Reader(const std::string& file, Diagnostics& diags) : file_(file), diags_(diags) {}

  void error(const YamlNode& at, const std::string& key, const std::string& msg) {
    diags_.error({file_, at.line, at.col}, key, msg);
  }

  bool string(const YamlNode& n, const std::string& key, std::string& out) {
    if (n.kind != YamlNode::Kind::scalar || n.is_null()) {
      error(n, key, "must be a string");
      return false;
    }
    out = n.value;
    return true;
  }

  bool number(const YamlNode& n, const std::string& key, uint64_t& out, uint64_t max) {
    if (n.kind == YamlNode::Kind::scalar && n.plain && !n.value.empty() &&
        std::all_of(n.value.begin(), n.value.end(), [](unsigned char c) { return std::isdigit(c); }) &&
        n.value.size() <= 20) {
      errno = 0;
      unsigned long long v = std::strtoull(n.value.c_str(), nullptr, 10);
      if (errno == 0 && v <= max) {
        out = v;
        return true;
      }
    }
    error(n, key, "must be a number from 0 to " + std::to_string(max));
    return false;
  }

  // Calls item(node, "key[i]") for each entry of a list; null is an empty
  // list. True when the list and every item were fine.
  template <class F>
  bool each(const YamlNode& n, const std::string& key, F item) {
    if (n.is_null()) return true;
    if (n.kind != YamlNode::Kind::seq) {
      error(n, key, "must be a list");
      return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n.children.size(); ++i) ok = item(n.children[i], key + "[" + std::to_string(i) + "]") && ok;
    return ok;
  }

  // errnoRet / defaultErrnoRet belong to an ERRNO or TRACE action.
  bool attach_ret(Action& a, bool given, uint64_t value, const YamlNode& at, const std::string& key) {
    if (!given) return true;
    if (a.kind == Action::Kind::errno_ret || a.kind == Action::Kind::trace) {
      a.ret = static_cast<int>(value);
      return true;
    }
    error(at, key, "is only meaningful with SCMP_ACT_ERRNO or SCMP_ACT_TRACE");
    return false;
  }

  // A list of strings; null is an empty list.
  bool strings(const YamlNode& n, const std::string& key, std::vector<std::string>& out) {
    return each(n, key, [&](const YamlNode& item, const std::string& k) {
      std::string v;
      if (!string(item, k, v)) return false;
      out.push_back(v);
      return true;
    });
  }

  bool action(const YamlNode& n, const std::string& key, Action& out) {
    std::string s;
    if (!string(n, key, s)) return false;
    static const std::pair<const char*, Action::Kind> kActions[] = {
        {"SCMP_ACT_ALLOW", Action::Kind::allow},           {"SCMP_ACT_ERRNO", Action::Kind::errno_ret},
        {"SCMP_ACT_KILL", Action::Kind::kill_thread},      {"SCMP_ACT_KILL_THREAD", Action::Kind::kill_thread},
        {"SCMP_ACT_KILL_PROCESS", Action::Kind::kill_process}, {"SCMP_ACT_TRAP", Action::Kind::trap},
        {"SCMP_ACT_TRACE", Action::Kind::trace},           {"SCMP_ACT_LOG", Action::Kind::log},
    };
    for (const auto& [name, kind] : kActions) {
      if (s == name) {
        out = {kind, -1};
        return true;
      }
    }
    if (s == "SCMP_ACT_NOTIFY") {
      error(n, key, "SCMP_ACT_NOTIFY needs a seccomp listener, which ctrun does not run");
    } else {
      error(n, key, "unknown action \"" + s + "\" (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL_PROCESS, "
                    "SCMP_ACT_KILL_THREAD, SCMP_ACT_KILL, SCMP_ACT_TRAP, SCMP_ACT_TRACE, SCMP_ACT_LOG)");
    }
    return false;
  }

  bool arch(const YamlNode& n, const std::string& key, std::string& out) {
    std::string s;
    if (!string(n, key, s)) return false;
    if (s.rfind("SCMP_ARCH_", 0) != 0) {
      error(n, key, "unknown architecture \"" + s + "\" (SCMP_ARCH_X86_64, SCMP_ARCH_X86, ...)");
      return false;
    }
    out = s.substr(10);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return true;
  }

  bool condition(const YamlNode& n, const std::string& key, Condition& out) {
    if (n.is_null()) return true;
    if (n.kind != YamlNode::Kind::map) {
      error(n, key, "must be a mapping of caps, arches and minKernel");
      return false;
    }
    bool ok = true;
    for (size_t i = 0; i < n.map_size(); ++i) {
      const std::string& k = n.key(i).value;
      const YamlNode& v = n.val(i);
      std::string sub = key + "." + k;
      if (k == "caps") ok = strings(v, sub, out.caps) && ok;
      else if (k == "arches") ok = strings(v, sub, out.arches) && ok;
      else if (k == "minKernel") ok = (v.is_null() || string(v, sub, out.min_kernel)) && ok;
      else {
        error(n.key(i), sub, "unknown key (caps, arches, minKernel)");
        ok = false;
      }
    }
    return ok;
  }

  bool arg(const YamlNode& n, const std::string& key, ArgCmp& out) {
    if (n.kind != YamlNode::Kind::map) {
      error(n, key, "must be a mapping of index, value, valueTwo and op");
      return false;
    }
    bool ok = true, have_index = false, have_op = false;
    for (size_t i = 0; i < n.map_size(); ++i) {
      const std::string& k = n.key(i).value;
      const YamlNode& v = n.val(i);
      std::string sub = key + "." + k;
      uint64_t num = 0;
      if (k == "index") {
        have_index = true;
        if (number(v, sub, num, 5)) out.index = static_cast<unsigned>(num);
        else ok = false;
      } else if (k == "value") {
        ok = number(v, sub, out.value, UINT64_MAX) && ok;
      } else if (k == "valueTwo") {
        ok = number(v, sub, out.value_two, UINT64_MAX) && ok;
      } else if (k == "op") {
        have_op = true;
        std::string s;
        static const std::pair<const char*, scmp_compare> kOps[] = {
            {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
            {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
            {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
        };
        bool found = false;
        if (string(v, sub, s)) {
          for (const auto& [name, op] : kOps) {
            if (s == name) {
              out.op = op;
              found = true;
            }
          }
          if (!found) error(v, sub, "unknown operator \"" + s + "\" (SCMP_CMP_EQ, SCMP_CMP_NE, SCMP_CMP_LT, "
                                    "SCMP_CMP_LE, SCMP_CMP_GT, SCMP_CMP_GE, SCMP_CMP_MASKED_EQ)");
        }
        ok = found && ok;
      } else {
        error(n.key(i), sub, "unknown key (index, value, valueTwo, op)");
        ok = false;
      }
    }
    if (!have_index) error(n, key + ".index", "is missing");
    if (!have_op) error(n, key + ".op", "is missing");
    return ok && have_index && have_op;
  }

  bool rule(const YamlNode& n, const std::string& key, Rule& out) {
    out.key = key;
    out.loc = {file_, n.line, n.col};
    if (n.kind != YamlNode::Kind::map) {
      error(n, key, "must be a mapping with names and action");
      return false;
    }
    bool ok = true, have_action = false;
    uint64_t errno_ret = 0;
    bool have_errno = false;
    for (size_t i = 0; i < n.map_size(); ++i) {
      const std::string& k = n.key(i).value;
      const YamlNode& v = n.val(i);
      std::string sub = key + "." + k;
      if (k == "names") {
        ok = strings(v, sub, out.names) && ok;
      } else if (k == "name") {  // the old Docker format
        std::string s;
        if (string(v, sub, s)) out.names.push_back(s);
        else ok = false;
      } else if (k == "action") {
        have_action = action(v, sub, out.action);
        ok = have_action && ok;
      } else if (k == "errnoRet") {
        have_errno = !v.is_null();
        ok = (v.is_null() || number(v, sub, errno_ret, 4095)) && ok;
      } else if (k == "args") {
        ok = each(v, sub, [&](const YamlNode& item, const std::string& ik) {
          ArgCmp c;
          if (!arg(item, ik, c)) return false;
          out.args.push_back(c);
          return true;
        }) && ok;
        if (out.args.size() > 6) {
          error(v, sub, "has more than 6 comparisons");
          ok = false;
        }
      } else if (k == "includes") {
        ok = condition(v, sub, out.includes) && ok;
      } else if (k == "excludes") {
        ok = condition(v, sub, out.excludes) && ok;
      } else if (k == "comment" || k == "errno") {
        // comment: free text; errno: podman's name of errnoRet, redundant.
      } else {
        error(n.key(i), sub, "unknown key (names, action, errnoRet, args, includes, excludes, comment)");
        ok = false;
      }
    }
    if (!have_action && ok) {
      error(n, key + ".action", "is missing");
      ok = false;
    }
    if (out.names.empty() && ok) {
      error(n, key + ".names", "is missing or empty");
      ok = false;
    }
    return attach_ret(out.action, have_errno, errno_ret, n, key + ".errnoRet") && ok;
  }

  bool profile(const YamlNode& root, Profile& out) {
    bool ok = true, have_default = false;
    uint64_t default_errno = 0;
    bool have_default_errno = false;
    std::vector<std::string> listed_arches;
    std::string native = arch_name(seccomp_arch_native());
    for (size_t i = 0; i < root.map_size(); ++i) {
      const std::string& k = root.key(i).value;
      const YamlNode& v = root.val(i);
      if (k == "defaultAction") {
        have_default = action(v, k, out.default_action);
        ok = have_default && ok;
      } else if (k == "defaultErrnoRet") {
        have_default_errno = !v.is_null();
        ok = (v.is_null() || number(v, k, default_errno, 4095)) && ok;
      } else if (k == "architectures") {
        ok = each(v, k, [&](const YamlNode& item, const std::string& ik) {
          std::string name;
          if (!arch(item, ik, name)) return false;
          listed_arches.push_back(name);
          return true;
        }) && ok;
      } else if (k == "archMap") {
        // Docker: the entry of the host's architecture names the others it runs.
        ok = each(v, k, [&](const YamlNode& e, const std::string& key) {
          if (e.kind != YamlNode::Kind::map) {
            error(e, key, "must be a mapping of architecture and subArchitectures");
            return false;
          }
          bool entry_ok = true;
          std::string main;
          std::vector<std::string> subs;
          for (size_t j = 0; j < e.map_size(); ++j) {
            const std::string& ek = e.key(j).value;
            const YamlNode& ev = e.val(j);
            if (ek == "architecture") {
              entry_ok = arch(ev, key + ".architecture", main) && entry_ok;
            } else if (ek == "subArchitectures") {
              entry_ok = each(ev, key + "." + ek, [&](const YamlNode& item, const std::string& ik) {
                std::string name;
                if (!arch(item, ik, name)) return false;
                subs.push_back(name);
                return true;
              }) && entry_ok;
            } else {
              error(e.key(j), key + "." + ek, "unknown key (architecture, subArchitectures)");
              entry_ok = false;
            }
          }
          if (main == native) {
            listed_arches.push_back(main);
            listed_arches.insert(listed_arches.end(), subs.begin(), subs.end());
          }
          return entry_ok;
        }) && ok;
      } else if (k == "flags") {
        std::vector<std::string> flags;
        if (!strings(v, k, flags)) {
          ok = false;
          continue;
        }
        for (size_t f = 0; f < flags.size(); ++f) {
          if (flags[f] == "SECCOMP_FILTER_FLAG_LOG") out.flags |= SECCOMP_FILTER_FLAG_LOG;
          else if (flags[f] == "SECCOMP_FILTER_FLAG_SPEC_ALLOW") out.flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
          else if (flags[f] == "SECCOMP_FILTER_FLAG_TSYNC") continue;  // the payload has one thread at load time
          else {
            error(v.children[f], k + "[" + std::to_string(f) + "]",
                  "unknown flag \"" + flags[f] + "\" (SECCOMP_FILTER_FLAG_LOG, SECCOMP_FILTER_FLAG_SPEC_ALLOW, "
                  "SECCOMP_FILTER_FLAG_TSYNC)");
            ok = false;
          }
        }
      } else if (k == "syscalls") {
        ok = each(v, k, [&](const YamlNode& item, const std::string& ik) {
          Rule r;
          if (!rule(item, ik, r)) return false;
          out.rules.push_back(std::move(r));
          return true;
        }) && ok;
      } else if (k == "listenerPath" || k == "listenerMetadata") {
        if (!v.is_null() && !(v.kind == YamlNode::Kind::scalar && v.value.empty())) {
          error(root.key(i), k, "needs a seccomp listener, which ctrun does not run");
          ok = false;
        }
      } else if (k == "defaultErrno" || k == "comment") {
        // podman's name for defaultErrnoRet; free text.
      } else {
        error(root.key(i), k, "unknown key (defaultAction, defaultErrnoRet, architectures, archMap, flags, syscalls)");
        ok = false;
      }
    }
    if (!have_default && ok) {
      error(root, "defaultAction", "is missing");
      ok = false;
    }
    ok = attach_ret(out.default_action, have_default_errno, default_errno, root, "defaultErrnoRet") && ok;
    // Only the architectures this host can run are worth a filter section.
    for (const auto& a : listed_arches) {
      if (std::find(out.arches.begin(), out.arches.end(), a) != out.arches.end()) continue;
      if (a == native || runs_on_host(a, native)) out.arches.push_back(a);
    }
    return ok;
  }

  static std::string arch_name(uint32_t token) {
    switch (token) {
      case SCMP_ARCH_X86_64: return "x86_64";
      case SCMP_ARCH_X86: return "x86";
      case SCMP_ARCH_X32: return "x32";
      case SCMP_ARCH_AARCH64: return "aarch64";
      case SCMP_ARCH_ARM: return "arm";
      case SCMP_ARCH_PPC64LE: return "ppc64le";
      case SCMP_ARCH_S390X: return "s390x";
      case SCMP_ARCH_S390: return "s390";
      case SCMP_ARCH_RISCV64: return "riscv64";
      default: return "native";
    }
  }

  static bool runs_on_host(const std::string& a, const std::string& native) {
    if (native == "x86_64") return a == "x86" || a == "x32";
    if (native == "aarch64") return a == "arm";
    if (native == "s390x") return a == "s390";
    return false;
  }

 private:
  const std::string& file_;
  Diagnostics& diags_;
};

}  // namespace

std::string_view default_profile_text() { return kDefaultProfile; }

bool parse_profile(std::string_view text, const std::string& file, Profile& out, Diagnostics& diags) {
  YamlNode root;
  size_t before = diags.error_count();
  if (!manifest::parse_yaml(detab(text), file, root, diags)) return false;
  out.source = file;
  Reader r(file, diags);
  r.profile(root, out);
  return diags.error_count() == before;
}

}  // namespace ctrun::seccomp
