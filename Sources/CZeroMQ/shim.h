#ifndef CZEROMQ_SHIM_H
#define CZEROMQ_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <zmq.h>

/// ZMQ_VERSION is a function-like macro, which Swift cannot import.
static inline int CZeroMQ_headerVersion(void) { return ZMQ_VERSION; }

/// Names the calling thread (shown by debuggers and /proc). pthread_setname_np is a GNU extension
/// that Glibc's Swift module does not export; socket-owning threads are named so a stuck shutdown
/// can be diagnosed from a thread dump.
static inline void CZeroMQ_setCurrentThreadName(const char *name) {
#if defined(__linux__)
    pthread_setname_np(pthread_self(), name);
#else
    (void)name;
#endif
}

#endif
