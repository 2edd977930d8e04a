#ifndef CZEROMQ_SHIM_H
#define CZEROMQ_SHIM_H

#include <zmq.h>

/// ZMQ_VERSION is a function-like macro, which Swift cannot import.
static inline int CZeroMQ_headerVersion(void) { return ZMQ_VERSION; }

#endif
