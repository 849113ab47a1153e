#include "model/loaded_model.h"

namespace nextn {

std::unique_ptr<LoadedModel> LoadedModel::open(const std::filesystem::path& dir,
                                               const LoadOptions& options) {
  auto model = std::make_unique<LoadedModel>();
  model->config = load_model_config(dir);
  model->checkpoint = Checkpoint::open(dir);
  model->weights = WeightSet::load(model->checkpoint, model->config, options);
  model->bound = bind_model_weights(model->weights, model->config);
  return model;
}

}  // namespace nextn
