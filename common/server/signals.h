// Copyright 2026 Trainyard authors.
//
// SIGTERM/SIGINT handling without async-signal-unsafe handlers: main blocks
// the signals before starting any thread (every thread inherits the mask),
// then waits for one synchronously.
#pragma once

namespace trainyard::server {

// Blocks SIGTERM and SIGINT in the calling thread. Call first thing in main.
void BlockTerminationSignals();

// Waits until SIGTERM or SIGINT arrives; returns its number.
// REQUIRES: BlockTerminationSignals() was called before any thread started.
int WaitForTerminationSignal();

}  // namespace trainyard::server
