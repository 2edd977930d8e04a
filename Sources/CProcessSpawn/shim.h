#ifndef CPROCESSSPAWN_SHIM_H
#define CPROCESSSPAWN_SHIM_H

/// Makes a `posix_spawn` child close every descriptor from `lowest` on before it runs, so it
/// inherits none of the parent's sockets and pipes. A glibc 2.34+ GNU extension that Glibc's Swift
/// module does not export. Declared here on an opaque pointer rather than through <spawn.h>: that
/// header, included under _GNU_SOURCE, gives `fd_set` a different shape than the one of the
/// Glibc module, and Clang refuses the mismatch in a clean build.
extern int posix_spawn_file_actions_addclosefrom_np(void *actions, int lowest);
static inline int CProcessSpawn_closeFrom(void *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

#endif
