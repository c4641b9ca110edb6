//===- stn.h - Umbrella header of the stn host API --------------*- C++ -*-===//
//
// Part of the stn public API: include this one header.
//
//===----------------------------------------------------------------------===//

#ifndef STN_STN_H
#define STN_STN_H

#include "stn/Array.h"
#include "stn/Cache.h"
#include "stn/Engine.h"
#include "stn/Error.h"
#include "stn/Gpu.h"
#include "stn/Npy.h"
#include "stn/Value.h"

#endif // STN_STN_H
