// Umbrella header: everything a micro-cpp user needs.
#pragma once

#include <micro/codec.h>
#include <micro/context.h>
#include <micro/errors.h>
#include <micro/logger.h>
#include <micro/metadata.h>
#include <micro/plugin.h>
#include <micro/registry.h>
#include <micro/selector.h>
#include <micro/status.h>
#include <micro/version.h>
