// nextn: speculative decoding with the MTP layers of DeepSeek-V3 and GLM-4.5 checkpoints.
#include <cstdio>
#include <map>
#include <string>

#include "commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"nextn: run DeepSeek-V3 and GLM-4.5 checkpoints with their MTP layers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "nextn 0.1.0");
  std::map<std::string, nextn::cli::Action> actions;
  actions["inspect"] = nextn::cli::add_inspect_command(app);
  actions["make-tiny"] = nextn::cli::add_make_tiny_command(app);
  actions["logits"] = nextn::cli::add_logits_command(app);
  actions["generate"] = nextn::cli::add_generate_command(app);
  actions["bench"] = nextn::cli::add_bench_command(app);
  actions["tokenize"] = nextn::cli::add_tokenize_command(app);
  actions["chat"] = nextn::cli::add_chat_command(app);
  actions["serve"] = nextn::cli::add_serve_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& [name, action] : actions) {
      if (app.got_subcommand(name)) return action();
    }
  } catch (const nextn::Error& e) {
    std::fprintf(stderr, "nextn: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nextn: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
