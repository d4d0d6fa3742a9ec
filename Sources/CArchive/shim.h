#ifndef CARCHIVE_SHIM_H
#define CARCHIVE_SHIM_H
#include <archive.h>
#include <archive_entry.h>

/* libarchive's file-type macros do not import into Swift. */
static const unsigned int carchive_AE_IFMT = AE_IFMT;
static const unsigned int carchive_AE_IFREG = AE_IFREG;
static const unsigned int carchive_AE_IFDIR = AE_IFDIR;
static const unsigned int carchive_AE_IFLNK = AE_IFLNK;
static const unsigned int carchive_AE_IFSOCK = AE_IFSOCK;
static const unsigned int carchive_AE_IFCHR = AE_IFCHR;
static const unsigned int carchive_AE_IFBLK = AE_IFBLK;
static const unsigned int carchive_AE_IFIFO = AE_IFIFO;

/* archive_set_error is variadic: a fixed-format wrapper for messages from read callbacks. */
static inline void carchive_set_error(struct archive *a, int code, const char *message) {
    archive_set_error(a, code, "%s", message);
}
#endif
