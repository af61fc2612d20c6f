/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: the core.  Probe (dma-buf first, then region), the
 * console, reset, finalize, the vmstate and the display-stats counters;
 * the per-refresh work is in display-dmabuf.c and display-region.c.
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
    COUNTER("flips", flips),
    COUNTER("readbacks", readbacks),
    COUNTER("samples", samples),
    COUNTER("bytes-read", bytes_read),
    COUNTER("bytes-copied", bytes_copied),
    COUNTER("updates", updates),
    COUNTER("gl-updates", gl_updates),
    COUNTER("direct", direct),
    COUNTER("damage-pixels", damage_pixels),
    COUNTER("faults", faults),
    COUNTER("slow-calls", slow_calls),
    COUNTER("longest-wait-ms", longest_wait_ms),
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
        vfio_display_caller_stats(vdev->dpy->caller, &stats.slow_calls,
                                  &stats.longest_wait_ms);
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

/* a vendor's answer came after its refresh went on: show it now */
static void vfio_display_answered(void *opaque)
{
    VFIODisplay *dpy = opaque;

    graphic_hw_update(dpy->con);
}

static bool vfio_display_init(VFIOPCIDevice *vdev, const GraphicHwOps *ops,
                              Error **errp)
{
    VFIODisplay *dpy = g_new0(VFIODisplay, 1);

    dpy->vdev = vdev;
    QTAILQ_INIT(&dpy->dmabuf.bufs);
    vdev->dpy = dpy;
    dpy->caller = vfio_display_caller_new(vdev->vbasedev.name,
                                          vdev->vbasedev.fd,
                                          vfio_display_answered, dpy, errp);
    if (!dpy->caller) {
        return false;
    }
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
                                    "vendor faults, vendor calls a refresh "
                                    "left behind and the longest one (ms)");
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
    /* a query asked before the reset is not shown */
    vfio_display_vendor_forget(dpy);
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
    /* never waits for a call blocked in the vendor driver */
    vfio_display_caller_free(dpy->caller);
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
