// Commands: the subcommand groups of tl-v4. Each group lives in its own
// file and registers its CLI11 subcommands on the app.
#pragma once

namespace CLI {
class App;
}

namespace tlv4::tool {

// make-tiny, inspect (CheckpointCommands.cpp).
void registerCheckpointCommands(CLI::App &app);
// generate (Generate.cpp).
void registerGenerateCommand(CLI::App &app);
// build-kernels (KernelCommands.cpp).
void registerKernelCommands(CLI::App &app);
// bench (Bench.cpp).
void registerBenchCommand(CLI::App &app);

} // namespace tlv4::tool
