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

/// Makes a `posix_spawn` child close every descriptor from `lowest` on before it runs, so it
/// inherits none of the parent's sockets and pipes. A glibc 2.34+ GNU extension that Glibc's Swift
/// module does not export. Declared here on an opaque pointer rather than through <spawn.h>: that
/// header, included under _GNU_SOURCE, gives `fd_set` a different shape than the one of the
/// Glibc module, and Clang refuses the mismatch in a clean build.
extern int posix_spawn_file_actions_addclosefrom_np(void *actions, int lowest);
static inline int CZeroMQ_spawnActionsCloseFrom(void *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

#endif
