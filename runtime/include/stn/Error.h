//===- Error.h - The exception type of the stn public API -------*- C++ -*-===//
//
// Part of the stn public API. Every user mistake (syntax, types, a wrong
// argument, an unreadable file) reaches the host as an `stn::Error` whose
// message is the formatted diagnostics ("file.stn:L:C: error: ..." with the
// source line and a caret). The library never exits or aborts on user input.
//
//===----------------------------------------------------------------------===//

#ifndef STN_ERROR_H
#define STN_ERROR_H

#include <stdexcept>
#include <string>

namespace stn {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

} // namespace stn

#endif // STN_ERROR_H
