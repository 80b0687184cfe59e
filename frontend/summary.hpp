// The report `hvlab run` prints when the guest stops: the outcome, exits by reason, the
// startup time and host memory use.
#pragma once

#include <cstdio>

#include "hv/vm.hpp"

namespace hvlab::frontend {

void printSummary(std::FILE* out, hv::Vm& vm, const hv::RunOutcome& outcome, double runSeconds, bool withOutcome);

// Peak resident set size of this process (VmHWM), in bytes.
uint64_t peakRssBytes();

}  // namespace hvlab::frontend
