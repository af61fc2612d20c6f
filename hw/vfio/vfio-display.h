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
/*
 * The vendor's calls (display-call.c): a refresh waits at most WAIT_MS
 * for the answers to the calls it asked (a fast vendor's answer comes in
 * microseconds, a loaded host's thread may take a few milliseconds to
 * run), and a call unanswered for SLOW_MS is warned about.
 */
#define VFIO_DISPLAY_CALL_WAIT_MS  15
#define VFIO_DISPLAY_SLOW_MS       1000
/* how long an EDID's link stays down, for the guest to notice a change */
#define VFIO_DISPLAY_EDID_LINK_DOWN_MS 100
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

/*
 * A fault of the vendor driver, reported once until the device recovers.
 * A plane's kind of fault comes first, its cursor plane's twin right
 * after it (vfio_display_plane_fault).
 */
typedef enum VFIODisplayFault {
    VFIO_DISPLAY_FAULT_QUERY,
    VFIO_DISPLAY_FAULT_QUERY_CURSOR,
    VFIO_DISPLAY_FAULT_PLANE,
    VFIO_DISPLAY_FAULT_CURSOR,
    VFIO_DISPLAY_FAULT_GET,
    VFIO_DISPLAY_FAULT_GET_CURSOR,
    VFIO_DISPLAY_FAULT_DMABUF_SIZE,
    VFIO_DISPLAY_FAULT_DMABUF_SIZE_CURSOR,
    VFIO_DISPLAY_FAULT_REGION,
    VFIO_DISPLAY_FAULT_EDID,
    VFIO_DISPLAY_FAULT_READBACK,
    VFIO_DISPLAY_FAULT_MEMORY,
    VFIO_DISPLAY_FAULT__MAX,
} VFIODisplayFault;

/* how a GL console shows a dma-buf (vfio_display_dmabuf_gl_way) */
typedef enum VFIODisplayGLWay {
    VFIO_DISPLAY_GL_UNKNOWN,        /* not decided yet */
    VFIO_DISPLAY_GL_SCANOUT,        /* handed to the GL display itself */
    VFIO_DISPLAY_GL_READBACK,       /* read back and shown as a surface */
    VFIO_DISPLAY_GL_NONE,           /* nothing on this machine reads it */
} VFIODisplayGLWay;

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
    VFIODisplayGLWay gl_way;        /* on a GL console, decided once */
    int64_t rejected_ms;            /* no fd: the dma-buf was refused then */
    QTAILQ_ENTRY(VFIODisplayBuf) next;
} VFIODisplayBuf;

/* what the display did, for the "display-stats" QOM property */
typedef struct VFIODisplayCounters {
    uint64_t refreshes;             /* gfx_update calls */
    uint64_t imports;               /* dma-bufs fetched and wrapped */
    uint64_t drops;                 /* dma-bufs released */
    uint64_t flips;                 /* the primary went to another buffer */
    uint64_t readbacks;             /* frames read from a dma-buf */
    uint64_t samples;               /* refreshes that compared sampled rows */
    uint64_t bytes_read;            /* by those read-backs and preads */
    uint64_t bytes_copied;          /* into the shadow (damage) */
    uint64_t updates;               /* rectangles reported */
    uint64_t gl_updates;            /* dma-buf updates sent to GL displays */
    uint64_t direct;                /* refreshes showing a region directly */
    uint64_t damage_pixels;         /* their area */
    uint64_t faults;                /* vendor faults, reported or not */
    uint64_t slow_calls;            /* vendor calls a refresh left behind */
    uint64_t longest_wait_ms;       /* the longest vendor call, so far */
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
    /* the console shows the mapped plane itself (region devices) */
    DisplaySurface *direct;
    unsigned busy;                  /* refreshes in a row mostly damaged */
    unsigned direct_refreshes;
    bool snapshot;                  /* pixels hold the last frame */
} VFIODisplayShadow;

/*
 * The cursor the console shows (display-surface.c, its only user): an
 * image on consoles without GL, or a dma-buf on a GL console.
 */
typedef struct VFIODisplayCursor {
    uint32_t *image;                /* the image defined, or NULL */
    QemuDmaBuf *dmabuf;             /* given to the GL console, or NULL */
    VFIODisplayPlane plane;         /* of either: size, position, hotspot */
} VFIODisplayCursor;

/* a vendor call made on the device's own thread (display-call.c) */
typedef enum VFIODisplayCallKind {
    VFIO_DISPLAY_CALL_QUERY,        /* VFIO_DEVICE_QUERY_GFX_PLANE */
    VFIO_DISPLAY_CALL_GET,          /* VFIO_DEVICE_GET_GFX_DMABUF */
} VFIODisplayCallKind;

typedef struct VFIODisplayCall {
    VFIODisplayCallKind kind;
    uint32_t type;                  /* the plane */
    uint32_t flags;                 /* QUERY: VFIO_GFX_PLANE_TYPE_* */
    VFIODisplayPlane plane;         /* GET: the plane whose id is fetched */
    /* the answer */
    int ret;                        /* 0 or the GET's fd; -errno */
    struct vfio_device_gfx_plane_info info;     /* QUERY's */
} VFIODisplayCall;

typedef struct VFIODisplayCaller VFIODisplayCaller;

/* an EDID for the thread to write: its registers' offsets in the fd */
typedef struct VFIODisplayEdid {
    off_t link_state;
    off_t edid_size;
    off_t blob_off;
    const uint8_t *blob;            /* NULL: the monitor is unplugged */
    uint32_t size;
} VFIODisplayEdid;

/* typedef'd as VFIODisplay in hw/vfio/vfio-common.h */
struct VFIODisplay {
    VFIOPCIDevice *vdev;
    QemuConsole *con;
    VFIODisplayCaller *caller;      /* the vendor's calls, off the loop */
    RAMFBState *ramfb;
    bool guest_scanout;             /* the guest driver has a plane up */
    bool faulted[VFIO_DISPLAY_FAULT__MAX];
    unsigned query_failures[2];     /* in a row: primary, cursor */
    VFIODisplayCounters stats;
    VFIODisplayCursor cursor;

    struct {
        struct vfio_region_info *info;
        struct vfio_region_gfx_edid regs;
        uint8_t *blob;
    } edid;

    struct {
        VFIORegion buffer;
        bool mapped;                /* else read with pread */
        void *copy;                 /* pread target when not mapped */
        VFIODisplayPlane plane;     /* of the region set up */
        VFIODisplayShadow shadow;   /* and the mapping shown directly */
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
    } readback;

    struct {
        QTAILQ_HEAD(, VFIODisplayBuf) bufs;
        unsigned count;
        VFIODisplayBuf *primary;
        bool gl_scanout;            /* a GL display scans out primary */
        VFIODisplayBuf *cursor;     /* the cursor plane's, kept cached */
    } dmabuf;
};

/*
 * The functions the display files share, by layer, top first.  A file
 * calls only the layers below its own (tests/display/test-layers.py):
 *
 *   display.c        probe, refresh dispatch, reset, finalize, vmstate
 *   frame sources    display-dmabuf.c, display-readback.c,
 *                    display-region.c, display-edid.c
 *   surface layer    display-damage.c: the shadow, damage, direct mode;
 *                    display-surface.c: what the console is shown
 *   vendor layer     display-vendor.c: the ABI's ioctls and faults
 *   pure helpers     display-plane.c, display-convert.c
 */

/* ---- Frame sources ---------------------------------------------------- */

/* display-dmabuf.c: dma-buf planes, GL consoles or read back */
extern const GraphicHwOps vfio_display_dmabuf_ops;
extern const GraphicHwOps vfio_display_readback_ops;

/**
 * vfio_display_dmabuf_reset: the device was reset
 * @dpy: the display
 *
 * The guest's planes are gone: the scanout goes, the imported dma-bufs
 * stay (a vendor keeps its buffer objects over a reset, and fetching one
 * again is a kernel bug on mbochs); refused ids are forgotten.
 */
void vfio_display_dmabuf_reset(VFIODisplay *dpy);

/**
 * vfio_display_dmabuf_finalize: the device goes
 * @dpy: the display
 *
 * The scanout and every imported dma-buf are released.
 */
void vfio_display_dmabuf_finalize(VFIODisplay *dpy);

/* display-readback.c: dma-bufs read back through our own EGL */

/**
 * vfio_display_readback_importable: does EGL import @p as it is?
 * @dpy: the display
 * @p: a dma-buf plane
 *
 * Asks our own EGL whether it imports @p's format with its modifier
 * into a texture (eglQueryDmaBufModifiersEXT).  Without our own EGL to
 * ask, as upstream: yes.
 *
 * Returns: true if a GL display may be handed @p's dma-buf.
 */
bool vfio_display_readback_importable(VFIODisplay *dpy,
                                      const VFIODisplayPlane *p);

/**
 * vfio_display_readback_software_reads: can a software renderer read @b?
 * @dpy: the display
 * @b: an imported dma-buf
 *
 * A GPU imports any dma-buf; a software renderer (llvmpipe) maps it,
 * and fails on one whose exporter refuses mmap, as real vendors do.
 * Where the CPU cannot map @b and our own renderer is software, @b is
 * read through it once, and nothing of the read is kept.
 *
 * Returns: false only if the software renderer, the only GL here, fails.
 */
bool vfio_display_readback_software_reads(VFIODisplay *dpy,
                                          VFIODisplayBuf *b);

/**
 * vfio_display_readback_primary: show primary plane @b read back
 * @dpy: the display
 * @b: the primary plane's dma-buf
 *
 * Reads it (CPU mapping or GL import), detiles it and shows it through
 * the read-back shadow, only its damage reported.
 *
 * Returns: false after a fault (reported; the last frame stays).
 */
bool vfio_display_readback_primary(VFIODisplay *dpy, VFIODisplayBuf *b);

/**
 * vfio_display_readback_cursor: show cursor plane @b read back
 * @dpy: the display
 * @b: the cursor plane's dma-buf
 *
 * A cursor that cannot be read keeps the one shown.
 */
void vfio_display_readback_cursor(VFIODisplay *dpy, VFIODisplayBuf *b);

/**
 * vfio_display_readback_drop: @b is dropped
 * @dpy: the display
 * @b: the dma-buf that goes
 *
 * Its CPU mapping and GL imports go with it.
 */
void vfio_display_readback_drop(VFIODisplay *dpy, VFIODisplayBuf *b);

/**
 * vfio_display_readback_reset: forget the read-back's frames
 * @dpy: the display
 *
 * The shadow and its surface and the bytes read go;
 * the next frame is shown anew.
 */
void vfio_display_readback_reset(VFIODisplay *dpy);

/* display-region.c: region planes, mapped or read with pread */
extern const GraphicHwOps vfio_display_region_ops;

/**
 * vfio_display_region_reset: the device was reset, or the display goes
 * @dpy: the display
 *
 * Direct mode ends, the shadow goes and the region is unmapped.
 */
void vfio_display_region_reset(VFIODisplay *dpy);

/* display-edid.c: the GFX EDID region */

/**
 * vfio_display_edid_init: set up the EDID region, if the device has one
 * @dpy: the display
 * @errp: where a set-up failure is reported
 *
 * Returns: false with @errp set if its registers cannot be read; true
 * otherwise, also without an EDID region or with one whose registers
 * make no sense (warned about and ignored).
 */
bool vfio_display_edid_init(VFIODisplay *dpy, Error **errp);

/**
 * vfio_display_edid_ui_info: a UI asks for another size
 * @opaque: the display
 * @head: the console's head
 * @info: the size asked for; 0x0 means no monitor
 */
void vfio_display_edid_ui_info(void *opaque, uint32_t head,
                               QemuUIInfo *info);

/**
 * vfio_display_edid_exit: the EDID region goes
 * @dpy: the display
 */
void vfio_display_edid_exit(VFIODisplay *dpy);

/* ---- Surface layer, its upper half: display-damage.c ------------------ */

#define VFIO_DISPLAY_HUGE_PAGE     (2 * MiB)

/**
 * vfio_display_frame_alloc: a zeroed buffer for a frame
 * @size: its size in bytes
 *
 * On transparent huge pages where the host has them: a compare touches
 * every page of a frame at each refresh.  Mapped on its own, so that its
 * memory goes back to the host when it is freed.
 *
 * Returns: the buffer, or NULL (the caller reports it).
 */
void *vfio_display_frame_alloc(size_t size);

/**
 * vfio_display_frame_free: free a buffer of vfio_display_frame_alloc()
 * @buf: the buffer, or NULL
 * @size: the size it was allocated with
 */
void vfio_display_frame_free(void *buf, size_t size);

/**
 * vfio_display_sample_next: the next row set of a sampling rotation
 * @phase: the last set's first row, updated
 * @rows: the rows the layout has
 * @count: set to the number of rows in the set, SAMPLE_STEP apart
 *
 * Returns: the set's first row.
 */
uint32_t vfio_display_sample_next(uint32_t *phase, uint32_t rows,
                                  uint32_t *count);

/**
 * vfio_display_shadow_sample: may this refresh compare sampled rows only?
 * @dpy: the display
 * @s: the shadow
 * @p: the plane shown
 * @rows: the rows of the caller's layout
 * @first: set to the first row to compare
 * @count: set to the number of rows, SAMPLE_STEP apart
 *
 * Counted as a sample when it may.
 *
 * Returns: true if only the rows given need comparing.
 */
bool vfio_display_shadow_sample(VFIODisplay *dpy, VFIODisplayShadow *s,
                                const VFIODisplayPlane *p, uint32_t rows,
                                uint32_t *first, uint32_t *count);

/**
 * vfio_display_rows_same: compare sampled rows
 * @a: the first row set
 * @a_pitch: the distance of @a's rows
 * @b: the second row set
 * @b_pitch: the distance of @b's rows
 * @len: the bytes of a row to compare
 * @count: the rows
 *
 * Returns: true if all @count rows are equal.
 */
bool vfio_display_rows_same(const uint8_t *a, size_t a_pitch,
                            const uint8_t *b, size_t b_pitch, size_t len,
                            uint32_t count);

/**
 * vfio_display_shadow_show: show frame @src through shadow @s
 * @dpy: the display
 * @s: the shadow
 * @p: @src's layout (linear)
 * @src: the frame
 *
 * A new surface when the layout changed or the console shows something
 * else (ramfb, a placeholder), then only the damage.
 *
 * Returns: the pixels that changed.
 */
uint64_t vfio_display_shadow_show(VFIODisplay *dpy, VFIODisplayShadow *s,
                                  const VFIODisplayPlane *p,
                                  const uint8_t *src);

/**
 * vfio_display_shadow_snapshot: copy frame @src into @s, not shown
 * @s: the shadow, while the console shows something else
 * @p: @src's layout
 * @src: the frame
 *
 * Returns: false if @s has no pixels of @p's layout.
 */
bool vfio_display_shadow_snapshot(VFIODisplayShadow *s,
                                  const VFIODisplayPlane *p,
                                  const uint8_t *src);

/**
 * vfio_display_shadow_measure: bring @s up to @src, the console not told
 * @dpy: the display
 * @s: the shadow, after vfio_display_shadow_snapshot()
 * @p: @src's layout
 * @src: the frame
 *
 * Returns: the pixels that changed since the snapshot.
 */
uint64_t vfio_display_shadow_measure(VFIODisplay *dpy, VFIODisplayShadow *s,
                                     const VFIODisplayPlane *p,
                                     const uint8_t *src);

/**
 * vfio_display_shadow_resume: show @s again, its pixels up to date
 * @dpy: the display
 * @s: the shadow
 *
 * A surface on its pixels replaces what the console shows, all of it
 * reported.
 */
void vfio_display_shadow_resume(VFIODisplay *dpy, VFIODisplayShadow *s);

/**
 * vfio_display_shadow_reset: @s and its surface go
 * @dpy: the display
 * @s: the shadow
 */
void vfio_display_shadow_reset(VFIODisplay *dpy, VFIODisplayShadow *s);

/**
 * vfio_display_direct_end: @s's mapping is no longer shown directly
 * @dpy: the display
 * @s: the shadow of a region's mapping
 */
void vfio_display_direct_end(VFIODisplay *dpy, VFIODisplayShadow *s);

/**
 * vfio_display_direct_refresh: a refresh in direct mode
 * @dpy: the display
 * @s: the shadow of the mapping
 * @plane: the plane now
 * @src: the mapping
 *
 * While most of a frame changes at every refresh the console is shown
 * the mapping itself and told all of it changed; every DIRECT_CHECK
 * refreshes a snapshot measures the change, and under half the frame
 * the shadow is shown again.
 *
 * Returns: true if this refresh was done so.
 */
bool vfio_display_direct_refresh(VFIODisplay *dpy, VFIODisplayShadow *s,
                                 const VFIODisplayPlane *plane,
                                 const uint8_t *src);

/**
 * vfio_display_direct_busy: enter direct mode after busy refreshes?
 * @dpy: the display
 * @s: the shadow of the mapping
 * @plane: the plane shown
 * @src: the mapping
 * @pixels: the pixels this refresh damaged
 *
 * After DIRECT_ENTER refreshes in a row that damaged half the frame, for
 * a plane every console takes as it is (x8r8g8b8, pixman's stride).
 */
void vfio_display_direct_busy(VFIODisplay *dpy, VFIODisplayShadow *s,
                              const VFIODisplayPlane *plane, uint8_t *src,
                              uint64_t pixels);

/* ---- Surface layer, its lower half: display-surface.c ----------------- */

/**
 * vfio_display_show_surface: the console shows @surface from now on
 * @dpy: the display
 * @surface: a surface of ours, or NULL for the console's placeholder
 *
 * The one place that changes the console's surface: the surfaces of ours
 * it replaced, which the console freed, are forgotten.
 */
void vfio_display_show_surface(VFIODisplay *dpy, DisplaySurface *surface);

/**
 * vfio_display_surface_release: @surface is about to be freed
 * @dpy: the display
 * @surface: a surface of ours, or NULL
 *
 * If the console shows it, it is left a placeholder instead.
 */
void vfio_display_surface_release(VFIODisplay *dpy, DisplaySurface *surface);

/**
 * vfio_display_show_ramfb: no guest plane: ramfb shows
 * @dpy: the display
 *
 * Our surfaces that ramfb's replaced (and the console freed) are
 * forgotten.
 *
 * Returns: false if the device has no ramfb.
 */
bool vfio_display_show_ramfb(VFIODisplay *dpy);

/**
 * vfio_display_gl_takes_dmabufs: do the console's GL displays take
 * dma-bufs?
 * @dpy: the display
 *
 * Returns: false for GTK gl=on where EGL cannot import them.
 */
bool vfio_display_gl_takes_dmabufs(VFIODisplay *dpy);

/**
 * vfio_display_gl_scanout: the GL console scans out @b
 * @dpy: the display
 * @b: the primary plane's dma-buf
 *
 * The console is resized to @b's plane first.
 */
void vfio_display_gl_scanout(VFIODisplay *dpy, VFIODisplayBuf *b);

/**
 * vfio_display_gl_scanout_off: the console scans out no dma-buf of ours
 * @dpy: the display
 */
void vfio_display_gl_scanout_off(VFIODisplay *dpy);

/**
 * vfio_display_gl_update: the scanout of @plane is drawn again
 * @dpy: the display
 * @plane: the plane scanned out
 *
 * All of it (the ABI has no change signal); not while the GL display has
 * a draw to finish (SPICE gl=on), which the next refresh sends.
 */
void vfio_display_gl_update(VFIODisplay *dpy, const VFIODisplayPlane *plane);

/**
 * vfio_display_gl_release: the console lets go of @buf
 * @dpy: the display
 * @buf: a dma-buf about to be closed
 */
void vfio_display_gl_release(VFIODisplay *dpy, QemuDmaBuf *buf);

/**
 * vfio_display_gl_cursor_show: the GL console's cursor is a dma-buf
 * @dpy: the display
 * @buf: the cursor plane's dma-buf
 * @p: the cursor plane
 *
 * Defined again only if it changed, moved only if it moved.
 */
void vfio_display_gl_cursor_show(VFIODisplay *dpy, QemuDmaBuf *buf,
                                 const VFIODisplayPlane *p);

/**
 * vfio_display_cursor_forget: the console's cursor goes
 * @dpy: the display
 *
 * Whichever we defined, an image or a GL console's dma-buf; what shows
 * next is defined anew.
 */
void vfio_display_cursor_forget(VFIODisplay *dpy);

/**
 * vfio_display_cursor_show: the console's cursor is an image
 * @dpy: the display
 * @p: the cursor plane
 * @img: its image, one uint32_t a pixel (x8r8g8b8 with alpha)
 *
 * Defined again only if it changed (then *@img is kept, set to NULL),
 * moved only if it moved.
 */
void vfio_display_cursor_show(VFIODisplay *dpy, const VFIODisplayPlane *p,
                              uint32_t **img);

/* ---- Vendor layer: display-vendor.c, no console state ----------------- */

/**
 * vfio_display_vendor_refresh: a refresh begins
 * @dpy: the display
 *
 * Its vendor calls wait at most VFIO_DISPLAY_CALL_WAIT_MS in all.
 */
void vfio_display_vendor_refresh(VFIODisplay *dpy);

/**
 * vfio_display_vendor_forget: the device's state changed
 * @dpy: the display
 *
 * A reset, a new EDID, ramfb shown: plane queries asked before are
 * dropped when they answer, never shown.
 */
void vfio_display_vendor_forget(VFIODisplay *dpy);

/**
 * vfio_display_query: one VFIO_DEVICE_QUERY_GFX_PLANE
 * @dpy: the display
 * @flags: VFIO_GFX_PLANE_TYPE_* (with PROBE to ask what is supported)
 * @type: the plane, VFIO_DISPLAY_PLANE_PRIMARY or _CURSOR
 * @info: the answer, zeroed first
 *
 * Made on the device's vendor thread; an interrupted ioctl is tried
 * again, a few times.
 *
 * Returns: 0, -EINPROGRESS if the vendor has not answered within the
 * refresh's budget, or -errno.
 */
int vfio_display_query(VFIODisplay *dpy, uint32_t flags, uint32_t type,
                       struct vfio_device_gfx_plane_info *info);

/**
 * vfio_display_dmabuf_open: GET the dma-buf of @plane, checked
 * @dpy: the display
 * @type: the plane, VFIO_DISPLAY_PLANE_PRIMARY or _CURSOR; set to the
 * plane the answer is for
 * @plane: a plane vfio_display_plane_get() reported; set to the plane the
 * answer is for
 * @size: the dma-buf's size, set on success
 *
 * One VFIO_DEVICE_GET_GFX_DMABUF, never for an id whose fd is still
 * open (a kernel bug on mbochs), and the buffer's size checked against
 * the plane's geometry.  Faults are reported.  The vendor's late answer
 * to an earlier GET may come instead: then @type and @plane are that
 * GET's, and its fd must be kept all the same (not fetched twice).
 *
 * Returns: the new fd; -EMSGSIZE if the buffer cannot hold the plane (a
 * buffer stays that way), -EINPROGRESS if the vendor has not answered
 * yet, or the GET's -errno (a stale id, or a device error).
 */
int vfio_display_dmabuf_open(VFIODisplay *dpy, uint32_t *type,
                             VFIODisplayPlane *plane, uint64_t *size);

/**
 * vfio_display_dmabuf_check: may a fetched dma-buf show @plane?
 * @dpy: the display
 * @type: the plane, VFIO_DISPLAY_PLANE_PRIMARY or _CURSOR
 * @plane: the plane queried now
 * @fetched: the plane the dma-buf was fetched for
 * @limit: the dma-buf's size
 *
 * Not if its layout changed while its fd is open, nor if the plane's
 * size outgrew the buffer.  A fault is reported; a good plane declares
 * the plane and size faults recovered.
 *
 * Returns: true if the dma-buf shows @plane.
 */
bool vfio_display_dmabuf_check(VFIODisplay *dpy, uint32_t type,
                               const VFIODisplayPlane *plane,
                               const VFIODisplayPlane *fetched,
                               uint64_t limit);

/**
 * vfio_display_fault: a vendor fault seen at refresh
 * @dpy: the display
 * @fault: its kind
 * @fmt: the message, printf-style
 *
 * Counted and traced each time; one message per kind of fault until the
 * device recovers from it, never one per refresh.
 */
void vfio_display_fault(VFIODisplay *dpy, VFIODisplayFault fault,
                        const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/**
 * vfio_display_recovered: the device no longer shows fault @fault
 * @dpy: the display
 * @fault: its kind
 *
 * The next one is reported again.
 */
void vfio_display_recovered(VFIODisplay *dpy, VFIODisplayFault fault);

/**
 * vfio_display_plane_name: "primary" or "cursor"
 * @type: the plane
 */
const char *vfio_display_plane_name(uint32_t type);

/**
 * vfio_display_plane_get: query plane @type and check it
 * @dpy: the display
 * @dmabuf: the dma-buf kind of query, else the region kind
 * @type: the plane
 * @plane: set to the plane, checked, on success
 *
 * A failed query is reported only when the next one fails too (mbochs
 * fails the first query of every new mode).  Recovering from a plane
 * fault is the caller's to declare: it may find more wrong with it.
 *
 * Returns: 1 with @plane set, 0 if there is none, -ENODEV if the vendor
 * driver is not ready (not a fault), -EINPROGRESS if it has not answered
 * yet (not a fault: keep what is shown), another -errno after a fault.
 */
int vfio_display_plane_get(VFIODisplay *dpy, bool dmabuf, uint32_t type,
                           VFIODisplayPlane *plane);

/* ---- Vendor layer, its bottom: display-call.c ------------------------- */

/**
 * vfio_display_caller_new: the device's vendor thread
 * @name: the device's name, for messages
 * @fd: the device fd; the thread calls on a duplicate of its own
 * @notify: called in the main loop when an answer comes that no refresh
 * waited for
 * @opaque: for @notify
 * @errp: where a failure is reported
 *
 * Returns: the caller, or NULL with @errp set.
 */
VFIODisplayCaller *vfio_display_caller_new(const char *name, int fd,
                                           QEMUBHFunc *notify, void *opaque,
                                           Error **errp);

/**
 * vfio_display_caller_free: the device goes
 * @c: the caller, or NULL
 *
 * Never waits: a call blocked in the vendor driver keeps the thread and
 * its duplicate of the device fd until it returns; then both go, and a
 * dma-buf it brought is closed.  @notify is not called any more.
 */
void vfio_display_caller_free(VFIODisplayCaller *c);

/**
 * vfio_display_caller_refresh: a refresh begins its wait budget
 * @c: the caller
 */
void vfio_display_caller_refresh(VFIODisplayCaller *c);

/**
 * vfio_display_caller_forget: queries asked so far are not to be shown
 * @c: the caller
 */
void vfio_display_caller_forget(VFIODisplayCaller *c);

/**
 * vfio_display_caller_ask: make @call, or take its answer
 * @c: the caller
 * @call: the call; its answer (ret, info) on success
 *
 * A call of @call's kind that answered meanwhile is the answer (a query
 * asked before vfio_display_caller_forget() is dropped).  Otherwise
 * @call is queued, one call in flight at a time, and waited for until
 * the refresh's budget runs out.  GET has one slot for both planes: its
 * answer may be the fd of a GET asked earlier, for @call->plane as it
 * was then (the caller owns that fd).
 *
 * Returns: 0 with the answer in @call, or -EINPROGRESS.
 */
int vfio_display_caller_ask(VFIODisplayCaller *c, VFIODisplayCall *call);

/**
 * vfio_display_caller_edid: write an EDID, off the main loop
 * @c: the caller
 * @e: the EDID (its blob is copied)
 *
 * The thread takes the link down, writes @e's size and blob, and takes
 * the link up VFIO_DISPLAY_EDID_LINK_DOWN_MS after, in order with the
 * queries asked before and after.  Nobody waits for it; an EDID not yet
 * begun gives way to a newer one.  A failed write is traced.
 */
void vfio_display_caller_edid(VFIODisplayCaller *c, const VFIODisplayEdid *e);

/**
 * vfio_display_caller_stats: calls left behind, the longest one
 * @c: the caller
 * @slow_calls: set to the answers taken after their refresh went on
 * @longest_ms: set to the longest call, the one in flight included
 */
void vfio_display_caller_stats(VFIODisplayCaller *c, uint64_t *slow_calls,
                               uint64_t *longest_ms);

/* ---- Pure helpers: display-plane.c, display-convert.c ----------------- */

/**
 * vfio_display_plane_check: decode a vendor's plane
 * @info: the answer to a DMABUF or REGION query of plane @type
 * @type: the plane
 * @dmabuf: the query's kind
 * @plane: set to the plane
 * @why: set to the reason when it is refused
 *
 * Call only for a plane that exists (drm_format and size non-zero).
 *
 * Returns: false for a plane not to be shown.
 */
bool vfio_display_plane_check(const struct vfio_device_gfx_plane_info *info,
                              uint32_t type, bool dmabuf,
                              VFIODisplayPlane *plane, const char **why);

/**
 * vfio_display_plane_fits: does @plane lie inside @limit?
 * @plane: a checked plane
 * @limit: the size of its region or dma-buf
 */
bool vfio_display_plane_fits(const VFIODisplayPlane *plane, uint64_t limit);

/**
 * vfio_display_plane_same: the same pixel layout?
 * @a: a plane
 * @b: another
 *
 * Which buffer, the position and the hotspot aside.
 */
bool vfio_display_plane_same(const VFIODisplayPlane *a,
                             const VFIODisplayPlane *b);

/**
 * vfio_display_detile: an Intel X, Y or Yf tiled plane to linear
 * @plane: its layout
 * @src: the tiled bytes
 * @dst: the linear frame, at @plane's stride
 */
void vfio_display_detile(const VFIODisplayPlane *plane, const uint8_t *src,
                         uint8_t *dst);

/**
 * vfio_display_convert_rect: a rectangle of a plane to x8r8g8b8
 * @p: the plane's layout
 * @src: its pixels
 * @src_pitch: the distance of @src's rows, a multiple of 4
 * @dst: the x8r8g8b8 frame
 * @dst_pitch: the distance of @dst's rows
 * @x: the rectangle's left column
 * @y: its top row
 * @w: its width
 * @h: its height
 */
void vfio_display_convert_rect(const VFIODisplayPlane *p, const uint8_t *src,
                               size_t src_pitch, uint32_t *dst,
                               size_t dst_pitch, uint32_t x, uint32_t y,
                               uint32_t w, uint32_t h);

#endif
