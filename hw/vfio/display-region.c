/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vfio mdev display: the region path, for devices whose plane lies in a
 * device region (mdpy).  The region is mapped once (a region that cannot
 * be mapped is read with pread) and each refresh brings the console's
 * shadow of it up to date, reporting only the damage.
 */
#include "qemu/osdep.h"

#include "qemu/error-report.h"
#include "pci.h"
#include "vfio-display.h"
#include "trace.h"

/* the console stops showing the mapping (before it goes) */
static void vfio_display_region_unmap(VFIODisplay *dpy)
{
    vfio_display_direct_end(dpy, &dpy->region.shadow);
    if (dpy->region.buffer.size) {
        vfio_region_exit(&dpy->region.buffer);
        vfio_region_finalize(&dpy->region.buffer);
        memset(&dpy->region.buffer, 0, sizeof(dpy->region.buffer));
    }
    g_clear_pointer(&dpy->region.copy, g_free);
    dpy->region.mapped = false;
}

/*
 * Set up the region @plane lies in: mmap, else pread; false after a
 * fault.  Whether the plane fits is the caller's check, every refresh.
 */
static bool vfio_display_region_map(VFIODisplay *dpy,
                                    const VFIODisplayPlane *plane)
{
    VFIODevice *vbasedev = &dpy->vdev->vbasedev;
    VFIORegion *r = &dpy->region.buffer;
    int ret;

    /*
     * Not checked against num_regions: mdpy's plane is in region 16
     * (MDPY_DISPLAY_REGION), past the 9 it counts; GET_REGION_INFO judges.
     */
    if (vfio_region_setup(OBJECT(dpy->vdev), vbasedev, r, plane->id,
                          "vfio-display") < 0) {
        vfio_display_fault(dpy, VFIO_DISPLAY_FAULT_REGION,
                           "plane in region %u, which the device does not "
                           "have", plane->id);
        return false;
    }
    if (!(r->flags & VFIO_REGION_INFO_FLAG_READ)) {
        vfio_display_fault(dpy, VFIO_DISPLAY_FAULT_REGION,
                           "plane in region %u, which cannot be read "
                           "(flags 0x%x)", plane->id, r->flags);
        vfio_display_region_unmap(dpy);
        return false;
    }
    ret = vfio_region_mmap(r);
    dpy->region.mapped = !ret && r->nr_mmaps && r->mmaps[0].mmap &&
                         r->mmaps[0].offset == 0 &&
                         r->mmaps[0].size >= plane->min_size;
    trace_vfio_display_region_setup(vbasedev->name, plane->id,
                                    dpy->region.mapped);
    return true;
}

/* a pread of the plane into our copy; false after a fault */
static bool vfio_display_region_read(VFIODisplay *dpy,
                                     const VFIODisplayPlane *plane)
{
    VFIORegion *r = &dpy->region.buffer;
    ssize_t n;

    if (!dpy->region.copy) {
        dpy->region.copy = g_try_malloc0(plane->min_size);
    }
    if (!dpy->region.copy) {
        vfio_display_fault(dpy, VFIO_DISPLAY_FAULT_MEMORY, "no memory to "
                           "read a %ux%u plane", plane->width, plane->height);
        return false;
    }
    n = pread(dpy->vdev->vbasedev.fd, dpy->region.copy, plane->min_size,
              r->fd_offset);
    if (n != plane->min_size) {
        vfio_display_fault(dpy, VFIO_DISPLAY_FAULT_REGION,
                           "pread of the plane in region %u: %s", plane->id,
                           n < 0 ? strerror(errno) : "short read");
        return false;
    }
    return true;
}

/*
 * On a still screen, compare sampled rows of the mapped plane with the
 * shadow: true if this refresh has nothing more to do.
 */
static bool vfio_display_region_still(VFIODisplay *dpy,
                                      const VFIODisplayPlane *plane)
{
    VFIODisplayShadow *s = &dpy->region.shadow;
    const uint8_t *src = dpy->region.buffer.mmaps[0].mmap;
    size_t pitch = (size_t)plane->stride * VFIO_DISPLAY_SAMPLE_STEP;
    size_t len = (size_t)plane->width * plane->bpp;
    uint32_t first, count;

    if (!vfio_display_shadow_sample(dpy, s, plane, plane->height, &first,
                                    &count)) {
        return false;
    }
    dpy->stats.bytes_read += count * len;
    return vfio_display_rows_same(src + (size_t)first * plane->stride, pitch,
                                  s->pixels + first * s->pitch,
                                  s->pitch * VFIO_DISPLAY_SAMPLE_STEP, len,
                                  count);
}

/*
 * The region plane now: false if there is none to show (ramfb shows
 * instead, if the guest has no plane up) or after a fault (the last
 * frame stays); while the vendor has not answered, the mapped plane
 * shown (pread ones wait: a read is a vendor call).
 */
static bool vfio_display_region_plane(VFIODisplay *dpy,
                                      VFIODisplayPlane *plane)
{
    int ret = vfio_display_plane_get(dpy, false, VFIO_DISPLAY_PLANE_PRIMARY,
                                     plane);

    if (ret == -EINPROGRESS && dpy->region.mapped && dpy->guest_scanout) {
        /* not answered yet: the mapped plane shown, as it was */
        *plane = dpy->region.plane;
        return true;
    }
    if (ret == 0 && dpy->guest_scanout) {
        /* handed over to ramfb: a query asked before is not shown */
        vfio_display_vendor_forget(dpy);
        dpy->guest_scanout = false;
    }
    if (ret == 0 || (ret == -ENODEV && !dpy->guest_scanout)) {
        vfio_display_show_ramfb(dpy);
    }
    if (ret <= 0) {
        return false;
    }
    vfio_display_recovered(dpy, VFIO_DISPLAY_FAULT_PLANE);
    return true;
}

/* @plane's region set up, and @plane inside it, before a byte is read */
static bool vfio_display_region_ready(VFIODisplay *dpy,
                                      const VFIODisplayPlane *plane)
{
    if (dpy->region.buffer.size && (dpy->region.plane.id != plane->id ||
        !vfio_display_plane_same(&dpy->region.plane, plane))) {
        vfio_display_region_unmap(dpy);
    }
    if (!dpy->region.buffer.size) {
        if (!vfio_display_region_map(dpy, plane)) {
            return false;
        }
        dpy->region.plane = *plane;
    }
    /* min_size <= size <= the region */
    if (!vfio_display_plane_fits(plane, dpy->region.buffer.size)) {
        vfio_display_fault(dpy, VFIO_DISPLAY_FAULT_REGION,
                           "plane of %" PRIu64 " bytes in region %u of %zu "
                           "bytes", plane->size, plane->id,
                           dpy->region.buffer.size);
        return false;
    }
    vfio_display_recovered(dpy, VFIO_DISPLAY_FAULT_REGION);
    return true;
}

/* the frame of @plane, read or mapped, through the shadow */
static void vfio_display_region_show(VFIODisplay *dpy,
                                     const VFIODisplayPlane *plane)
{
    DisplaySurface *shown = dpy->region.shadow.surface;
    uint64_t pixels;

    pixels = vfio_display_shadow_show(dpy, &dpy->region.shadow, plane,
                                      dpy->region.mapped ?
                                      dpy->region.buffer.mmaps[0].mmap :
                                      dpy->region.copy);
    if (dpy->region.mapped) {
        /* a new surface is all damage, but says nothing of the guest's */
        vfio_display_direct_busy(dpy, &dpy->region.shadow, plane,
                                 dpy->region.buffer.mmaps[0].mmap,
                                 shown == dpy->region.shadow.surface ?
                                 pixels : 0);
    }
}

static void vfio_display_region_update(void *opaque)
{
    VFIODisplay *dpy = opaque;
    VFIODisplayPlane plane;

    dpy->stats.refreshes++;
    vfio_display_vendor_refresh(dpy);
    if (!vfio_display_region_plane(dpy, &plane) ||
        !vfio_display_region_ready(dpy, &plane)) {
        return;
    }
    if (dpy->region.mapped &&
        (vfio_display_direct_refresh(dpy, &dpy->region.shadow, &plane,
                                     dpy->region.buffer.mmaps[0].mmap) ||
         vfio_display_region_still(dpy, &plane))) {
        return;
    }
    if (!dpy->region.mapped && !vfio_display_region_read(dpy, &plane)) {
        return;
    }
    dpy->stats.bytes_read += plane.min_size;
    vfio_display_region_show(dpy, &plane);
    dpy->guest_scanout = true;
}

const GraphicHwOps vfio_display_region_ops = {
    .gfx_update = vfio_display_region_update,
    .ui_info = vfio_display_edid_ui_info,
};

void vfio_display_region_reset(VFIODisplay *dpy)
{
    vfio_display_direct_end(dpy, &dpy->region.shadow);
    vfio_display_shadow_reset(dpy, &dpy->region.shadow);
    vfio_display_region_unmap(dpy);
}
