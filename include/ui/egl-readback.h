/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reading a dma-buf back into memory through GL import, for displays
 * that have no GL of their own (VNC, SPICE 2D, screendump): vendor
 * dma-bufs cannot be mmapped by the CPU, but a GL driver imports them.
 */
#ifndef UI_EGL_READBACK_H
#define UI_EGL_READBACK_H

#include "ui/console.h"
#include "ui/dmabuf.h"

typedef struct EglReadback EglReadback;

/*
 * A private EGL context: on the display a GL UI already uses, else on
 * Mesa's surfaceless platform (a render node's driver if there is one,
 * else a software rasterizer).  NULL with @errp set when there is no EGL
 * with dma-buf import.
 */
EglReadback *egl_readback_new(Error **errp);
void egl_readback_free(EglReadback *rb);

/*
 * Does @rb render on the CPU (Mesa's llvmpipe: no GPU)?  Such a renderer
 * reads an imported dma-buf through a CPU mapping, so it cannot show one
 * whose exporter refuses mmap (real vendor dma-bufs), and GL displays on
 * the same machine cannot either.
 */
bool egl_readback_software(EglReadback *rb);

/*
 * Does @rb's EGL import a dma-buf of @fourcc with @modifier into a
 * GL_TEXTURE_2D, as GL consoles bind them (eglQueryDmaBufModifiersEXT)?
 */
bool egl_readback_importable(EglReadback *rb, uint32_t fourcc,
                             uint64_t modifier);

/*
 * Copy the first @rows rows of @stride bytes of dma-buf @fd into @dst,
 * byte for byte, whatever the buffer's format and tiling (it is imported
 * as @stride / 4 texels of 4 bytes a row).  The caller keeps @fd.  The
 * caller's EGL context stays current.  False with @errp set on failure.
 */
bool egl_readback_raw(EglReadback *rb, int fd, uint32_t stride,
                      uint32_t rows, void *dst, Error **errp);

/*
 * A dma-buf imported for reading back again and again (a display that
 * compares it every refresh): rows @first, @first + @step, @first + 2 *
 * @step... (@count of them, the last within the buffer) of @stride bytes
 * of dma-buf @fd, as raw 32-bit texels like egl_readback_raw().  The
 * import holds its own reference to the buffer.  NULL with @errp set on
 * failure.
 */
typedef struct EglReadbackImage EglReadbackImage;
EglReadbackImage *egl_readback_image_new(EglReadback *rb, int fd,
                                         uint32_t stride, uint32_t first,
                                         uint32_t step, uint32_t count,
                                         Error **errp);
/* @im's rows as they are now, packed into @dst */
bool egl_readback_image_read(EglReadback *rb, EglReadbackImage *im,
                             void *dst, Error **errp);
void egl_readback_image_free(EglReadback *rb, EglReadbackImage *im);

/*
 * @dmabuf's picture as a new pixman image: a linear buffer in a format
 * pixman knows byte for byte in that format; any other (tiled) one as
 * EGL imports and converts it.  NULL with @errp set on failure.
 */
pixman_image_t *egl_readback_dmabuf(EglReadback *rb, QemuDmaBuf *dmabuf,
                                    Error **errp);

/*
 * What console @con shows when it has no surface because a GL display
 * scans out a dma-buf (QMP screendump), read back through a private
 * context.  NULL with @errp set otherwise.
 */
pixman_image_t *egl_readback_console(QemuConsole *con, Error **errp);

#endif
