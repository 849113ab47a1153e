#include "server/api_error.h"

#include <nlohmann/json.hpp>

namespace nextn::server {

std::string error_body(int status, const std::string& type, const std::string& message,
                       const std::string& param, const std::string& code) {
  nlohmann::ordered_json error = {{"message", message},
                                  {"type", type.empty() ? error_type_for_status(status) : type},
                                  {"param", nullptr},
                                  {"code", nullptr}};
  if (!param.empty()) error["param"] = param;
  if (!code.empty()) error["code"] = code;
  // Messages may quote request bytes that are not UTF-8: never let dump() throw on them.
  return nlohmann::ordered_json{{"error", error}}.dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace);
}

std::string error_body(const ApiError& error) {
  return error_body(error.status(), error.type(), error.what(), error.param(), error.code());
}

const char* error_type_for_status(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    case 503:
      return "service_unavailable_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

}  // namespace nextn::server
