/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: the core.  Probe (dma-buf first, then region), the
 * console, ramfb, fault reporting, reset, finalize and the vmstate; the
 * per-refresh work is in display-dmabuf.c and display-region.c.
 */
#include "qemu/osdep.h"
#include <sys/ioctl.h>

#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "migration/vmstate.h"
#include "pci.h"
#include "vfio-display.h"
#include "trace.h"

/* an interrupted ioctl is tried again, a few times: not a device fault */
#define VFIO_DISPLAY_EINTR_TRIES 3

/* one VFIO_DEVICE_QUERY_GFX_PLANE; 0 or -errno */
int vfio_display_query(VFIODisplay *dpy, uint32_t flags, uint32_t type,
                       struct vfio_device_gfx_plane_info *info)
{
    int ret, tries = 0;

    do {
        memset(info, 0, sizeof(*info));
        info->argsz = sizeof(*info);
        info->flags = flags;
        info->drm_plane_type = type;
        ret = ioctl(dpy->vdev->vbasedev.fd, VFIO_DEVICE_QUERY_GFX_PLANE, info);
        ret = ret < 0 ? -errno : 0;
    } while (ret == -EINTR && ++tries < VFIO_DISPLAY_EINTR_TRIES);
    trace_vfio_display_query(dpy->vdev->vbasedev.name, flags, type, ret,
                             info->drm_format, info->width, info->height);
    return ret;
}

/* one VFIO_DEVICE_GET_GFX_DMABUF: the new fd, or -errno */
int vfio_display_get_dmabuf(VFIODisplay *dpy, uint32_t id)
{
    int fd, tries = 0;

    do {
        fd = ioctl(dpy->vdev->vbasedev.fd, VFIO_DEVICE_GET_GFX_DMABUF, &id);
        fd = fd < 0 ? -errno : fd;
    } while (fd == -EINTR && ++tries < VFIO_DISPLAY_EINTR_TRIES);
    return fd;
}

/*
 * A vendor fault seen at refresh: one message per kind of fault until the
 * device recovers from it, never one per refresh.
 */
void vfio_display_fault(VFIODisplay *dpy, VFIODisplayFault fault,
                        const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    dpy->stats.faults++;
    trace_vfio_display_fault(dpy->vdev->vbasedev.name, fault, msg);
    if (!dpy->faulted[fault]) {
        dpy->faulted[fault] = true;
        warn_report("vfio %s: display: %s", dpy->vdev->vbasedev.name, msg);
    }
}

void vfio_display_recovered(VFIODisplay *dpy, VFIODisplayFault fault)
{
    dpy->faulted[fault] = false;
    if (fault == VFIO_DISPLAY_FAULT_QUERY) {
        dpy->query_failures[0] = 0;
    } else if (fault == VFIO_DISPLAY_FAULT_QUERY_CURSOR) {
        dpy->query_failures[1] = 0;
    }
}

/*
 * A query of plane @type failed.  Reported only when the next one fails
 * too: mbochs fails the first query of every new mode with ENOMEM (its
 * mbochs_query_gfx_plane drops the buffer it just allocated).
 */
static void vfio_display_query_failed(VFIODisplay *dpy, uint32_t type,
                                      int err)
{
    bool cursor = type == VFIO_DISPLAY_PLANE_CURSOR;
    const char *plane = vfio_display_plane_name(type);

    if (++dpy->query_failures[cursor] < VFIO_DISPLAY_QUERY_PATIENCE) {
        trace_vfio_display_query_retry(dpy->vdev->vbasedev.name, plane, err);
        return;
    }
    vfio_display_fault(dpy, cursor ? VFIO_DISPLAY_FAULT_QUERY_CURSOR :
                       VFIO_DISPLAY_FAULT_QUERY, "query of the %s plane: %s",
                       plane, strerror(-err));
}

const char *vfio_display_plane_name(uint32_t type)
{
    return type == VFIO_DISPLAY_PLANE_CURSOR ? "cursor" : "primary";
}

/*
 * Query plane @type (of the dma-buf or the region kind) and check it:
 * 1 with @plane set, 0 if there is none, -ENODEV if the vendor driver is
 * not ready (not a fault: keep what is shown), other -errno after a
 * fault, reported.  Recovering from a plane fault is the caller's to
 * declare: it may find more wrong with it.
 */
int vfio_display_plane_get(VFIODisplay *dpy, bool dmabuf, uint32_t type,
                           VFIODisplayPlane *plane)
{
    bool cursor = type == VFIO_DISPLAY_PLANE_CURSOR;
    VFIODisplayFault kind = cursor ? VFIO_DISPLAY_FAULT_CURSOR :
                                     VFIO_DISPLAY_FAULT_PLANE;
    struct vfio_device_gfx_plane_info info;
    const char *why;
    int ret;

    ret = vfio_display_query(dpy, dmabuf ? VFIO_GFX_PLANE_TYPE_DMABUF :
                             VFIO_GFX_PLANE_TYPE_REGION, type, &info);
    if (ret == -ENODEV) {
        return ret;             /* the vendor driver is not ready yet */
    }
    if (ret < 0) {
        vfio_display_query_failed(dpy, type, ret);
        return ret;
    }
    vfio_display_recovered(dpy, cursor ? VFIO_DISPLAY_FAULT_QUERY_CURSOR :
                                         VFIO_DISPLAY_FAULT_QUERY);
    if (!info.drm_format || !info.size) {
        return 0;
    }
    if (!vfio_display_plane_check(&info, type, dmabuf, plane, &why)) {
        vfio_display_fault(dpy, kind, "%s plane not shown: %s (format 0x%x "
                           "mod 0x%" PRIx64 " %ux%u stride %u size %u %s %u)",
                           vfio_display_plane_name(type), why,
                           info.drm_format, (uint64_t)info.drm_format_mod,
                           info.width,
                           info.height, info.stride, info.size,
                           dmabuf ? "dma-buf id" : "region",
                           dmabuf ? info.dmabuf_id : info.region_index);
        return -EINVAL;
    }
    return 1;
}

/* the console shows @surface: leave it a placeholder before it goes */
void vfio_display_surface_release(VFIODisplay *dpy, DisplaySurface *surface)
{
    if (surface && dpy->con && qemu_console_surface(dpy->con) == surface) {
        dpy_gfx_replace_surface(dpy->con, NULL);
    }
}

/* no guest plane: ramfb shows, if the device has one; true if it did */
bool vfio_display_show_ramfb(VFIODisplay *dpy)
{
    if (!dpy->ramfb) {
        return false;
    }
    ramfb_display_update(dpy->con, dpy->ramfb);
    /* ramfb's surface, once the guest set it up, replaced (freed) ours */
    if (qemu_console_surface(dpy->con) != dpy->region.shadow.surface) {
        dpy->region.shadow.surface = NULL;
    }
    if (qemu_console_surface(dpy->con) != dpy->region.direct) {
        dpy->region.direct = NULL;
    }
    if (qemu_console_surface(dpy->con) != dpy->readback.shadow.surface) {
        dpy->readback.shadow.surface = NULL;
    }
    return true;
}

static bool vfio_display_probe_flag(VFIOPCIDevice *vdev, uint32_t kind)
{
    struct vfio_device_gfx_plane_info probe = {
        .argsz = sizeof(probe),
        .flags = VFIO_GFX_PLANE_TYPE_PROBE | kind,
    };

    return ioctl(vdev->vbasedev.fd, VFIO_DEVICE_QUERY_GFX_PLANE, &probe) == 0;
}

static const struct {
    const char *name;
    size_t offset;
} vfio_display_counters[] = {
#define COUNTER(name, field) { name, offsetof(VFIODisplayCounters, field) }
    COUNTER("refreshes", refreshes),
    COUNTER("imports", imports),
    COUNTER("drops", drops),
    COUNTER("readbacks", readbacks),
    COUNTER("samples", samples),
    COUNTER("bytes-read", bytes_read),
    COUNTER("bytes-copied", bytes_copied),
    COUNTER("updates", updates),
    COUNTER("gl-updates", gl_updates),
    COUNTER("direct", direct),
    COUNTER("damage-pixels", damage_pixels),
    COUNTER("faults", faults),
#undef COUNTER
};

/* "display-stats": the counters, as a struct of uint64 */
static void vfio_display_stats_get(Object *obj, Visitor *v, const char *name,
                                   void *opaque, Error **errp)
{
    VFIOPCIDevice *vdev = VFIO_PCI(obj);
    VFIODisplayCounters stats = {};
    bool ok = false;
    size_t i;

    if (vdev->dpy) {
        stats = vdev->dpy->stats;
    }
    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return;
    }
    for (i = 0; i < ARRAY_SIZE(vfio_display_counters); i++) {
        uint64_t *c = (uint64_t *)((char *)&stats +
                                   vfio_display_counters[i].offset);

        if (!visit_type_uint64(v, vfio_display_counters[i].name, c, errp)) {
            goto out;
        }
    }
    ok = true;
out:
    if (ok) {
        visit_check_struct(v, errp);
    }
    visit_end_struct(v, NULL);
}

static bool vfio_display_init(VFIOPCIDevice *vdev, const GraphicHwOps *ops,
                              Error **errp)
{
    VFIODisplay *dpy = g_new0(VFIODisplay, 1);

    dpy->vdev = vdev;
    QTAILQ_INIT(&dpy->dmabuf.bufs);
    vdev->dpy = dpy;
    object_property_add(OBJECT(vdev), "display-stats", "VFIODisplayStats",
                        vfio_display_stats_get, NULL, NULL, NULL);
    object_property_set_description(OBJECT(vdev), "display-stats",
                                    "what the vfio display did: refreshes, "
                                    "dma-bufs imported and dropped, "
                                    "read-backs, refreshes that compared "
                                    "sampled rows, bytes read and copied, "
                                    "rectangles updated, GL updates, "
                                    "refreshes showing a region directly, "
                                    "damaged pixels, "
                                    "vendor faults");
    dpy->con = graphic_console_init(DEVICE(vdev), 0, ops, dpy);
    if (vdev->enable_ramfb) {
        dpy->ramfb = ramfb_setup(errp);
        if (!dpy->ramfb) {
            return false;
        }
    }
    return vfio_display_edid_init(dpy, errp);
}

bool vfio_display_probe(VFIOPCIDevice *vdev, Error **errp)
{
    if (vfio_display_probe_flag(vdev, VFIO_GFX_PLANE_TYPE_DMABUF)) {
        /* no GL display: dma-bufs are read back into a surface */
        if (!display_opengl) {
            trace_vfio_display_probe(vdev->vbasedev.name, "dmabuf-readback");
            if (!vfio_display_init(vdev, &vfio_display_readback_ops, errp)) {
                return false;
            }
            vdev->dpy->readback.active = true;
            return true;
        }
        trace_vfio_display_probe(vdev->vbasedev.name, "dmabuf");
        return vfio_display_init(vdev, &vfio_display_dmabuf_ops, errp);
    }
    if (vfio_display_probe_flag(vdev, VFIO_GFX_PLANE_TYPE_REGION)) {
        trace_vfio_display_probe(vdev->vbasedev.name, "region");
        return vfio_display_init(vdev, &vfio_display_region_ops, errp);
    }
    trace_vfio_display_probe(vdev->vbasedev.name, "none");
    if (vdev->display == ON_OFF_AUTO_AUTO) {
        return true;
    }
    error_setg(errp, "vfio %s: display=on, but the device offers neither a "
               "dma-buf nor a region display", vdev->vbasedev.name);
    return false;
}

bool vfio_display_has_edid(VFIOPCIDevice *vdev)
{
    return vdev->dpy && vdev->dpy->edid.info;
}

/* device reset: the guest's planes are gone; drop what is shown */
void vfio_display_reset(VFIOPCIDevice *vdev)
{
    VFIODisplay *dpy = vdev->dpy;

    if (!dpy || !dpy->con) {
        return;
    }
    trace_vfio_display_reset(vdev->vbasedev.name);
    vfio_display_dmabuf_reset(dpy);
    vfio_display_region_reset(dpy);
    /*
     * A vendor fault outlives the guest's reset: it is reported again only
     * once the device has recovered from it (vfio_display_recovered).
     */
    dpy->guest_scanout = false;
}

void vfio_display_finalize(VFIOPCIDevice *vdev)
{
    VFIODisplay *dpy = vdev->dpy;

    if (!dpy) {
        return;
    }
    vfio_display_dmabuf_finalize(dpy);
    vfio_display_region_reset(dpy);
    if (dpy->con) {
        graphic_console_close(dpy->con);
    }
    vfio_display_edid_exit(dpy);
    egl_readback_free(dpy->readback.egl);
    g_free(dpy->readback.egl_error);
    g_free(dpy);
    vdev->dpy = NULL;
}

static bool vfio_display_migrate_needed(void *opaque)
{
    VFIODisplay *dpy = opaque;

    /* pci.c migrates this only with ramfb (vfio_display_migration_needed) */
    return dpy->ramfb != NULL;
}

/* as upstream's "VFIODisplay" section: the ramfb state, nothing else */
const VMStateDescription vfio_display_vmstate = {
    .name = "VFIODisplay",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = vfio_display_migrate_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_POINTER(ramfb, VFIODisplay, ramfb_vmstate, RAMFBState),
        VMSTATE_END_OF_LIST(),
    }
};
