// What the server needs of the engine: submit, cancel, metrics. Engine is the real one
// (EngineBackend); tests drive the HTTP layer with scripted backends that refuse, stall or
// stream on demand, which the real engine cannot be made to do at will.
#pragma once

#include <cstdint>

#include "engine/engine.h"

namespace nextn::server {

class GenerationBackend {
 public:
  virtual ~GenerationBackend() = default;
  // As Engine::submit: Error naming a bad parameter, EngineFull when it cannot be admitted.
  // The callbacks may run on another thread, and on_done even before submit returns.
  virtual uint64_t submit(GenerationRequest request, GenerationCallbacks callbacks) = 0;
  virtual void cancel(uint64_t id) = 0;
  virtual EngineMetrics metrics() const = 0;
};

class EngineBackend final : public GenerationBackend {
 public:
  explicit EngineBackend(Engine& engine) : engine_(engine) {}
  uint64_t submit(GenerationRequest request, GenerationCallbacks callbacks) override {
    return engine_.submit(std::move(request), std::move(callbacks));
  }
  void cancel(uint64_t id) override { engine_.cancel(id); }
  EngineMetrics metrics() const override { return engine_.metrics(); }

 private:
  Engine& engine_;
};

}  // namespace nextn::server
