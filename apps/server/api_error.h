// OpenAI-style errors: an HTTP status and the body {"error": {"message", "type", "param",
// "code"}}. Request parsing and the handlers throw ApiError; the server turns it into the
// response, so a bad request never reaches the engine and never ends the server.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace nextn::server {

class ApiError : public std::runtime_error {
 public:
  // `param` names the request field at fault ("messages[2].content", "max_tokens"), empty when
  // none; `code` is the machine-readable reason ("model_not_found"), empty when none.
  ApiError(int status, std::string type, std::string message, std::string param = {},
           std::string code = {})
      : std::runtime_error(message),
        status_(status),
        type_(std::move(type)),
        param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& type() const { return type_; }
  const std::string& param() const { return param_; }
  const std::string& code() const { return code_; }

 private:
  int status_;
  std::string type_;
  std::string param_;
  std::string code_;
};

// 400 invalid_request_error naming the parameter.
template <typename... Args>
[[noreturn]] void invalid_param(const std::string& param, fmt::format_string<Args...> format,
                                Args&&... args) {
  throw ApiError(400, "invalid_request_error", fmt::format(format, std::forward<Args>(args)...),
                 param);
}

// The JSON body of an error response (one line).
std::string error_body(const ApiError& error);
std::string error_body(int status, const std::string& type, const std::string& message,
                       const std::string& param = {}, const std::string& code = {});

// The error type OpenAI uses for a status without a more specific one.
const char* error_type_for_status(int status);

}  // namespace nextn::server
