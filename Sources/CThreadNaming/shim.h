#ifndef CTHREADNAMING_SHIM_H
#define CTHREADNAMING_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>

/// Names the calling thread (shown by debuggers and /proc). pthread_setname_np is a GNU extension
/// that Glibc's Swift module does not export; socket-owning threads are named so a stuck shutdown
/// can be diagnosed from a thread dump.
static inline void CThreadNaming_setCurrentThreadName(const char *name) {
#if defined(__linux__)
    pthread_setname_np(pthread_self(), name);
#else
    (void)name;
#endif
}

#endif
