// Umbrella header: everything a micro-cpp user needs.
#pragma once

#include <micro/broker.h>
#include <micro/client.h>
#include <micro/codec.h>
#include <micro/context.h>
#include <micro/error_ids.h>
#include <micro/errors.h>
#include <micro/generated.h>
#include <micro/handler.h>
#include <micro/logger.h>
#include <micro/metadata.h>
#include <micro/plugin.h>
#include <micro/registry.h>
#include <micro/runtime.h>
#include <micro/selector.h>
#include <micro/server.h>
#include <micro/service.h>
#include <micro/status.h>
#include <micro/subscriber.h>
#include <micro/transport.h>
#include <micro/util.h>
#include <micro/version.h>
