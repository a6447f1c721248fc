// The command line a process shows in /proc/PID/cmdline. The container's
// stub init is a fork of ctrun: without this it would show the container
// ctrun's whole command line (the manifest's host path, every --set), and
// /proc/1/cmdline is readable by any process of the container.
#pragma once

namespace ctrun {

// Remembers where argv's strings lie (main calls this first).
void remember_command_line(int argc, char** argv);
// Overwrites them in place with `title` (cut to fit) and zeros.
void set_command_line(const char* title);

}  // namespace ctrun
