/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: the private state of the display core (display*.c).
 * hw/vfio/pci.c sees only the entry points declared in pci.h.
 */
#ifndef HW_VFIO_VFIO_DISPLAY_H
#define HW_VFIO_VFIO_DISPLAY_H

#include <linux/vfio.h>
#include "qemu/queue.h"
#include "qemu/units.h"
#include "ui/console.h"
#include "ui/qemu-pixman.h"
#include "hw/display/ramfb.h"
#include "ui/egl-readback.h"
#include "hw/vfio/vfio-common.h"
#include "pci.h"

/* enum drm_plane_type, as the vfio uapi uses it */
#define VFIO_DISPLAY_PLANE_PRIMARY 1
#define VFIO_DISPLAY_PLANE_CURSOR  2

/* what a sane plane can be; anything larger is vendor nonsense */
#define VFIO_DISPLAY_MAX_DIM       16384
#define VFIO_DISPLAY_MAX_CURSOR    512
#define VFIO_DISPLAY_MAX_FRAME     (1 * GiB)   /* 16384 x 16384 x 4 */
/* failed queries in a row before one is worth a message */
#define VFIO_DISPLAY_QUERY_PATIENCE 2
/* dma-buf ids kept imported (each holds one fd) */
#define VFIO_DISPLAY_DMABUF_CACHE  16
/* a dma-buf refused (too small) is fetched again after this long */
#define VFIO_DISPLAY_REJECT_RETRY_MS 1000
/*
 * Sampling a still screen (display-damage.c): once a frame has not
 * changed for STILL_MS, a refresh that follows the last within GAP_MS
 * compares one row in SAMPLE_STEP, and every row at least every FULL_MS.
 */
#define VFIO_DISPLAY_SAMPLE_STEP   16
#define VFIO_DISPLAY_STILL_MS      500
#define VFIO_DISPLAY_GAP_MS        100
#define VFIO_DISPLAY_FULL_MS       2000
/*
 * The region shown directly (display-region.c): after DIRECT_ENTER
 * refreshes in a row that damaged half the frame; measured again every
 * DIRECT_CHECK refreshes.
 */
#define VFIO_DISPLAY_DIRECT_ENTER  3
#define VFIO_DISPLAY_DIRECT_CHECK  8

/*
 * How a plane's pixels become the x8r8g8b8 surface every console takes
 * (pixman's stride rules, each listener's formats): the surfaces we hand
 * a console are always x8r8g8b8 on a stride of our own.
 */
typedef enum VFIODisplayConv {
    VFIO_DISPLAY_CONV_NONE,         /* already x8r8g8b8 (alpha ignored) */
    VFIO_DISPLAY_CONV_PIXMAN,       /* pixman composites from ->pixman */
    VFIO_DISPLAY_CONV_YUV422,       /* packed 4:2:2, BT.709 limited range */
} VFIODisplayConv;

/*
 * A plane the vendor driver reported, checked once where it enters
 * (vfio_display_plane_check): everything after this trusts it.
 */
typedef struct VFIODisplayPlane {
    uint32_t fourcc;
    uint64_t modifier;
    pixman_format_code_t pixman;
    VFIODisplayConv conv;
    uint8_t yuv[4];                 /* CONV_YUV422: bytes of Y0 Cb Y1 Cr */
    uint32_t bpp;                   /* bytes per pixel */
    uint32_t width, height, stride;
    uint64_t size;                  /* what the vendor says it spans */
    uint64_t min_size;              /* what the geometry needs */
    uint32_t x, y;                  /* cursor position */
    uint32_t hot_x, hot_y;
    bool has_hot;
    uint32_t id;                    /* dmabuf_id or region_index */
} VFIODisplayPlane;

/* a fault of the vendor driver, reported once until the device recovers */
typedef enum VFIODisplayFault {
    VFIO_DISPLAY_FAULT_QUERY,
    VFIO_DISPLAY_FAULT_QUERY_CURSOR,
    VFIO_DISPLAY_FAULT_PLANE,
    VFIO_DISPLAY_FAULT_CURSOR,
    VFIO_DISPLAY_FAULT_GET,
    VFIO_DISPLAY_FAULT_DMABUF_SIZE,
    VFIO_DISPLAY_FAULT_REGION,
    VFIO_DISPLAY_FAULT_EDID,
    VFIO_DISPLAY_FAULT_READBACK,
    VFIO_DISPLAY_FAULT_MEMORY,
    VFIO_DISPLAY_FAULT__MAX,
} VFIODisplayFault;

/*
 * One imported dma-buf.  Ownership: the fd GET_GFX_DMABUF returned is
 * owned by @buf (QemuDmaBuf) from the moment it is wrapped and closed
 * exactly once, by vfio_display_dmabuf_drop(); an id is never fetched
 * again while its entry holds an fd (a refused entry holds none).
 */
typedef struct VFIODisplayBuf {
    QemuDmaBuf *buf;
    VFIODisplayPlane plane;
    uint64_t limit;                 /* the dma-buf's size (lseek) */
    void *cpu_map;                  /* if the exporter allows CPU mmap */
    bool cpu_map_tried;
    bool gl_failed;                 /* our GL import could not read it */
    EglReadbackImage *gl_all;       /* imported for read-back: all rows */
    EglReadbackImage *gl_rows[VFIO_DISPLAY_SAMPLE_STEP];   /* samples */
    bool gl_checked, gl_ok;         /* vfio_display_readback_gl_ok() */
    bool gl_takes_checked, gl_takes;    /* ..._readback_gl_takes() */
    int64_t rejected_ms;            /* no fd: the dma-buf was refused then */
    QTAILQ_ENTRY(VFIODisplayBuf) next;
} VFIODisplayBuf;

/* what the display did, for the "display-stats" QOM property */
typedef struct VFIODisplayCounters {
    uint64_t refreshes;             /* gfx_update calls */
    uint64_t imports;               /* dma-bufs fetched and wrapped */
    uint64_t drops;                 /* dma-bufs released */
    uint64_t readbacks;             /* frames read from a dma-buf */
    uint64_t samples;               /* refreshes that compared sampled rows */
    uint64_t bytes_read;            /* by those read-backs and preads */
    uint64_t bytes_copied;          /* into the shadow (damage) */
    uint64_t updates;               /* rectangles reported */
    uint64_t gl_updates;            /* dma-buf updates sent to GL displays */
    uint64_t direct;                /* refreshes showing a region directly */
    uint64_t damage_pixels;         /* their area */
    uint64_t faults;                /* vendor faults, reported or not */
} VFIODisplayCounters;

/*
 * Our copy of the plane, under the console's surface on the non-GL paths
 * (display-damage.c): updated tile by tile where the device's frame
 * differs, so only damage is reported.
 */
typedef struct VFIODisplayShadow {
    VFIODisplayPlane plane;
    uint8_t *pixels;                /* the last frame, in the plane's format */
    size_t pitch;                   /* of pixels: its rows, 4-byte aligned */
    uint32_t *converted;            /* x8r8g8b8, unless CONV_NONE */
    DisplaySurface *surface;        /* x8r8g8b8 on pixels or converted */
    int64_t changed_ms;             /* last refresh that found damage */
    int64_t full_ms;                /* all rows compared since then */
    int64_t rotation_ms;            /* the samples' rotation began */
    int64_t refresh_ms;             /* the last refresh that asked */
    uint32_t phase;                 /* first row the next sample compares */
} VFIODisplayShadow;

/* typedef'd as VFIODisplay in hw/vfio/vfio-common.h */
struct VFIODisplay {
    VFIOPCIDevice *vdev;
    QemuConsole *con;
    RAMFBState *ramfb;
    bool guest_scanout;             /* the guest driver has a plane up */
    bool faulted[VFIO_DISPLAY_FAULT__MAX];
    unsigned query_failures[2];     /* in a row: primary, cursor */
    VFIODisplayCounters stats;

    struct {
        struct vfio_region_info *info;
        struct vfio_region_gfx_edid regs;
        uint8_t *blob;
        QEMUTimer *link_timer;
    } edid;

    struct {
        VFIORegion buffer;
        bool mapped;                /* else read with pread */
        void *copy;                 /* pread target when not mapped */
        VFIODisplayPlane plane;     /* of the region set up */
        VFIODisplayShadow shadow;
        /* the console shows the mapping itself (display-region.c) */
        DisplaySurface *direct;
        unsigned busy;              /* refreshes in a row mostly damaged */
        unsigned direct_refreshes;
        bool snapshot;              /* the shadow holds the last frame */
    } region;

    /* read-back for consoles without GL (display-readback.c) */
    struct {
        bool active;                /* no GL display, or no dma-bufs */
        bool chosen;                /* active is final (first refresh) */
        EglReadback *egl;
        char *egl_error;            /* its set-up failed, for egl_plane */
        VFIODisplayPlane egl_plane;
        uint8_t *raw;               /* the buffer's bytes, tiled or not */
        size_t raw_size;
        bool raw_valid;             /* raw is the last frame of raw_plane */
        VFIODisplayPlane raw_plane;
        uint8_t *rows;              /* the rows a sample reads */
        bool sample_failed;         /* GL could not read samples */
        /* the buffers holding GL imports: the last two primaries, cursor */
        VFIODisplayBuf *gl_holder[3];
        size_t rows_size;
        uint8_t *cursor_raw;        /* the cursor buffer's bytes */
        size_t cursor_raw_size;
        uint8_t *linear;            /* detiled, when they are tiled */
        size_t linear_size;
        VFIODisplayShadow shadow;
        uint32_t *cursor;           /* last cursor image defined */
        VFIODisplayPlane cursor_plane;
    } readback;

    struct {
        QTAILQ_HEAD(, VFIODisplayBuf) bufs;
        unsigned count;
        VFIODisplayBuf *primary;
        bool gl_scanout;            /* a GL display scans out primary */
        VFIODisplayBuf *cursor;
        uint32_t cursor_x, cursor_y;    /* last sent to the console */
        uint32_t hot_x, hot_y;
    } dmabuf;
};

/* display-plane.c: pure checks of what the vendor driver reports */
bool vfio_display_plane_check(const struct vfio_device_gfx_plane_info *info,
                              uint32_t type, bool dmabuf,
                              VFIODisplayPlane *plane, const char **why);
bool vfio_display_plane_fits(const VFIODisplayPlane *plane, uint64_t limit);
bool vfio_display_plane_same(const VFIODisplayPlane *a,
                             const VFIODisplayPlane *b);

/* display-vendor.c: the display ABI's ioctls, plane checks, faults */
int vfio_display_query(VFIODisplay *dpy, uint32_t flags, uint32_t type,
                       struct vfio_device_gfx_plane_info *info);
int vfio_display_get_dmabuf(VFIODisplay *dpy, uint32_t id);
void vfio_display_fault(VFIODisplay *dpy, VFIODisplayFault fault,
                        const char *fmt, ...) G_GNUC_PRINTF(3, 4);
void vfio_display_recovered(VFIODisplay *dpy, VFIODisplayFault fault);
const char *vfio_display_plane_name(uint32_t type);
int vfio_display_plane_get(VFIODisplay *dpy, bool dmabuf, uint32_t type,
                           VFIODisplayPlane *plane);

/* display-convert.c: a plane's pixels to x8r8g8b8 */
void vfio_display_convert_rect(const VFIODisplayPlane *p, const uint8_t *src,
                               size_t src_pitch, uint32_t *dst,
                               size_t dst_pitch, uint32_t x, uint32_t y,
                               uint32_t w, uint32_t h);

/* display-damage.c */
#define VFIO_DISPLAY_HUGE_PAGE     (2 * MiB)
void *vfio_display_frame_alloc(size_t size);
void vfio_display_frame_free(void *buf);
uint32_t vfio_display_sample_next(uint32_t *phase, uint32_t rows,
                                  uint32_t *count);
bool vfio_display_shadow_sample(VFIODisplay *dpy, VFIODisplayShadow *s,
                                const VFIODisplayPlane *p, uint32_t rows,
                                uint32_t *first, uint32_t *count);
bool vfio_display_rows_same(const uint8_t *a, size_t a_pitch,
                            const uint8_t *b, size_t b_pitch, size_t len,
                            uint32_t count);
uint64_t vfio_display_shadow_show(VFIODisplay *dpy, VFIODisplayShadow *s,
                                  const VFIODisplayPlane *p,
                                  const uint8_t *src);
bool vfio_display_shadow_snapshot(VFIODisplayShadow *s,
                                  const VFIODisplayPlane *p,
                                  const uint8_t *src);
uint64_t vfio_display_shadow_measure(VFIODisplay *dpy, VFIODisplayShadow *s,
                                     const VFIODisplayPlane *p,
                                     const uint8_t *src);
void vfio_display_shadow_resume(VFIODisplay *dpy, VFIODisplayShadow *s);
void vfio_display_shadow_reset(VFIODisplay *dpy, VFIODisplayShadow *s);
void vfio_display_surface_release(VFIODisplay *dpy, DisplaySurface *surface);
bool vfio_display_show_ramfb(VFIODisplay *dpy);

/* display-dmabuf.c */
extern const GraphicHwOps vfio_display_dmabuf_ops;
extern const GraphicHwOps vfio_display_readback_ops;
void vfio_display_dmabuf_reset(VFIODisplay *dpy);
void vfio_display_dmabuf_finalize(VFIODisplay *dpy);

/* display-readback.c */
bool vfio_display_readback_gl_ok(VFIODisplay *dpy, VFIODisplayBuf *b);
bool vfio_display_readback_gl_takes(VFIODisplay *dpy, VFIODisplayBuf *b);
bool vfio_display_readback_primary(VFIODisplay *dpy, VFIODisplayBuf *b);
void vfio_display_readback_cursor(VFIODisplay *dpy, VFIODisplayBuf *b);
void vfio_display_readback_drop(VFIODisplay *dpy, VFIODisplayBuf *b);
void vfio_display_readback_reset(VFIODisplay *dpy);
void vfio_display_detile(const VFIODisplayPlane *plane, const uint8_t *src,
                         uint8_t *dst);

/* display-region.c */
extern const GraphicHwOps vfio_display_region_ops;
void vfio_display_region_reset(VFIODisplay *dpy);

/* display-edid.c */
bool vfio_display_edid_init(VFIODisplay *dpy, Error **errp);
void vfio_display_edid_ui_info(void *opaque, uint32_t head,
                               QemuUIInfo *info);
void vfio_display_edid_exit(VFIODisplay *dpy);

#endif
