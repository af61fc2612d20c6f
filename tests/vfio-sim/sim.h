/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio-sim: a userspace model of the kernel's VFIO + mdev display ABI.
 * This header joins the thin interposer (shim.c), the kernel's VFIO core
 * (core.c) and the vendor driver models (model-*.c).
 */
#ifndef VFIO_SIM_H
#define VFIO_SIM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vfio.h>

#define SIM_PAGE_SIZE 4096u
#define SIM_MAX_DEVICES 16
#define SIM_MAX_OPTS 16

/* enum drm_plane_type (include/drm/drm_plane.h), as the uapi uses it */
#define DRM_PLANE_TYPE_PRIMARY 1
#define DRM_PLANE_TYPE_CURSOR 2

typedef struct SimDevice SimDevice;
typedef struct SimFile SimFile;
typedef struct SimFaults SimFaults;
typedef struct SimStalls SimStalls;

/* One "key=value" of a device line in the configuration file */
typedef struct SimOpt {
    char key[32];
    char value[96];
} SimOpt;

/* Parsed "key=value" words of a control command (control.c) */
typedef struct SimArgs {
    SimOpt opt[SIM_MAX_OPTS];
    int n;
} SimArgs;

/*
 * The primary plane as the device scans it out now: where its pixels are
 * (a memfd and an offset) and how they are laid out.  The control socket
 * draws through this; it is not what QUERY_GFX_PLANE reports.
 */
typedef struct SimScanout {
    int fd;
    uint64_t offset;
    uint32_t fourcc;
    uint64_t modifier;
    uint32_t width, height, stride;
} SimScanout;

/*
 * The device a vendor driver registers as mdev parent
 * (mdev_register_parent): where sysfs shows it and its mdevs.
 */
typedef struct SimMdevParent {
    const char *path;           /* its directory, below /sys/ */
    const char *class_name;     /* its class for a class device, else NULL */
    const char *driver_string;  /* dev_driver_string(): types' prefix */
    const char *driver;         /* mdev_driver.driver.name */
    const char *group;          /* the name of the driver's dev_groups */
    int ntypes;                 /* mdev types the parent registers */
} SimMdevParent;

/*
 * One mdev type as <parent>/mdev_supported_types/<driver_string>-
 * <sysfs_name>/ shows it (mdev_sysfs.c: name_show, description_show,
 * available_instances_show).
 */
typedef struct SimMdevType {
    char sysfs_name[32];
    char name[64];              /* pretty_name, else sysfs_name */
    char description[192];      /* "": the driver has no show_description */
    unsigned available;
} SimMdevType;

/*
 * A vendor driver model.  Each handler returns >= 0 or -errno, exactly as
 * the kernel function it follows returns to the VFIO core.
 */
typedef struct SimModelOps {
    const char *name;
    const SimMdevParent *parent;
    /*
     * Type @i of the parent as sysfs shows it while the (not removed)
     * devices @devs, @n of them, all of this model, exist.
     */
    void (*mdev_type)(int i, SimDevice *const *devs, int n, SimMdevType *t);
    /* the index of @dev's type among the parent's */
    int (*type_of)(SimDevice *dev);
    /*
     * The files of the driver's attribute group in the mdev's directory
     * (mdev_driver.driver.dev_groups): name and contents; returns how many.
     */
    int (*attrs)(SimDevice *dev, SimOpt *attrs, int max);
    /* mdev create (the sample's init_dev); *err set on failure */
    int (*init)(SimDevice *dev, char *err, size_t errlen);
    /* vfio_device_ops.ioctl: everything but VFIO_DEVICE_FEATURE */
    long (*ioctl)(SimDevice *dev, unsigned long req, void *arg);
    /* vfio_device_ops.read / .write at the device fd's offset @pos */
    ssize_t (*rw)(SimDevice *dev, void *buf, size_t count, uint64_t pos,
                  bool is_write);
    /*
     * vfio_device_ops.mmap: check the request like the driver does and
     * name the memory that backs it (a memfd and an offset in it).
     */
    int (*mmap)(SimDevice *dev, uint64_t offset, size_t len, int flags,
                int *backing_fd, off_t *backing_off);
    /* the last device fd was closed (vfio_device_ops.close_device) */
    void (*close_device)(SimDevice *dev);
    /*
     * The driver serialises its ioctls and read/writes with a lock of its
     * own per device (nvidia's ops_lock): taken around each, outside the
     * simulator's lock, with @wait (if any) called under it first: 0 to
     * go on to the model, or the -errno to return instead.
     */
    bool device_lock;
    long (*wait)(SimDevice *dev, unsigned long req, void *arg);
    /* a dma-buf fd of this device was closed (the dma_buf release op) */
    void (*dmabuf_release)(SimDevice *dev, void *priv);
    /* the memory the guest sees as the framebuffer (VRAM, aperture) */
    int (*memory)(SimDevice *dev, int *fd, uint64_t *size);
    /* the primary plane now; -ENODEV when nothing is scanned out */
    int (*scanout)(SimDevice *dev, SimScanout *out);
    /*
     * A control command only this model knows; -ENOENT if unknown, else
     * 0 or -errno with a reason in @reply.
     */
    int (*control)(SimDevice *dev, const char *cmd, const SimArgs *args,
                   char *reply, size_t len);
} SimModelOps;

struct SimDevice {
    char uuid[40];
    int group;
    const SimModelOps *ops;
    SimOpt opts[SIM_MAX_OPTS];
    int nopts;
    int open_count;          /* device fds open */
    bool remove_pending;     /* "unplug": removed once the last fd closes */
    bool removed;
    SimFaults *faults;       /* injected by config or control (fault.c) */
    SimStalls *stalls;       /* slow and hung calls (stall.c), never freed */
    pthread_mutex_t device_lock;  /* the driver's own, if ops->device_lock */
    void *state;             /* the model's */
};

/* What a dma-buf fd stands for (see README: dma-bufs) */
typedef struct SimDmabuf {
    SimDevice *dev;
    void *priv;              /* the model's buffer */
    int backing_fd;          /* memfd holding the pages */
    uint64_t offset;         /* first byte of the buffer in backing_fd */
    uint64_t size;           /* what lseek(SEEK_END) reports */
    int cpu_mmap_errno;      /* 0: CPU mmap allowed */
    int fd_flags;            /* O_CLOEXEC as the exporter installs it */
} SimDmabuf;

/* configuration, devices, sysfs tree (core.c) */
void sim_init(void);
const char *sim_root(void);
/*
 * The @i-th path below /sys that the simulator serves from its tree
 * (a path and everything under it), NULL past the last.
 */
const char *sim_sys_prefix(int i);
SimDevice *sim_device_by_uuid(const char *uuid);
/* by uuid, removed (unplugged) devices too if @removed_too */
SimDevice *sim_device_find(const char *uuid, bool removed_too);
SimDevice *sim_device_in_group(int group, const char *name);
bool sim_group_exists(int group);
const char *sim_opt(SimDevice *dev, const char *key, const char *dflt);
void sim_log(const char *cat, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int sim_memfd(const char *name, uint64_t size);
/*
 * The device's dmabuf-cpu-mmap=deny|allow: 0 if userspace may mmap its
 * dma-bufs, else @deny_errno (the exporter's measured errno); -EINVAL with
 * @err set for any other value.
 */
int sim_opt_cpu_mmap_errno(SimDevice *dev, int deny_errno, char *err,
                           size_t errlen);

/* The kernel's VFIO core on our fds (core.c).  -errno on failure. */
enum SimFileType {
    SIM_FILE_CONTAINER,
    SIM_FILE_GROUP,
    SIM_FILE_DEVICE,
    SIM_FILE_DMABUF,
};
int sim_open_container(int flags);
int sim_open_group(int group, int flags);
SimFile *sim_file(int fd);
enum SimFileType sim_file_type(SimFile *f);
long sim_file_ioctl(SimFile *f, unsigned long req, void *arg);
ssize_t sim_file_rw(SimFile *f, void *buf, size_t count, uint64_t pos,
                    bool is_write);
int sim_file_mmap(SimFile *f, uint64_t offset, size_t len, int flags,
                  bool from_gpu_driver, int *backing_fd, off_t *backing_off);
off_t sim_file_lseek(SimFile *f, off_t offset, int whence);
void sim_file_close(int fd);
void sim_file_dup(int oldfd, int newfd);
/* a reference held across one call on @fd (fdget/fdput); NULL: not ours */
SimFile *sim_file_get(int fd);
void sim_file_put(SimFile *f);

/*
 * KVM's VFIO pseudo device (virt/kvm/vfio.c, Linux 6.1) handed one of our
 * files by KVM_SET_DEVICE_ATTR, @attr a struct kvm_device_attr: true, the
 * ioctl's result in *@ret, if its fd is ours; false if the call is not
 * about our files (it goes to the kernel).
 */
bool sim_kvm_vfio_attr(const void *attr, long *ret);

/*
 * Export a dma-buf: a new fd that the core tracks as @buf describes.  The
 * fd is a file of its own on @buf->backing_fd's pages (see README).
 */
int sim_dmabuf_fd(const SimDmabuf *buf);

/*
 * The read/write loop both kernel samples share (mbochs_read, mdpy_read and
 * their writes): naturally aligned 4, 2 or 1 byte accesses through
 * @access; any failure returns -EFAULT, whatever was done before it.
 */
typedef int (*SimAccessFn)(SimDevice *dev, void *buf, size_t count,
                           uint64_t pos, bool is_write);
ssize_t sim_chunked_rw(SimDevice *dev, void *buf, size_t count, uint64_t pos,
                       bool is_write, SimAccessFn access);

/*
 * The argsz rule of nearly every VFIO ioctl: read @minsz bytes, fail with
 * -EINVAL when the caller's argsz is smaller.
 */
static inline int sim_check_argsz(const void *arg, size_t minsz)
{
    return *(const uint32_t *)arg < minsz ? -22 /* EINVAL */ : 0;
}

/* little-endian stores into emulated config space and registers */
static inline void sim_put_le16(uint8_t *p, uint16_t v)
{
    p[0] = v;
    p[1] = v >> 8;
}

static inline void sim_put_le32(uint8_t *p, uint32_t v)
{
    sim_put_le16(p, v);
    sim_put_le16(p + 2, v >> 16);
}

/* counters the models keep for tests (read with vfio-sim's control) */
void sim_count(SimDevice *dev, const char *what);
unsigned sim_counter(SimDevice *dev, const char *what);

/* control commands' words (control.c) */
const char *sim_arg(const SimArgs *args, const char *key, const char *dflt);
/* a number (0x.. hex or decimal); false with *v untouched if malformed */
bool sim_arg_u64(const SimArgs *args, const char *key, uint64_t *v);

/* Pixel formats and layouts (pixels.c) */
uint32_t sim_format_by_name(const char *name);
unsigned sim_format_bpp(uint32_t fourcc);
/* @argb (8 bits a channel) packed as @fourcc stores it */
uint32_t sim_pixel(uint32_t fourcc, uint32_t argb);
/* the byte offset of byte @xb of row @y in a @stride-wide surface */
uint64_t sim_layout_offset(uint64_t modifier, uint32_t stride, uint32_t xb,
                           uint32_t y);
/* true if @stride and the modifier's tile agree */
bool sim_layout_ok(uint64_t modifier, uint32_t stride);
/* rows the modifier's tile spans (1 for linear) */
unsigned sim_layout_tile_rows(uint64_t modifier);
/*
 * Draw a rectangle of @sc: @pattern is "xy" (the test pattern, see README)
 * or a 0xAARRGGBB colour.  -EINVAL for a bad pattern or a rect outside.
 */
int sim_draw(const SimScanout *sc, uint32_t x, uint32_t y, uint32_t w,
             uint32_t h, const char *pattern);
/* the colour of the "xy" test pattern at (x, y), 0xAARRGGBB */
uint32_t sim_pattern_xy(uint32_t x, uint32_t y);
/* the 0xAARRGGBB colour of pixel @px stored as @fourcc (sim_pixel inverse) */
uint32_t sim_unpixel(uint32_t fourcc, uint32_t px);
/* packed YUV 4:2:2 (YUYV UYVY YVYU VYUY) */
bool sim_format_is_yuv(uint32_t fourcc);
/* BT.709 limited range, the integer matrix of README "Packed YUV" */
void sim_rgb_to_ycbcr(uint32_t argb, uint8_t *y, uint8_t *cb, uint8_t *cr);
uint32_t sim_ycbcr_to_rgb(uint8_t y, uint8_t cb, uint8_t cr);
/* write the pixels of @sc to @path as a binary PPM (P6); 0 or -errno */
int sim_snapshot(const SimScanout *sc, const char *path);

/* Fault injection (fault.c); @spec as in the README */
int sim_fault_add(SimDevice *dev, const char *kind, const char *spec,
                  char *err, size_t errlen);
void sim_fault_clear(SimDevice *dev);
/* before the model: 0 to go on, or the -errno to return instead */
long sim_fault_before(SimDevice *dev, unsigned long req, void *arg);
/* after the model returned 0 for a plane query */
void sim_fault_after(SimDevice *dev, unsigned long req, void *arg);

/* Slow and hung vendor calls (stall.c); @spec as in the README */
int sim_stall_add(SimDevice *dev, const char *spec, char *err,
                  size_t errlen);
/* the calls hung now return; hang stalls go, every stall with @all */
void sim_stall_release(SimDevice *dev, bool all);
/* calls of @dev waiting for a release now */
unsigned sim_stall_hung(SimDevice *dev);
/* before a device ioctl or read/write: never under the simulator's lock */
void sim_stall_ioctl(SimDevice *dev, unsigned long req, const void *arg);
void sim_stall_rw(SimDevice *dev, uint64_t pos);
/* sleep @ms milliseconds, signals or not */
void sim_sleep_ms(long ms);

/* The control socket (control.c) */
void sim_control_start(void);
int sim_control(const char *line, const void *payload, size_t paylen,
                char *reply, size_t len);
int sim_device_count(void);
SimDevice *sim_device_at(int i);
void sim_lock_acquire(void);
/* "unplug": true if removed now, false if pending until the last close */
bool sim_device_unplug(SimDevice *dev);
void sim_counters_format(SimDevice *dev, char *buf, size_t len);
void sim_lock_release(void);
/* the "edid" command of a model with an EDID region: what the host set */
void sim_edid_describe(const struct vfio_region_gfx_edid *regs,
                       const uint8_t *blob, char *reply, size_t len);

extern const SimModelOps sim_model_mdpy;
extern const SimModelOps sim_model_mbochs;
extern const SimModelOps sim_model_gvt;
extern const SimModelOps sim_model_nvidia;

#endif
