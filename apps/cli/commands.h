// The subcommands of the `nextn` binary. Each registers its options on the CLI11 app and
// returns the action to run after parsing; the actions throw nextn::Error on bad input.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace nextn::cli {

using Action = std::function<int()>;

Action add_inspect_command(CLI::App& app);
Action add_make_tiny_command(CLI::App& app);
Action add_logits_command(CLI::App& app);
Action add_generate_command(CLI::App& app);
Action add_bench_command(CLI::App& app);
Action add_tokenize_command(CLI::App& app);
Action add_chat_command(CLI::App& app);
Action add_serve_command(CLI::App& app);

}  // namespace nextn::cli
