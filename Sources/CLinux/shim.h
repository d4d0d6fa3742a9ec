#ifndef CLINUX_SHIM_H
#define CLINUX_SHIM_H
#include <sys/types.h>
#include <fcntl.h>

/* Linux calls that <fcntl.h> declares only under _GNU_SOURCE, which Swift's Glibc module is
   built without: declared here as glibc exports them. */
extern int sync_file_range(int fd, __off64_t offset, __off64_t nbytes, unsigned int flags);

/* sync_file_range flags (<fcntl.h>, _GNU_SOURCE). */
static const unsigned int clinux_sync_file_range_wait_before = 1;
static const unsigned int clinux_sync_file_range_write = 2;
static const unsigned int clinux_sync_file_range_wait_after = 4;

/* O_DIRECT (<fcntl.h>, _GNU_SOURCE): glibc's own name for it is defined without _GNU_SOURCE, per
   architecture (040000 on x86-64, 0200000 on arm64). */
static const int clinux_o_direct = __O_DIRECT;
#endif
