// Reads a fabric file (version 1) into a description, collecting every
// diagnostic. FabricDescription::load and ::parse are the public entry.
#pragma once

#include <string>

#include "inca/fabric_description.hpp"

namespace inca::fabric_file {

FabricLoad read_fabric(const std::string& text, const std::string& file,
                       const FabricOverrides& overrides);

}  // namespace inca::fabric_file
