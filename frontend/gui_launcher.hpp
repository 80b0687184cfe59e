// `hvlab gui`: the debugger is its own program (hvlab-gui, next to hvlab), so that `hvlab run`
// never loads SDL and the sound, display and D-Bus libraries behind it.
#pragma once

namespace hvlab::frontend {

// Replaces this process with hvlab-gui from hvlab's folder, passing argv[first..]. Returns (a
// process status, after printing why) only when it cannot be started.
int execGui(int argc, char** argv, int first);

}  // namespace hvlab::frontend
