/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim shim: the LD_PRELOAD interposer.  It only maps paths (/dev/vfio,
 * the mdev part of /sys) and fds (ours or not) and hands our fds to core.c;
 * every libc alias of a wrapped call is wrapped, and errno is kept.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "sim.h"

#define EXPORT __attribute__((visibility("default")))

#define REAL(name, ret, ...)                                           \
    static ret (*real_##name)(__VA_ARGS__);                           \
    static void resolve_##name(void)                                  \
    {                                                                 \
        if (!real_##name) {                                           \
            real_##name = dlsym(RTLD_NEXT, #name);                    \
        }                                                             \
    }

REAL(openat, int, int, const char *, int, ...)
REAL(stat, int, const char *, struct stat *)
REAL(lstat, int, const char *, struct stat *)
REAL(fstatat, int, int, const char *, struct stat *, int)
REAL(access, int, const char *, int)
REAL(readlink, ssize_t, const char *, char *, size_t)
REAL(realpath, char *, const char *, char *)
REAL(opendir, DIR *, const char *)
REAL(ioctl, int, int, unsigned long, ...)
REAL(pread, ssize_t, int, void *, size_t, off_t)
REAL(pwrite, ssize_t, int, const void *, size_t, off_t)
REAL(mmap, void *, void *, size_t, int, int, int, off_t)
REAL(lseek, off_t, int, off_t, int)
REAL(close, int, int)
REAL(dup, int, int)
REAL(dup2, int, int, int)
REAL(dup3, int, int, int, int)
REAL(fcntl, int, int, int, ...)

/*
 * @path, or the same path inside the simulator's tree when it is one of
 * the simulator's sysfs paths (sim_sys_prefix: the mdev bus, the IOMMU
 * groups, the classes and the configured parents only, so the rest of a
 * host's /sys stays visible)
 */
static const char *map_path(const char *path, char *buf, size_t len)
{
    const char *root, *prefix;
    size_t n;
    int i;

    /* first, so that the simulator's own calls on its tree come back */
    if (!path || strncmp(path, "/sys/", 5)) {
        return path;
    }
    root = sim_root();
    if (!root) {
        return path;
    }
    for (i = 0; (prefix = sim_sys_prefix(i)); i++) {
        n = strlen(prefix);
        if (!strncmp(path, prefix, n) && (!path[n] || path[n] == '/') &&
            snprintf(buf, len, "%s%s", root, path) < (int)len) {
            return buf;
        }
    }
    return path;
}

/* /dev/vfio/vfio -> container, /dev/vfio/N -> group N, else -1 */
static int open_vfio(const char *path, int flags, bool *handled)
{
    const char *n;
    char *end;
    long group;
    int ret;

    *handled = false;
    if (!path || strncmp(path, "/dev/vfio/", 10) || !sim_root()) {
        return -1;
    }
    *handled = true;
    n = path + 10;
    if (!strcmp(n, "vfio")) {
        ret = sim_open_container(flags);
    } else {
        group = strtol(n, &end, 10);
        ret = (*end || end == n) ? -ENOENT : sim_open_group(group, flags);
    }
    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return ret;
}

static int do_open(int dirfd, const char *path, int flags, mode_t mode)
{
    char buf[PATH_MAX];
    bool handled;
    int fd = open_vfio(path, flags, &handled);

    if (handled) {
        return fd;
    }
    path = map_path(path, buf, sizeof(buf));
    resolve_openat();
    return real_openat(dirfd, path, flags, mode);
}

static mode_t open_mode(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

#define OPEN_WRAPPER(name)                                            \
    EXPORT int name(const char *path, int flags, ...)                 \
    {                                                                 \
        va_list ap;                                                   \
        mode_t mode;                                                  \
        va_start(ap, flags);                                          \
        mode = open_mode(flags, ap);                                  \
        va_end(ap);                                                   \
        return do_open(AT_FDCWD, path, flags, mode);                  \
    }
#define OPENAT_WRAPPER(name)                                          \
    EXPORT int name(int dirfd, const char *path, int flags, ...)      \
    {                                                                 \
        va_list ap;                                                   \
        mode_t mode;                                                  \
        va_start(ap, flags);                                          \
        mode = open_mode(flags, ap);                                  \
        va_end(ap);                                                   \
        return do_open(dirfd, path, flags, mode);                     \
    }

OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)

EXPORT int __open_2(const char *path, int flags)
{
    return do_open(AT_FDCWD, path, flags, 0);
}

EXPORT int __open64_2(const char *path, int flags)
{
    return do_open(AT_FDCWD, path, flags, 0);
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    return do_open(dirfd, path, flags, 0);
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    return do_open(dirfd, path, flags, 0);
}

/* ---- path calls ------------------------------------------------------- */

EXPORT int stat(const char *path, struct stat *st)
{
    char buf[PATH_MAX];

    resolve_stat();
    return real_stat(map_path(path, buf, sizeof(buf)), st);
}

EXPORT int stat64(const char *path, struct stat64 *st)
{
    return stat(path, (struct stat *)st);
}

EXPORT int lstat(const char *path, struct stat *st)
{
    char buf[PATH_MAX];

    resolve_lstat();
    return real_lstat(map_path(path, buf, sizeof(buf)), st);
}

EXPORT int lstat64(const char *path, struct stat64 *st)
{
    return lstat(path, (struct stat *)st);
}

EXPORT int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    char buf[PATH_MAX];

    resolve_fstatat();
    return real_fstatat(dirfd, map_path(path, buf, sizeof(buf)), st, flags);
}

EXPORT int fstatat64(int dirfd, const char *path, struct stat64 *st,
                     int flags)
{
    return fstatat(dirfd, path, (struct stat *)st, flags);
}

EXPORT int access(const char *path, int mode)
{
    char buf[PATH_MAX];

    resolve_access();
    return real_access(map_path(path, buf, sizeof(buf)), mode);
}

EXPORT ssize_t readlink(const char *path, char *out, size_t len)
{
    char buf[PATH_MAX];

    resolve_readlink();
    return real_readlink(map_path(path, buf, sizeof(buf)), out, len);
}

EXPORT ssize_t __readlink_chk(const char *path, char *out, size_t len,
                              size_t outlen)
{
    if (len > outlen) {
        abort();  /* what glibc's fortify check does */
    }
    return readlink(path, out, len);
}

/* a listing of a sysfs directory of ours (glib's g_dir_open is this) */
EXPORT DIR *opendir(const char *path)
{
    char buf[PATH_MAX];

    resolve_opendir();
    return real_opendir(map_path(path, buf, sizeof(buf)));
}

/* realpath inside our tree answers with the path the kernel would give */
EXPORT char *realpath(const char *path, char *resolved)
{
    char buf[PATH_MAX];
    const char *root = sim_root();
    const char *mapped = map_path(path, buf, sizeof(buf));
    char *ret;
    size_t n;

    resolve_realpath();
    ret = real_realpath(mapped, resolved);
    if (ret && mapped != path && root) {
        n = strlen(root);
        if (!strncmp(ret, root, n) && ret[n] == '/') {
            memmove(ret, ret + n, strlen(ret + n) + 1);
        }
    }
    return ret;
}

EXPORT char *__realpath_chk(const char *path, char *resolved, size_t len)
{
    if (len < PATH_MAX) {
        abort();
    }
    return realpath(path, resolved);
}

/* ---- fd calls --------------------------------------------------------- */

static long set_errno(long ret)
{
    if (ret < 0) {
        errno = -ret;
        return -1;
    }
    return ret;
}

/* a call on a simulated file holds it until it returns (sim_file_get) */
static long put_errno(SimFile *f, long ret)
{
    sim_file_put(f);
    return set_errno(ret);
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
    SimFile *f = sim_file_get(fd);
    va_list ap;
    void *arg;

    va_start(ap, req);
    arg = va_arg(ap, void *);
    va_end(ap);
    if (f) {
        return put_errno(f, sim_file_ioctl(f, req, arg));
    }
    /* KVM's VFIO device given one of our group fds */
    if (req == KVM_SET_DEVICE_ATTR && arg) {
        long ret;

        if (sim_kvm_vfio_attr(arg, &ret)) {
            return set_errno(ret);
        }
    }
    resolve_ioctl();
    return real_ioctl(fd, req, arg);
}

EXPORT ssize_t pread(int fd, void *buf, size_t count, off_t pos)
{
    SimFile *f = sim_file_get(fd);

    if (f) {
        return put_errno(f, sim_file_rw(f, buf, count, pos, false));
    }
    resolve_pread();
    return real_pread(fd, buf, count, pos);
}

EXPORT ssize_t pread64(int fd, void *buf, size_t count, off_t pos)
{
    return pread(fd, buf, count, pos);
}

EXPORT ssize_t __pread_chk(int fd, void *buf, size_t count, off_t pos,
                           size_t buflen)
{
    if (count > buflen) {
        abort();
    }
    return pread(fd, buf, count, pos);
}

EXPORT ssize_t __pread64_chk(int fd, void *buf, size_t count, off_t pos,
                             size_t buflen)
{
    return __pread_chk(fd, buf, count, pos, buflen);
}

EXPORT ssize_t pwrite(int fd, const void *buf, size_t count, off_t pos)
{
    SimFile *f = sim_file_get(fd);

    if (f) {
        return put_errno(f, sim_file_rw(f, (void *)buf, count, pos, true));
    }
    resolve_pwrite();
    return real_pwrite(fd, buf, count, pos);
}

EXPORT ssize_t pwrite64(int fd, const void *buf, size_t count, off_t pos)
{
    return pwrite(fd, buf, count, pos);
}

/*
 * Is the caller a GPU driver?  llvmpipe maps an imported dma-buf from
 * libgallium (measured, Mesa 25.0); that mapping stands in for a GPU's DMA.
 * With VFIO_SIM_GPU=none there is no GPU, as on the machines a real
 * kernel's vGPU was measured on: llvmpipe's mapping is a CPU mapping like
 * any other, and gets the exporter's errno.
 */
static bool caller_is_gpu_driver(const void *ret_addr)
{
    static int no_gpu = -1;
    Dl_info info;

    if (no_gpu < 0) {
        const char *gpu = getenv("VFIO_SIM_GPU");

        no_gpu = gpu && !strcmp(gpu, "none");
    }
    if (no_gpu) {
        return false;
    }
    if (!dladdr(ret_addr, &info) || !info.dli_fname) {
        return false;
    }
    return strstr(info.dli_fname, "libgallium") ||
           strstr(info.dli_fname, "/dri/");
}

static void *do_mmap(void *addr, size_t len, int prot, int flags, int fd,
                     off_t off, const void *caller)
{
    SimFile *f = sim_file_get(fd);
    int backing;
    off_t boff;
    int ret;

    resolve_mmap();
    if (!f || (flags & MAP_ANONYMOUS)) {
        sim_file_put(f);
        return real_mmap(addr, len, prot, flags, fd, off);
    }
    ret = sim_file_mmap(f, off, len, flags, caller_is_gpu_driver(caller),
                        &backing, &boff);
    sim_file_put(f);
    if (ret < 0) {
        errno = -ret;
        return MAP_FAILED;
    }
    return real_mmap(addr, len, prot, flags, backing, boff);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd,
                  off_t off)
{
    return do_mmap(addr, len, prot, flags, fd, off,
                   __builtin_return_address(0));
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd,
                    off_t off)
{
    return do_mmap(addr, len, prot, flags, fd, off,
                   __builtin_return_address(0));
}

EXPORT off_t lseek(int fd, off_t off, int whence)
{
    SimFile *f = sim_file_get(fd);

    if (f) {
        return put_errno(f, sim_file_lseek(f, off, whence));
    }
    resolve_lseek();
    return real_lseek(fd, off, whence);
}

EXPORT off_t lseek64(int fd, off_t off, int whence)
{
    return lseek(fd, off, whence);
}

EXPORT int close(int fd)
{
    int saved;

    sim_file_close(fd);
    resolve_close();
    saved = real_close(fd);
    return saved;
}

/* a duplicate of a simulated file is the same file (sim_file_dup) */
EXPORT int dup(int fd)
{
    int ret;

    resolve_dup();
    ret = real_dup(fd);
    if (ret >= 0) {
        sim_file_dup(fd, ret);
    }
    return ret;
}

EXPORT int dup2(int fd, int newfd)
{
    int ret;

    resolve_dup2();
    ret = real_dup2(fd, newfd);
    if (ret >= 0) {
        sim_file_dup(fd, ret);
    }
    return ret;
}

EXPORT int dup3(int fd, int newfd, int flags)
{
    int ret;

    resolve_dup3();
    ret = real_dup3(fd, newfd, flags);
    if (ret >= 0) {
        sim_file_dup(fd, ret);
    }
    return ret;
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;
    int ret;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    resolve_fcntl();
    ret = real_fcntl(fd, cmd, arg);
    if (ret >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)) {
        sim_file_dup(fd, ret);
    }
    return ret;
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    void *arg;

    va_start(ap, cmd);
    arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl(fd, cmd, arg);
}

/*
 * Read the configuration when the library loads, so that the control
 * socket listens before the process touches a device.
 */
__attribute__((constructor)) static void shim_init(void)
{
    if (getenv("VFIO_SIM_CONFIG")) {
        sim_init();
    }
}
