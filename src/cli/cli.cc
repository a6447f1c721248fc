#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "base/diagnostic.h"
#include "base/proctitle.h"
#include "base/timeline.h"
#include "launch/launcher.h"
#include "manifest/emit.h"
#include "manifest/reader.h"
#include "ops/ops.h"
#include "base/units.h"
#include "plan/plan.h"
#include "validate/validate.h"
#include "version.h"

namespace ctrun::cli {
namespace {

struct Loaded {
  manifest::Manifest manifest;
  manifest::SourceMap locs;
};

// Prints every diagnostic, and the error count when there are errors;
// returns whether the stage may go on.
bool report(const std::string& path, const Diagnostics& diags, bool ok) {
  for (const auto& d : diags.items()) std::fprintf(stderr, "%s\n", render(d).c_str());
  if (ok) return true;
  size_t n = diags.error_count();
  std::fprintf(stderr, "ctrun: %s: %zu error%s\n", path.c_str(), n, n == 1 ? "" : "s");
  return false;
}

// parse -> validate: every diagnostic of both stages, then a verdict.
std::optional<Loaded> load(const std::string& path, const std::vector<std::string>& sets,
                           const std::optional<std::vector<std::string>>& args) {
  Loaded out;
  Diagnostics diags;
  manifest::LoadOptions options;
  options.sets = sets;
  timeline_mark("cli");
  auto status = manifest::read_manifest_file(path, options, out.manifest, out.locs, diags);
  timeline_mark("parsed");
  bool ok = status == manifest::ReadStatus::ok;
  if (status != manifest::ReadStatus::unreadable) {
    if (args) out.manifest.process.args = *args;
    ok = validate::validate(out.manifest, out.locs, diags) && ok;
  }
  if (!report(path, diags, ok)) return std::nullopt;
  return out;
}

// validated manifest + host facts -> plan, or the diagnostics of what this
// build cannot do.
// use_cache: a run reads and writes compiled seccomp filters in the state
// directory; `validate --plan` compiles afresh and writes nothing.
std::optional<plan::LaunchPlan> make_plan(const std::string& path, const Loaded& loaded, bool use_cache) {
  plan::LaunchPlan p;
  Diagnostics diags;
  plan::HostFacts host = plan::read_host_facts();
  timeline_mark("host-facts");
  if (loaded.manifest.boot) plan::read_guest_facts(loaded.manifest, host);
  bool ok = plan::build_plan(loaded.manifest, loaded.locs, host, p, diags) && plan::prepare(p, host, diags, use_cache);
  diags.sort();
  if (!report(path, diags, ok)) return std::nullopt;
  return p;
}

}  // namespace

int run(int argc, char** argv) {
  timeline_mark("start");
  remember_command_line(argc, argv);
  // Everything after the first "--" is the command that replaces process.args;
  // CLI11 never sees it, so an argument such as --help reaches the container.
  std::vector<std::string> front;
  std::optional<std::vector<std::string>> command;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--" && !command) {
      command.emplace();
      continue;
    }
    if (command) command->push_back(a);
    else front.push_back(a);
  }
  // `ctrun MANIFEST` is `ctrun run MANIFEST`.
  static const std::vector<std::string> kVerbs = {"run",    "validate", "list", "status", "stop",   "kill",
                                                  "freeze", "thaw",     "check", "exec", "help",  "--help", "-h", "--version"};
  if (front.empty() || std::find(kVerbs.begin(), kVerbs.end(), front.front()) == kVerbs.end()) {
    front.insert(front.begin(), "run");
  }

  CLI::App app{"ctrun runs a Linux container described by a YAML manifest (see ctrun.manifest(5)).", "ctrun"};
  app.set_version_flag("--version", std::string("ctrun ") + CTRUN_VERSION);
  app.require_subcommand(1, 1);
  app.footer("ctrun MANIFEST [-- CMD ARGS...] is the same as ctrun run. Exit status: the container's; "
             "125 when ctrun failed; 2 for usage errors.");

  std::string manifest_path;
  std::vector<std::string> sets;
  bool plan = false;

  auto add_common = [&](CLI::App* sub) {
    sub->add_option("manifest", manifest_path, "the manifest file")->required();
    sub->add_option("--set", sets, "override a key: --set resources.memory.max=256M (repeatable; key= removes)")
        ->take_all()
        ->allow_extra_args(false);
  };
  CLI::App* run_cmd = app.add_subcommand("run", "run the container the manifest describes (the default verb)");
  add_common(run_cmd);
  std::string name, signal = "SIGTERM", timeout;
  bool as_json = false, all = false;
  ops::ExecRequest exec_req;
  bool want_tty = false, no_tty = false;
  CLI::App *validate_cmd = nullptr, *list_cmd = nullptr, *status_cmd = nullptr, *stop_cmd = nullptr,
           *kill_cmd = nullptr, *check_cmd = nullptr, *freeze_cmd = nullptr, *thaw_cmd = nullptr, *exec_cmd = nullptr;
  // `run` (and `ctrun MANIFEST`) describes only itself to CLI11: building
  // every verb's options costs a container start some 0.3 ms. The others,
  // and help, see them all.
  if (front.front() != "run") {
    validate_cmd =
        app.add_subcommand("validate", "check a manifest and print the effective manifest (defaults filled in)");
    add_common(validate_cmd);
    validate_cmd->add_flag("--plan", plan, "also print the launch plan");
    // Verbs on running containers (ops/ops.h).
    list_cmd = app.add_subcommand("list", "list the running containers");
    list_cmd->add_flag("--json", as_json, "a JSON array (bytes, seconds)");
    list_cmd->add_flag("--all", all, "also containers whose ctrun was killed (state dead)");
    status_cmd = app.add_subcommand("status", "one container in detail, with its beancounters");
    status_cmd->add_option("name", name, "the container")->required();
    status_cmd->add_flag("--json", as_json, "as JSON (bytes, microseconds)");
    stop_cmd = app.add_subcommand("stop", "stop a container as SIGTERM to its ctrun would");
    stop_cmd->add_option("name", name, "the container")->required();
    stop_cmd->add_option("--timeout", timeout, "kill it after this long (default: its stop.timeout)");
    kill_cmd = app.add_subcommand("kill", "send a signal to the container's command (or every process)");
    kill_cmd->add_option("name", name, "the container")->required();
    kill_cmd->add_option("signal", signal, "a name or number (default SIGTERM)");
    kill_cmd->add_flag("--all", all, "every process of the container");
    check_cmd = app.add_subcommand("check", "what this host gives a container, tried item by item");
    check_cmd->add_flag("--json", as_json, "as JSON");
    check_cmd->add_option("manifest", manifest_path, "check this manifest against the host instead");
    check_cmd->add_option("--set", sets, "override a key, as for run")->take_all()->allow_extra_args(false);
    freeze_cmd = app.add_subcommand("freeze", "freeze the container's processes (ctrun keeps running)");
    freeze_cmd->add_option("name", name, "the container")->required();
    thaw_cmd = app.add_subcommand("thaw", "thaw a frozen container");
    thaw_cmd->add_option("name", name, "the container")->required();
    exec_cmd = app.add_subcommand("exec", "run a command in a running container: ctrun exec NAME -- CMD...");
    exec_cmd->add_option("name", exec_req.name, "the container")->required();
    exec_cmd->add_flag("-t,--tty", want_tty, "a pty of the container for the command (default: when stdin is a terminal)");
    exec_cmd->add_flag("-T,--no-tty", no_tty, "the caller's stdin, stdout and stderr as they are");
    exec_cmd->add_option("-u,--user", exec_req.user, "USER[:GROUP], from the container's passwd and group files");
    exec_cmd->add_option("-w,--workdir", exec_req.cwd, "the command's directory (default: process.cwd)");
    exec_cmd->add_option("-e,--env", exec_req.env, "K=V over the container's environment (repeatable)")->take_all();
    exec_cmd->add_option("--cgroup", exec_req.cgroup, "a cgroup below the container's to run in");
  }

  try {
    std::vector<std::string> reversed(front.rbegin(), front.rend());
    app.parse(reversed);
  } catch (const CLI::CallForHelp& e) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::CallForVersion& e) {
    std::cout << e.what() << "\n";
    return 0;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {
      app.exit(e);
      return 0;
    }
    std::fprintf(stderr, "ctrun: %s\nTry 'ctrun --help' for more information.\n", e.what());
    return kExitUsage;
  }

  const std::string state_dir = plan::LaunchPlan{}.state_dir;
  auto parsed = [](const CLI::App* cmd) { return cmd != nullptr && cmd->parsed(); };
  // A name on the command line becomes a path below the state directory:
  // only what a manifest's name may be (no "..", no "/").
  if (const std::string& n = parsed(exec_cmd) ? exec_req.name : name; !n.empty() && !manifest::is_name(n)) {
    std::fprintf(stderr, "ctrun: \"%s\" is not a container name ([A-Za-z0-9_.-], 1 to 64 characters, not . or ..)\n",
                 n.c_str());
    return kExitUsage;
  }
  if (parsed(exec_cmd)) {
    if (!command || command->empty()) {
      std::fprintf(stderr, "ctrun: exec needs the command after --: ctrun exec NAME -- CMD...\n");
      return kExitUsage;
    }
    if (want_tty && no_tty) {
      std::fprintf(stderr, "ctrun: exec: -t and -T exclude each other\n");
      return kExitUsage;
    }
    if (want_tty || no_tty) exec_req.tty = want_tty;
    for (const auto& kv : exec_req.env) {
      if (kv.find('=') == std::string::npos || kv[0] == '=') {
        std::fprintf(stderr, "ctrun: exec: -e %s: expected NAME=value\n", kv.c_str());
        return kExitUsage;
      }
    }
    if (!exec_req.cwd.empty() && exec_req.cwd[0] != '/') {
      std::fprintf(stderr, "ctrun: exec: -w %s: expected an absolute path\n", exec_req.cwd.c_str());
      return kExitUsage;
    }
    std::string error;
    if (!ops::reexec_sealed(argv, error)) {
      std::fprintf(stderr, "ctrun: %s\n", error.c_str());
      return kExitFailure;
    }
    exec_req.command = *command;
    return ops::exec(state_dir, exec_req, [&](const std::string& snapshot, const std::vector<std::string>& cmd) {
      auto loaded = load(snapshot, {}, cmd);
      return loaded ? make_plan(snapshot, *loaded, true) : std::nullopt;
    });
  }
  if (parsed(check_cmd)) {
    if (manifest_path.empty()) return ops::check(as_json);
    // The manifest's own errors (with their positions) are its answer: 1.
    auto loaded = load(manifest_path, sets, std::nullopt);
    if (!loaded) return ops::kNotRunning;
    auto p = make_plan(manifest_path, *loaded, false);
    if (!p) return ops::kNotRunning;
    return ops::check_manifest(*p, as_json);
  }
  if (parsed(list_cmd) || parsed(status_cmd) || parsed(stop_cmd) || parsed(kill_cmd) || parsed(freeze_cmd) ||
      parsed(thaw_cmd)) {
    if (command) {
      std::fprintf(stderr, "ctrun: this verb takes no command after --\n");
      return kExitUsage;
    }
    if (parsed(list_cmd)) return ops::list(state_dir, as_json, all);
    if (parsed(status_cmd)) return ops::status(state_dir, name, as_json);
    if (parsed(kill_cmd)) return ops::kill(state_dir, name, signal, all);
    if (parsed(freeze_cmd) || parsed(thaw_cmd)) return ops::freeze(state_dir, name, parsed(freeze_cmd));
    std::optional<uint64_t> t;
    if (!timeout.empty()) {
      t = parse_duration_us(timeout);
      if (!t) {
        std::fprintf(stderr, "ctrun: --timeout: \"%s\" is not a duration (examples: 10s, 1min 30s)\n", timeout.c_str());
        return kExitUsage;
      }
    }
    return ops::stop(state_dir, name, t);
  }

  if (parsed(validate_cmd)) {
    if (command) {
      std::fprintf(stderr, "ctrun: validate takes no command after --\n");
      return kExitUsage;
    }
    auto loaded = load(manifest_path, sets, std::nullopt);
    if (!loaded) return kExitFailure;
    std::fputs(manifest::emit_yaml(loaded->manifest).c_str(), stdout);
    if (plan) {
      auto p = make_plan(manifest_path, *loaded, false);
      if (!p) return kExitFailure;
      std::fputs(plan::format_plan(*p).c_str(), stdout);
    }
    return 0;
  }

  auto loaded = load(manifest_path, sets, command);
  if (!loaded) return kExitFailure;
  auto p = make_plan(manifest_path, *loaded, true);
  if (!p) return kExitFailure;
  p->manifest_path = manifest_path;
  p->effective = std::move(loaded->manifest);
  timeline_mark("planned");
  return launch::launch(*p);
}

}  // namespace ctrun::cli
