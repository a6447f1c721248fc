#include "base/signals.h"

#include <csignal>
#include <utility>

#include "base/units.h"

namespace ctrun {
namespace {

constexpr std::pair<const char*, int> kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},   {"STKFLT", SIGSTKFLT},
    {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},   {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},     {"XCPU", SIGXCPU},
    {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},   {"WINCH", SIGWINCH},
    {"IO", SIGIO},     {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

}  // namespace

std::optional<int> parse_signal(std::string_view text) {
  if (!text.empty() && text.front() >= '0' && text.front() <= '9') {
    auto n = parse_int(text, 1, SIGRTMAX);
    if (!n) return std::nullopt;
    return static_cast<int>(*n);
  }
  std::string_view s = text;
  if (s.substr(0, 3) == "SIG") s.remove_prefix(3);
  for (auto [name, sig] : kSignals) {
    if (s == name) return sig;
  }
  auto offset = [&](std::string_view base, int sign) -> std::optional<int> {
    std::string_view rest = s.substr(base.size());
    if (rest.empty()) return 0;
    if (rest.front() != (sign > 0 ? '+' : '-')) return std::nullopt;
    auto n = parse_int(rest.substr(1), 0, SIGRTMAX - SIGRTMIN);
    if (!n || rest.size() < 2 || rest[1] == '+' || rest[1] == '-') return std::nullopt;
    return static_cast<int>(*n) * sign;
  };
  if (s.starts_with("RTMIN")) {
    if (auto o = offset("RTMIN", 1)) return SIGRTMIN + *o;
  } else if (s.starts_with("RTMAX")) {
    if (auto o = offset("RTMAX", -1)) return SIGRTMAX + *o;
  }
  return std::nullopt;
}

std::string signal_name(int sig) {
  for (auto [name, number] : kSignals) {
    if (number == sig) return std::string("SIG") + name;
  }
  if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
    return sig == SIGRTMIN ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(sig - SIGRTMIN);
  }
  return std::to_string(sig);
}

}  // namespace ctrun
