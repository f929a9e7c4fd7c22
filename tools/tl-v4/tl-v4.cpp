// tl-v4: command-line entry point for the DeepSeek-V4 model directory.
// Subcommands are registered by the groups declared in Commands.h; every
// error surfaces as one "tl-v4: error: ..." line and exit status 1.
#include "Commands.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <exception>

int main(int argc, char **argv) {
  CLI::App app{"tl-v4: DeepSeek-V4 model tools"};
  app.require_subcommand(1);
  tlv4::tool::registerCheckpointCommands(app);
  tlv4::tool::registerGenerateCommand(app);
  tlv4::tool::registerKernelCommands(app);
  tlv4::tool::registerBenchCommand(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e);
  } catch (const std::exception &e) {
    fmt::print(stderr, "tl-v4: error: {}\n", e.what());
    return 1;
  }
  return 0;
}
